"""What a Typesense node spends on each kind of request the server sends for the JSON execute:
the requests recorded on their way from a server process to the node (a proxy between them, for
the recording only), then sent again straight to the node, 32 at once, one kind at a time, each
kind and variant in turn for `--rounds` rounds; the node's CPU a request read from /proc.

The server is started as `bench.typesense` starts it (the Debian catalog, published as
`debian`) and asked `bench.typesense`'s executes (the 100 commonest words, 20 results). Kinds:
`counts` (a last word's whole-word counts, one a searched field, in one request), `search` (the
one search an execute sends when the counts are known), and variants of the search's
parameters (`VARIANTS`), with how many of their answers differ from the search's (the hits'
ids, the total).

    python -m bench.typesensereplay [--seconds 4] [--rounds 3] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from aiohttp import web

from app import jsonutil
from bench import debian
from bench.engine import typesense_node
from bench.harness import cpu_seconds
from bench.peers import commonest, ours
from tests.servers import free_port

Params = dict[str, Any]
VARIANTS: dict[str, Callable[[Params], Params]] = {
    "highlight_fields dropped": lambda p: {k: v for k, v in p.items() if k != "highlight_fields"},
    "enable_highlight_v1=false": lambda p: {**p, "enable_highlight_v1": "false"},
    "include_fields=id": lambda p: {**p, "include_fields": "id"},
    "per_page=1": lambda p: {**p, "per_page": 1},
    "num_typos=0": lambda p: {**p, "num_typos": 0},
    "prioritize_exact_match=false": lambda p: {**p, "prioritize_exact_match": "false"},
    "sort_by=_text_match:desc": lambda p: {**p, "sort_by": "_text_match:desc"},
    "one field": lambda p: {
        **{k: v for k, v in p.items() if k != "query_by_weights"},
        "query_by": p["query_by"].split(",")[0],
    },
}


def recorded(node_url: str, port: int) -> tuple[list[bytes], threading.Event]:
    """A proxy to the node on `port`, keeping the bodies of `multi_search` requests."""
    bodies: list[bytes] = []
    ready = threading.Event()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        if request.path == "/multi_search":
            bodies.append(body)
        async with (
            aiohttp.ClientSession() as session,
            session.request(
                request.method,
                f"{node_url}{request.path_qs}",
                data=body,
                headers={k: v for k, v in request.headers.items() if k.lower() != "host"},
            ) as answer,
        ):
            data = await answer.read()
            kept = {"Content-Type": answer.headers.get("Content-Type", "application/json")}
            return web.Response(status=answer.status, body=data, headers=kept)

    def run() -> None:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", forward)
        loop = asyncio.new_event_loop()
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait()
    return bodies, ready


async def hammer(url: str, key: str, bodies: list[bytes], seconds: float, connections: int) -> int:
    """`bodies` sent in turn from `connections` clients for `seconds`: how many were answered."""
    done = 0
    stop = time.monotonic() + seconds
    headers = {"X-TYPESENSE-API-KEY": key, "Content-Type": "application/json"}
    async with aiohttp.ClientSession(headers=headers) as session:

        async def client(start: int) -> None:
            nonlocal done
            n = start
            while time.monotonic() < stop:
                async with session.post(f"{url}/multi_search", data=bodies[n % len(bodies)]) as a:
                    await a.read()
                    if a.status != 200:
                        raise RuntimeError(await a.text())
                done += 1
                n += 1

        await asyncio.gather(*(client(i * 7) for i in range(connections)))
    return done


def outcome(url: str, key: str, body: bytes) -> tuple[Any, ...]:
    found = httpx.post(
        f"{url}/multi_search", content=body, headers={"X-TYPESENSE-API-KEY": key}, timeout=30
    ).json()["results"][0]
    return (found.get("found"), [h["document"]["id"] for h in found.get("hits", [])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    rows = list(debian.records())
    words = commonest(rows, 100)
    with tempfile.TemporaryDirectory() as tmp, typesense_node() as node:
        url = f"http://{node.address}"
        port = free_port()
        bodies, _ = recorded(url, port)
        work = Path(tmp)
        rows_file = work / "debian.jsonl"
        rows_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
        proxied = f"typesense://{node.api_key}@127.0.0.1:{port}"
        server_port = free_port()
        server = ours(
            rows_file, work / "server", server_port, None, RETRIEVER_PAGES_ENGINE_URL=proxied
        )
        try:
            base = f"http://127.0.0.1:{server_port}/v1/public/retrievers/debian/execute"
            with httpx.Client(timeout=60) as client:
                for _ in range(2):  # (the first time a word's counts, then its search alone)
                    bodies.clear()
                    for word in words:
                        client.post(base, json={"inputs": {"query": word}, "limit": 20})
                    if _ == 0:
                        first = list(bodies)
                second = list(bodies)
        finally:
            server.terminate()
            server.wait(timeout=10)
        counts = [b for b in first if b'"num_typos":0' in b and b'"per_page":0' in b]
        searches = [b for b in second if b'"per_page":0' not in b]
        print(f"recorded: {len(first)} requests for the first 100 executes "
              f"({len(counts)} of counts), {len(second)} for the next 100")  # fmt: skip
        print("a search:", searches[0].decode()[:600])
        print("counts:", counts[0].decode()[:600] if counts else None)
        kinds: dict[str, list[bytes]] = {"counts": counts, "search": searches}
        differ: dict[str, int] = {}
        for name, change in VARIANTS.items():
            changed = []
            for body in searches:
                sent = jsonutil.loads(body)
                sent["searches"] = [change(s) for s in sent["searches"]]
                changed.append(jsonutil.dumps(sent))
            kinds[name] = changed
            differ[name] = sum(
                outcome(url, node.api_key, a) != outcome(url, node.api_key, b)
                for a, b in zip(searches, changed, strict=True)
            )
        pid = node.process.pid if node.process else 0
        used: dict[str, list[float]] = {kind: [] for kind in kinds}
        rates: dict[str, list[float]] = {kind: [] for kind in kinds}
        for sent in kinds.values():  # warm-up
            asyncio.run(hammer(url, node.api_key, sent, 1, args.connections))
        names = list(kinds)
        for round_number in range(args.rounds):
            turn = round_number % len(names)
            for kind in names[turn:] + names[:turn]:
                before = cpu_seconds(pid)
                done = asyncio.run(
                    hammer(url, node.api_key, kinds[kind], args.seconds, args.connections)
                )
                used[kind].append((cpu_seconds(pid) - before) * 1000 / max(1, done))
                rates[kind].append(done / args.seconds)
            print(f"round {round_number + 1} done", flush=True)
    print(f"\n{'kind':<32} {'node CPU ms a request':>22} {'requests/s':>11} {'answers differ':>15}")
    for kind in names:
        print(f"{kind:<32} {statistics.median(used[kind]):>22.2f} "
              f"{statistics.median(rates[kind]):>11,.0f} {differ.get(kind, ''):>15}")  # fmt: skip


if __name__ == "__main__":
    main()
