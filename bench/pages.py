"""The search page's weight and the server's render time, measured on the demo.

Weight: the HTML of a 20-result page plus the CSS and JavaScript it loads, each gzip-compressed
as the server sends them. Render time: requests for a 20-result page, one at a time against a
live server, compared with a JSON execute of the same query and with /healthz in the same run.

A page of three tabs too (`/p/{slug}`, three retrievers over the demo's catalog, each
searching other fields): its All tab's weight, and the federated search of the three
(`POST /v1/public/pages/{slug}/search`) against each tab's own execute in the same run: the
tabs run concurrently, so the federated call should take little more than the slowest tab.
Over this server's own engine a search is work for the CPU (mostly Python, under the
interpreter's lock, even on the threads a federated search sends each tab to), and three of
them take about as long together as one after another; over upstreams (three here,
answering in 20, 40 and 60 ms) the waits overlap.

    python -m bench.pages [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.services.demo import DEMO_COLLECTION, seed_demo
from app.settings import Settings
from app.web.app import create_app
from bench.upstream import BODY as UPSTREAM_BODY
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
        settings = Settings(
            data_dir=Path(tmp),
            public_url=f"http://127.0.0.1:{port}",
            upstream_allow=["127.0.0.1"],
        )
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

            tabbed_rows = three_tabs(client, owner, seeded.public_name, args.requests)
            with LiveServer(slow_upstreams()) as upstream:
                upstream_rows = three_upstreams(client, owner, upstream.url, args.requests // 3)
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
                *tabbed_rows,
                *upstream_rows,
            ]
            print(f"\n{args.requests} sequential requests each (a third for upstreams):")
            print(f"  {'request':<34} {'median ms':>10} {'p99 ms':>8}")
            for name, samples in rows:
                ordered = sorted(samples)
                print(
                    f"  {name:<34} {statistics.median(samples):>10.2f} "
                    f"{ordered[int(0.99 * len(ordered))]:>8.2f}"
                )
            for label, measured in (("engine", tabbed_rows), ("upstreams", upstream_rows)):
                tabs = [statistics.median(samples) for name, samples in measured[:3]]
                merged = statistics.median(measured[3][1])
                print(
                    f"federated over the {label}: {merged / max(tabs):.2f}x the slowest tab, "
                    f"{merged / sum(tabs):.2f}x the three one after another (medians)"
                )


UPSTREAM_DELAYS = {"fast": 0.02, "middle": 0.04, "slow": 0.06}  # seconds before answering


def slow_upstreams() -> Starlette:
    """A Mixpeek execute endpoint per retriever id, each answering after its delay."""

    async def execute(request: Request) -> Response:
        await request.body()
        await asyncio.sleep(UPSTREAM_DELAYS[request.path_params["rid"]])
        return Response(UPSTREAM_BODY, media_type="application/json")

    return Starlette(routes=[Route("/v1/retrievers/{rid}/execute", execute, methods=["POST"])])


def three_upstreams(
    client: httpx.Client, owner: dict[str, str], base_url: str, count: int
) -> list[tuple[str, list[float]]]:
    """A page of three tabs, each over an upstream of its own speed: each tab's execute and
    the federated search, timed."""
    client.post(
        "/v1/organizations/secrets",
        headers=owner,
        json={"secret_name": "bench-up", "secret_value": "k"},
    ).raise_for_status()
    config = {
        "title": "Upstream",
        "inputs": [{"field_name": "query", "label": "Q", "field_schema": {"type": "string"}}],
        "exposed_fields": ["title", "description", "price"],
    }
    ids = []
    for rid in UPSTREAM_DELAYS:
        backend = {
            "type": "mixpeek",
            "base_url": base_url,
            "retriever_id": rid,
            "namespace": "n",
            "api_key_secret_name": "bench-up",
        }
        created = client.post(
            "/v1/retrievers",
            headers=owner,
            json={"retriever_name": f"bench-up-{rid}", "backend": backend},
        )
        created.raise_for_status()
        ids.append(created.json()["retriever_id"])
        client.post(
            f"/v1/retrievers/{ids[-1]}/publish",
            headers=owner,
            json={
                "public_name": f"bench-up-{rid}",
                "display_config": config,
                "rate_limit_config": {"tier": "unlimited"},
            },
        ).raise_for_status()
    client.post(
        "/v1/pages",
        headers=owner,
        json={
            "slug": "bench-upstreams",
            "meta": {"title": "Three upstreams"},
            "tabs": [
                {"tab_id": rid, "label": rid.title(), "retriever_id": retriever_id}
                for rid, retriever_id in zip(UPSTREAM_DELAYS, ids, strict=True)
            ],
        },
    ).raise_for_status()
    body = {"inputs": {"query": "a"}, "limit": 20}
    rows = [
        (
            f"POST execute, upstream {rid} (JSON)",
            timed(
                client, "POST", f"/v1/public/retrievers/bench-up-{rid}/execute", count, json=body
            ),
        )
        for rid in UPSTREAM_DELAYS
    ]
    url = "/v1/public/pages/bench-upstreams/search"
    federated = {"query": "a", "page_size": 20}
    rows.append(("POST federated, 3 upstreams", timed(client, "POST", url, count, json=federated)))
    return rows


TABS_SLUG = "bench-tabs"
# The three tabs: what each retriever over the demo's catalog searches.
TABS = {
    "names": ["title"],
    "words": ["description"],
    "kinds": ["brand", "category", "tags"],
}


# The one input of a plain search page.
QUERY_INPUT = {"field_name": "query", "label": "Search", "field_schema": {"type": "string"}}


def published(
    client: httpx.Client,
    owner: dict[str, str],
    name: str,
    collection: str,
    fields: list[str],
    config: dict[str, Any],
) -> str:
    """A retriever `name` over the embedded engine's `collection` searching `fields`,
    published as `name` with the display `config` and no rate limit; its id. `client`: an
    httpx client (or Starlette's TestClient) whose base URL is the server's."""
    created = client.post(
        "/v1/retrievers",
        headers=owner,
        json={
            "retriever_name": name,
            "backend": {"type": "local", "collection": collection, "search_fields": fields},
        },
    )
    created.raise_for_status()
    retriever_id: str = created.json()["retriever_id"]
    client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner,
        json={
            "public_name": name,
            "display_config": config,
            "rate_limit_config": {"tier": "unlimited"},
        },
    ).raise_for_status()
    return retriever_id


def make_three_tabs(client: httpx.Client, owner: dict[str, str], public_name: str) -> str:
    """A page of three tabs over the demo's catalog (its All tab on, 20 a tab): its slug."""
    config = client.get(f"/v1/public/retrievers/{public_name}/config").json()["display_config"]
    ids = [
        published(client, owner, f"bench-{name}", DEMO_COLLECTION, fields, config)
        for name, fields in TABS.items()
    ]
    client.post(
        "/v1/pages",
        headers=owner,
        json={
            "slug": TABS_SLUG,
            "meta": {"title": "Three tabs", "description": "The demo's catalog, three ways"},
            "tabs": [
                {"tab_id": name, "label": name.title(), "retriever_id": retriever_id}
                for name, retriever_id in zip(TABS, ids, strict=True)
            ],
            "all_tab": {"enabled": True, "per_tab": 20},
        },
    ).raise_for_status()
    return TABS_SLUG


def three_tabs(
    client: httpx.Client, owner: dict[str, str], public_name: str, count: int
) -> list[tuple[str, list[float]]]:
    """A page of three tabs over the demo's catalog: its weight printed, and the timings of
    each tab's execute and of the federated search, 20 results a tab."""
    make_three_tabs(client, owner, public_name)
    page = "/p/bench-tabs?tab=all&query=a"
    html = client.get(page).text
    linked = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    linked += re.findall(r'<script src="([^"]+)"', html)
    weight = client.get(page).num_bytes_downloaded
    weight += sum(client.get(url).num_bytes_downloaded for url in linked)
    cards = html.count('<li class="card"')
    print(f"\nthree-tab page, its All tab with {cards} results: {weight / 1024:.1f} KiB (gzip)")
    body = {"inputs": {"query": "a"}, "limit": 20}
    rows = [
        (
            f"POST execute, tab {name} (JSON)",
            timed(client, "POST", f"/v1/public/retrievers/bench-{name}/execute", count, json=body),
        )
        for name in TABS
    ]
    federated = {"query": "a", "page_size": 20}
    url = "/v1/public/pages/bench-tabs/search"
    rows.append(
        ("POST federated, 3 tabs (JSON)", timed(client, "POST", url, count, json=federated))
    )
    rows.append(("GET All tab, 3 tabs (HTML)", timed(client, "GET", page, count)))
    return rows


if __name__ == "__main__":
    main()
