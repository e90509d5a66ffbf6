"""Whether a collection kept as N Typesense collections (shards, each document in the one a
hash of its id picks) and searched in all of them at once answers sooner than one collection:
straight against a node (bench/typesensecache.py's, or a running one with `--url`), the
catalog's collection copied into 2 and 4 shard collections on the same node (its export,
each document to its shard; kept for a second run), then the engine bench's queries
(bench/candidates.py) made into the engine's own parameters (`query.parameters`, the last word
whole or a prefix as the whole collection's counts decide), each asked of one collection and of
each layout's shards at once (one request a shard, over aiohttp), the layouts in turn for every
query (the order rotated). For each: wall ms p50 / p99, the slowest shard's `search_time_ms`
p50 / p99, the node's CPU a query (its /proc CPU time), and how many `found` differ from the
one collection's (summed over the shards). The thresholds for typos and for words left out
(`words.py`) are a shard's share of the collection's (`--thresholds whole` keeps them).

    python -m bench.typesenseshards [--scale 1] [--shards 2,4] [--kinds one,two]
                                    [--queries 300] [--url http://HOST:PORT --key KEY]
    python -m bench.typesenseshards --at-once --url http://HOST:PORT --pid PID

`--at-once`: instead, 100 one-word searches (`AT_ONCE_WORDS`, whole words, title and
description, top 20) of the one collection sent 1, 2 and 4 at a time: wall ms a search, the
node's CPU ms a search, and how much of a core it kept busy (does a search use more than one
core, and do searches at once get the node more of the machine?).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import time
from typing import Any

import aiohttp
import httpx

from app import jsonutil
from app.adapters.engine import TypesenseEngine
from app.adapters.engine.results import Search
from app.adapters.engine.typesense import query
from app.adapters.engine.typesense.names import collection_name
from app.typesense_address import TypesenseAddress
from bench.candidates import catalog, queries
from bench.engine import FIELDS, TOP_K, imported, percentile
from bench.harness import cpu_seconds
from bench.typesensecache import cached_node

BATCH = 5000
Params = dict[str, Any]
AT_ONCE_WORDS = ["library", "python", "data", "server", "tool", "module", "file", "network",
                 "game", "font"] * 10  # fmt: skip


def shard_of(hex_id: str, count: int) -> int:
    digest = hashlib.blake2b(bytes.fromhex(hex_id), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


def shard_names(name: str, count: int) -> list[str]:
    return [f"{name}_S{index}of{count}" for index in range(count)]


def make_shards(client: httpx.Client, name: str, counts: list[int]) -> None:
    """Copy the collection into `count` shard collections for each count (unless done)."""
    source = client.get(f"/collections/{name}").json()
    held = {c["name"]: int(c["num_documents"]) for c in client.get("/collections").json()}
    wanted = [n for n in counts if sum(held.get(s, 0) for s in shard_names(name, n))
              != source["num_documents"]]  # fmt: skip
    if not wanted:
        return
    fields = [f for f in source["fields"] if "*" in f["name"] or f["name"].startswith("_")]
    for count in wanted:
        for shard in shard_names(name, count):
            client.delete(f"/collections/{shard}")
            client.post("/collections", json={"name": shard, "fields": fields}).raise_for_status()
    started = time.perf_counter()
    lines = client.get(f"/collections/{name}/documents/export").text.splitlines()
    pending: dict[str, list[str]] = {}

    def flush(shard: str) -> None:
        sent = client.post(f"/collections/{shard}/documents/import", params={"action": "create"},
                           content="\n".join(pending.pop(shard, [])))  # fmt: skip
        sent.raise_for_status()
        if '"success":false' in sent.text:
            raise RuntimeError(f"Typesense refused a document of {shard}: {sent.text[:300]}")

    for line in lines:
        hex_id = jsonutil.loads(line)["id"]
        for count in wanted:
            shard = shard_names(name, count)[shard_of(hex_id, count)]
            pending.setdefault(shard, []).append(line)
            if len(pending[shard]) >= BATCH:
                flush(shard)
    for shard in list(pending):
        flush(shard)
    rate = len(lines) * len(wanted) / (time.perf_counter() - started)
    print(f"shards {wanted}: {len(lines):,} documents each way, {rate:,.0f} records/s")


async def compare(url: str, key: str, name: str, columns: Any, cases: dict[str, list[str]],
                  args: argparse.Namespace, pid: int | None) -> None:  # fmt: skip
    session = aiohttp.ClientSession(
        headers={"X-TYPESENSE-API-KEY": key},
        connector=aiohttp.TCPConnector(limit=0),
        timeout=aiohttp.ClientTimeout(total=120),
    )

    async def one(collection: str, params: Params) -> Params:
        body = jsonutil.dumps({"searches": [{"collection": collection, **params}]})
        async with session.post(f"{url}/multi_search", data=body) as sent:
            data = await sent.read()
            if sent.status != 200:
                raise RuntimeError(data[:300].decode(errors="replace"))
            found: Params = jsonutil.loads(data)["results"][0]
            return found

    layouts = {"1 collection": [name]} | {
        f"{n} shards": shard_names(name, n) for n in map(int, args.shards.split(","))
    }
    labels = list(layouts)
    print(f"\n{'kind':<6} {'layout':<13} {'wall p50':>8} {'p99':>7} {'node p50':>8} {'p99':>5} "
          f"{'node CPU ms':>11} {'found differs':>13}")  # fmt: skip
    for kind in args.kinds.split(","):
        walls: dict[str, list[float]] = {label: [] for label in labels}
        nodes: dict[str, list[float]] = {label: [] for label in labels}
        cpu = dict.fromkeys(labels, 0.0)
        differ = dict.fromkeys(labels, 0)
        for n, text in enumerate(cases[kind]):
            search = Search(fields=FIELDS, text=text, limit=TOP_K)
            made = query.parameters(search, columns)
            assert made is not None
            params = made[0]
            counts = query.counts(search, params)
            if counts and not query.prefixed([await one(name, c) for c in counts]):
                params = query.whole(params)
            found = {}
            for label in labels[n % len(labels) :] + labels[: n % len(labels)]:
                shards = layouts[label]
                asked = params
                if len(shards) > 1 and args.thresholds == "share" and "q" in params:
                    asked = {**params, **{
                        t: -(-int(params[t]) // len(shards))
                        for t in ("typo_tokens_threshold", "drop_tokens_threshold") if t in params
                    }}  # fmt: skip
                before = cpu_seconds(pid)
                started = time.perf_counter()
                answers = await asyncio.gather(*(one(shard, asked) for shard in shards))
                walls[label].append((time.perf_counter() - started) * 1000)
                cpu[label] += cpu_seconds(pid) - before
                nodes[label].append(max(float(a.get("search_time_ms", 0)) for a in answers))
                found[label] = sum(int(a.get("found", 0)) for a in answers)
            for label in labels:
                differ[label] += found[label] != found[labels[0]]
        for label in labels:
            print(f"{kind:<6} {label:<13} {statistics.median(walls[label]):>8.2f} "
                  f"{percentile(walls[label], 0.99):>7.2f} {statistics.median(nodes[label]):>8.0f} "
                  f"{percentile(nodes[label], 0.99):>5.0f} "
                  f"{cpu[label] * 1000 / len(cases[kind]):>11.2f} {differ[label]:>13}")  # fmt: skip
    await session.close()


async def at_once(url: str, key: str, name: str, pid: int | None) -> None:
    title, description = (f"t_{field.encode().hex()}" for field in FIELDS[:2])
    async with aiohttp.ClientSession(headers={"X-TYPESENSE-API-KEY": key}) as session:

        async def one(word: str) -> None:
            body = jsonutil.dumps({"searches": [{
                "collection": name, "q": word, "query_by": f"{title},{description}",
                "per_page": TOP_K, "include_fields": "id,_body", "highlight_fields": "none",
                "prefix": "false"}]})  # fmt: skip
            async with session.post(f"{url}/multi_search", data=body) as sent:
                await sent.read()

        for count in (1, 2, 4):
            cpu = cpu_seconds(pid)
            started = time.perf_counter()
            for start in range(0, len(AT_ONCE_WORDS), count):
                await asyncio.gather(*(one(w) for w in AT_ONCE_WORDS[start : start + count]))
            wall = time.perf_counter() - started
            used = cpu_seconds(pid) - cpu
            n = len(AT_ONCE_WORDS)
            print(
                f"{count} at a time: {wall * 1000 / n:.1f} ms wall a search, "
                f"{used * 1000 / n:.1f} ms of the node's CPU, {used / wall:.2f} of a core"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--shards", default="2,4")
    parser.add_argument("--kinds", default="one,two")
    parser.add_argument("--thresholds", choices=["share", "whole"], default="share")
    parser.add_argument("--url", help="a running node holding the catalog (else one of its own)")
    parser.add_argument("--key", default="typesense-test-key")
    parser.add_argument("--pid", type=int, help="with --url, the node's process, for its CPU")
    parser.add_argument("--at-once", action="store_true", help="searches at once, no shards")
    args = parser.parse_args()
    rows = list(catalog(args.scale))
    cases = {k: [" ".join(w) for w in texts] for k, texts in queries(rows, args.queries).items()}
    if args.url:
        run(args.url, args.key, args.pid, cases, args)
        return
    with cached_node(rows, args.scale) as node:
        engine = TypesenseEngine(TypesenseAddress.parse(node.url))
        if not node.complete:
            print(f"import: {imported(lambda b: engine.upsert('bench', 'debian', b), rows):,.0f}/s")
            node.mark_complete()
        pid = node.process.pid if node.process else None
        run(f"http://{node.address}", node.api_key, pid, cases, args)


def run(url: str, key: str, pid: int | None, cases: dict[str, list[str]],
        args: argparse.Namespace) -> None:  # fmt: skip
    address = url.split("://", 1)[1]
    engine = TypesenseEngine(TypesenseAddress.parse(f"typesense://{key}@{address}"))
    name = collection_name(engine.prefix, "bench", "debian")
    held = engine._held(name)
    assert held is not None
    if args.at_once:
        asyncio.run(at_once(url, key, name, pid))
        return
    with httpx.Client(base_url=url, headers={"X-TYPESENSE-API-KEY": key}, timeout=3600) as client:
        make_shards(client, name, [int(n) for n in args.shards.split(",")])
    print(
        f"{held.documents:,} records; {args.queries} queries a kind; thresholds {args.thresholds}"
    )
    asyncio.run(compare(url, key, name, held.columns, cases, args, pid))
    engine.close()


if __name__ == "__main__":
    main()
