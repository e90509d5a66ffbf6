"""A fast stand-in for a Mixpeek execute endpoint: 20 documents, always the same bytes.

python -m bench.upstream --port 9000
"""

from __future__ import annotations

import argparse

import orjson
from aiohttp import web

DOCUMENTS = [
    {
        "document_id": f"doc_{n}",
        "score": round(1 - n / 40, 3),
        "title": f"Product {n}",
        "description": "A product with a description long enough to look like a real one.",
        "price": 10 + n,
        "image_url": f"/static/demo/products/{'tent' if n % 2 else 'kettle'}.svg",
        "internal_cost": n,  # never exposed
        "embedding": [0.1] * 16,  # never exposed
    }
    for n in range(20)
]
BODY = orjson.dumps(
    {
        "execution_id": "exe_upstream",
        "status": "completed",
        "documents": DOCUMENTS,
        "pagination": {
            "method": "offset",
            "page_number": 1,
            "page_size": 20,
            "total": 20,
            "has_next": False,
        },
    }
)


async def execute(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=BODY, content_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_post("/v1/retrievers/{rid}/execute", execute)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
