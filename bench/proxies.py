"""The two baselines: a passthrough proxy to the upstream, with nothing else to do.

python -m bench.proxies httpx --port 9001 --upstream http://127.0.0.1:9000
python -m bench.proxies aiohttp --port 9002 --upstream http://127.0.0.1:9000
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

UPSTREAM_PATH = "/v1/retrievers/ret_bench/execute"


def httpx_app(upstream: str):  # type: ignore[no-untyped-def]
    """Starlette forwarding with a default httpx.AsyncClient: the naive stack."""
    import httpx
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    client = httpx.AsyncClient()

    async def forward(request: Request) -> Response:
        answer = await client.post(
            upstream + UPSTREAM_PATH,
            content=await request.body(),
            headers={"Content-Type": "application/json"},
        )
        return Response(
            answer.content, status_code=answer.status_code, media_type="application/json"
        )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return Starlette(routes=[Route("/execute", forward, methods=["POST"])], lifespan=lifespan)


def run_aiohttp(port: int, upstream: str) -> None:
    """aiohttp server forwarding with an aiohttp ClientSession: the fast Python stack."""
    from aiohttp import ClientSession, TCPConnector, web

    async def forward(request: web.Request) -> web.Response:
        session: ClientSession = request.app["session"]
        async with session.post(
            upstream + UPSTREAM_PATH,
            data=await request.read(),
            headers={"Content-Type": "application/json"},
        ) as answer:
            return web.Response(
                body=await answer.read(), status=answer.status, content_type="application/json"
            )

    async def session(app: web.Application) -> AsyncIterator[None]:
        app["session"] = ClientSession(connector=TCPConnector(limit=200))
        yield
        await app["session"].close()

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_post("/execute", forward)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["httpx", "aiohttp"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    if args.kind == "aiohttp":
        run_aiohttp(args.port, args.upstream)
    else:
        import uvicorn

        uvicorn.run(
            httpx_app(args.upstream),
            host="127.0.0.1",
            port=args.port,
            log_level="warning",
            access_log=False,
        )


if __name__ == "__main__":
    main()
