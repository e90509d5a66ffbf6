"""The search page's weight and the server's render time, measured on the demo.

Weight: the HTML of a 20-result page plus the CSS and JavaScript it loads, each gzip-compressed
as the server sends them. Render time: requests for a 20-result page, one at a time against a
live server, compared with a JSON execute of the same query and with /healthz in the same run.

    python -m bench.pages [--requests 300]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from app.services.demo import seed_demo
from app.settings import Settings
from app.web.app import create_app
from tests.servers import LiveServer, free_port


def timed(
    client: httpx.Client, method: str, url: str, count: int, **options: object
) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.request(method, url, **options)  # type: ignore[arg-type]
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text[:200]
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = Settings(data_dir=Path(tmp), public_url=f"http://127.0.0.1:{port}")
        seeded = seed_demo(settings)
        app = create_app(settings)
        with (
            LiveServer(app, port=port) as server,
            httpx.Client(base_url=server.url, headers={"Accept-Encoding": "gzip"}) as client,
        ):
            owner = {"Authorization": f"Bearer {seeded.owner_key}", "X-Namespace": seeded.namespace}
            listing = client.get("/v1/retrievers/published", headers=owner).json()
            client.patch(  # the demo's tier allows 100 a minute; a benchmark needs more
                f"/v1/retrievers/{listing['results'][0]['retriever_id']}/publish",
                headers=owner,
                json={"rate_limit_config": {"tier": "unlimited"}},
            ).raise_for_status()
            page = "/r/product-search?query=a"  # matches every product: a full page of 20
            # The page and every stylesheet and script it links, as the server sends them.
            html = client.get(page).text
            assets = {
                "HTML": [page],
                "CSS": re.findall(r'<link rel="stylesheet" href="([^"]+)"', html),
                "JavaScript": re.findall(r'<script src="([^"]+)"', html),
            }
            weights = {}
            for name, urls in assets.items():
                responses = [client.get(url) for url in urls]
                weights[name] = (
                    sum(r.num_bytes_downloaded for r in responses),
                    sum(len(r.content) for r in responses),
                )
            cards = client.get(page).text.count('<li class="card"')
            print(f"page weight of {seeded.public_name} with {cards} results (gzip as served):")
            for name, (compressed, plain) in weights.items():
                print(f"  {name:<11} {compressed / 1024:6.1f} KiB  ({plain / 1024:.1f} KiB plain)")
            total = sum(c for c, _ in weights.values())
            print(f"  {'total':<11} {total / 1024:6.1f} KiB")

            rows = [
                ("GET /healthz (baseline)", timed(client, "GET", "/healthz", args.requests)),
                (
                    "POST execute, 20 results (JSON)",
                    timed(
                        client,
                        "POST",
                        f"/v1/public/retrievers/{seeded.public_name}/execute",
                        args.requests,
                        json={"inputs": {"query": "a"}, "limit": 20},
                    ),
                ),
                ("GET page, 20 results (HTML)", timed(client, "GET", page, args.requests)),
            ]
            print(f"\n{args.requests} sequential requests each, one server process:")
            print(f"  {'request':<34} {'median ms':>10} {'p99 ms':>8}")
            for name, samples in rows:
                ordered = sorted(samples)
                print(
                    f"  {name:<34} {statistics.median(samples):>10.2f} "
                    f"{ordered[int(0.99 * len(ordered))]:>8.2f}"
                )


if __name__ == "__main__":
    main()
