"""What a Typesense node spends on the searches the engine sends, and what other parameters would
change of it: straight against a node (bench/typesensecache.py's, so the million is imported
once), the engine bench's queries (bench/candidates.py) made into the engine's own parameters
(`query.parameters`, the last word whole or a prefix as `wholewords.py` decides), each variant
asked in turn for every query, round after round, the order rotated each round. For each: the
node's CPU a search (its /proc CPU time over the variant's searches), its own `search_time_ms`
p50 / p99, the answer's size and our time to parse it, and how many answers differ from the
engine's (the hits' ids, the total, the facet counts).

    python -m bench.typesenseparams [--scale 16] [--queries 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from app import jsonutil
from app.adapters.engine import TypesenseEngine
from app.adapters.engine.results import Search
from app.adapters.engine.typesense import query
from app.adapters.engine.typesense.names import collection_name
from app.typesense_address import TypesenseAddress
from bench.candidates import catalog, queries
from bench.engine import FACETS, FIELDS, TOP_K, imported, percentile
from bench.harness import cpu_seconds
from bench.typesensecache import cached_node

Params = dict[str, Any]
VARIANTS: dict[str, Callable[[Params], Params | None]] = {
    "as sent": lambda p: p,
    "enable_overrides=false": lambda p: {**p, "enable_overrides": "false"},
    "the node's highlights on": lambda p: {k: v for k, v in p.items() if k != "highlight_fields"},
    "include_fields=id": lambda p: {**p, "include_fields": "id"},
    "no facets": lambda p: (
        {k: v for k, v in p.items() if k not in ("facet_by", "max_facet_values")}
        if "facet_by" in p
        else None
    ),
    "sort by text match only": lambda p: {**p, "sort_by": "_text_match:desc"},
}


def node_searches(url: str, api_key: str) -> Callable[[list[Params]], tuple[bytes, list[Params]]]:
    client = httpx.Client(headers={"X-TYPESENSE-API-KEY": api_key}, timeout=60)

    def send(searches: list[Params]) -> tuple[bytes, list[Params]]:
        sent = client.post(f"{url}/multi_search", content=jsonutil.dumps({"searches": searches}))
        sent.raise_for_status()
        return sent.content, jsonutil.loads(sent.content)["results"]

    return send


def outcome(found: Params) -> tuple[Any, ...]:
    return (
        [hit["document"]["id"] for hit in found.get("hits", [])],
        found.get("found"),
        [(c["field_name"], [(e["value"], e["count"]) for e in c["counts"]])
         for c in found.get("facet_counts", [])],
    )  # fmt: skip


def counted_by_filter(
    send: Callable[[list[Params]], tuple[bytes, list[Params]]],
    name: str,
    pid: int | None,
    texts: list[str],
    rounds: int,
) -> None:
    """The whole-word counts (`query.counts`: a search of the word in each field, scored) against
    the same counts as filters (no words searched, nothing scored)."""
    fields = [f"t_{f.encode().hex()}" for f in FIELDS]
    scored = [
        [{"collection": name, **c} for c in query.counts(Search(fields=FIELDS, text=t), {
            "query_by": ",".join(fields)})] for t in texts
    ]  # fmt: skip
    filtered = [
        [{"collection": name, "q": "*", "filter_by": f"{f}:{t.split()[-1]}", "per_page": 0}
         for f in fields] for t in texts
    ]  # fmt: skip
    cpu: dict[str, list[float]] = {"scored": [], "filtered": []}
    found: dict[str, list[list[int]]] = {"scored": [], "filtered": []}
    for round_ in range(rounds):
        order = [("scored", scored), ("filtered", filtered)][:: 1 if round_ % 2 else -1]
        for label, sets in order:
            before = cpu_seconds(pid)
            found[label] = [[int(a.get("found", -1)) for a in send(s)[1]] for s in sets]
            cpu[label].append((cpu_seconds(pid) - before) * 1000 / len(sets))
    same = sum(a == b for a, b in zip(found["scored"], found["filtered"], strict=True))
    print(
        f"whole-word counts (3 fields, {len(texts)} words): node CPU a count set: scored "
        f"{statistics.median(cpu['scored']):.2f} ms, filtered "
        f"{statistics.median(cpu['filtered']):.2f} ms; the same counts {same}/{len(texts)}"
    )


def filter_counts(name: str, search: Search, params: Params) -> list[Params]:
    """`query.counts` as filters: the documents whose field holds the word, nothing scored."""
    return [
        {"collection": name, "q": "*", "filter_by": f"{c['query_by']}:{c['q']}", "per_page": 0}
        for c in query.counts(search, params)
    ]


def orders(
    send: Callable[[list[Params]], tuple[bytes, list[Params]]],
    name: str,
    columns: Any,
    cases: dict[str, list[str]],
    kinds: list[str],
) -> None:
    """A search whose last word's whole-word count is not known yet (its first in 10 s), three
    ways, in turn for each query: as the engine sends it (the search with the prefix beside the
    counts, then again whole for a common word), the counts first and then the one search
    needed, and the same with the counts as filters. Wall ms p50 / p99 and the node's
    `search_time_ms` summed over the requests, p50 / p99."""
    ways = ("as sent", "counts first", "counts first, filtered")
    print(f"\nfirst search of a word: {'way':<24} {'wall p50':>8} {'p99':>7} {'node p50':>8} "
          f"{'p99':>5}  differ")  # fmt: skip
    for kind in kinds:
        walls: dict[str, list[float]] = {w: [] for w in ways}
        nodes: dict[str, list[float]] = {w: [] for w in ways}
        differ = dict.fromkeys(ways, 0)
        for n, text in enumerate(cases[kind]):
            search = Search(fields=FIELDS, text=text, limit=TOP_K)
            made = query.parameters(search, columns)
            assert made is not None
            params = made[0]
            main = {"collection": name, **params}
            counts = [{"collection": name, **c} for c in query.counts(search, params)]
            results = {}
            for way in ways[n % 3 :] + ways[: n % 3]:
                started = time.perf_counter()
                spent = 0.0
                if way == "as sent":
                    _, (found, *counted) = send([main, *counts])
                    spent += sum(float(a.get("search_time_ms", 0)) for a in [found, *counted])
                    if not query.prefixed(counted):
                        _, (found,) = send([query.whole(main)])
                        spent += float(found.get("search_time_ms", 0))
                else:
                    sets = counts if way == "counts first" else filter_counts(name, search, params)
                    _, counted = send(sets)
                    spent += sum(float(a.get("search_time_ms", 0)) for a in counted)
                    _, (found,) = send([main if query.prefixed(counted) else query.whole(main)])
                    spent += float(found.get("search_time_ms", 0))
                walls[way].append((time.perf_counter() - started) * 1000)
                nodes[way].append(spent)
                results[way] = outcome(found)
            for way in ways:
                differ[way] += results[way] != results["as sent"]
        for way in ways:
            print(f"  {kind:<6} {way:<24} {statistics.median(walls[way]):>8.2f} "
                  f"{percentile(walls[way], 0.99):>7.2f} {statistics.median(nodes[way]):>8.0f} "
                  f"{percentile(nodes[way], 0.99):>5.0f}  {differ[way]}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=16)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--kinds", default="common,one,two,facets")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    rows = list(catalog(args.scale))
    cases = {k: [" ".join(w) for w in texts] for k, texts in queries(rows, args.queries).items()}
    cases["facets"] = cases["common"]
    with cached_node(rows, args.scale) as node:
        engine = TypesenseEngine(TypesenseAddress.parse(node.url))
        if not node.complete:
            print(f"import: {imported(lambda b: engine.upsert('bench', 'debian', b), rows):,.0f}/s")
            node.mark_complete()
        name = collection_name(engine.prefix, "bench", "debian")
        held = engine._held(name)
        assert held is not None
        send = node_searches(f"http://{node.address}", node.api_key)
        pid = node.process.pid if node.process else None
        print(f"{len(rows):,} records; {args.queries} queries a kind, {args.rounds} rounds")
        counted_by_filter(send, name, pid, cases["one"], args.rounds)
        orders(send, name, held.columns, cases, ["common", "one", "two", "prefix", "typo"])
        for kind in filter(None, args.kinds.split(",")):
            planned = []
            for text in cases[kind]:
                search = Search(fields=FIELDS, text=text, limit=TOP_K, highlight=FIELDS[:2],
                                facets=FACETS if kind == "facets" else ())  # fmt: skip
                made = query.parameters(search, held.columns)
                assert made is not None
                params = made[0]
                counts = query.counts(search, params)
                if counts:
                    _, counted = send([{"collection": name, **c} for c in counts])
                    if not query.prefixed(counted):
                        params = query.whole(params)
                planned.append({"collection": name, **params})
            variants: dict[str, list[Params]] = {}
            for label in args.variants.split(","):
                asked = [VARIANTS[label](p) for p in planned]
                if all(a is not None for a in asked):
                    variants[label] = [a for a in asked if a is not None]
            expected = [outcome(send([p])[1][0]) for p in planned]
            stats: dict[str, dict[str, list[float]]] = {v: {} for v in variants}
            labels = list(variants)
            for round_ in range(args.rounds):
                for label in labels[round_ % len(labels) :] + labels[: round_ % len(labels)]:
                    each = stats[label]
                    differ = size = parse = 0.0
                    times = []
                    cpu = cpu_seconds(pid)
                    for sent, want in zip(variants[label], expected, strict=True):
                        raw, _ = send([sent])
                        started = time.perf_counter()
                        found = jsonutil.loads(raw)["results"][0]
                        parse += time.perf_counter() - started
                        size += len(raw)
                        times.append(float(found.get("search_time_ms", 0)))
                        differ += outcome(found) != want
                    n = len(variants[label])
                    each.setdefault("cpu", []).append((cpu_seconds(pid) - cpu) * 1000 / n)
                    each.setdefault("times", []).extend(times)
                    each.setdefault("size", []).append(size / n)
                    each.setdefault("parse", []).append(parse * 1e6 / n)
                    each.setdefault("differ", []).append(differ)
            print(f"\n{kind}: {'variant':<26} {'node CPU ms':>11} {'search_time p50':>15} "
                  f"{'p99':>5} {'bytes':>7} {'parse µs':>8} {'differ':>6}")  # fmt: skip
            for label, each in stats.items():
                print(
                    f"{'':<{len(kind) + 2}}{label:<26} {statistics.median(each['cpu']):>11.2f} "
                    f"{statistics.median(each['times']):>15.0f} "
                    f"{percentile(each['times'], 0.99):>5.0f} "
                    f"{statistics.median(each['size']):>7.0f} "
                    f"{statistics.median(each['parse']):>8.0f} {max(each['differ']):>6.0f}"
                )


if __name__ == "__main__":
    main()
