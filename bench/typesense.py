"""This server on Typesense against this server on the embedded engine: the JSON execute and
the search page, the same rows (Debian's package catalog, bench/debian.py), the same queries (the
catalog's 100 commonest words, one a request, 20 results), one server process each, in one run.

A Typesense node of its own is started for the run (bench/engine.py's `typesense_node`); one
server process keeps its collections in the embedded engine, the other in that node
(`RETRIEVER_PAGES_ENGINE_URL=typesense://...`); each imports the catalog through the command
line and publishes it as bench/peers.py does. `wrk` drives them in turn, round after round (the
order swapped each round), so that the machine's other work weighs on both alike; the ratio is
the median of the rounds' ratios. The Typesense node shares the machine's cores with the server
and `wrk`, as the embedded engine does inside its process.

`--pin` runs the node on a core of its own (CPU 1) and the servers and `wrk` on the other
(CPU 0), as a node on a machine of its own would run. Each run also reads each server's and the
node's CPU time (/proc) before and after: CPU ms a request.

`--against PATH` adds a third server process on Typesense running another checkout's code (say
the tree before a change), over the same collection in the same node, timed in the same turns.

    python -m bench.typesense [--seconds 5] [--rounds 3] [--connections 32] [--pin]
                              [--against PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import debian
from bench.engine import typesense_node
from bench.harness import Row, cpu_seconds, run_wrk
from bench.peers import commonest, get_lua, ours, post_lua
from tests.servers import free_port

ENGINES: tuple[str, ...] = ("embedded", "Typesense")
AGAINST = "Typesense, --against"
TARGET = 0.8  # Typesense-backed execute against the embedded engine's, req/s


def served(base: str, word: str) -> tuple[int, int]:
    """How many documents an execute answers for `word`, and in how many ms (a check that the
    server searches its rows before it is timed)."""
    started = time.perf_counter()
    answer = httpx.post(
        f"{base}/v1/public/retrievers/debian/execute",
        json={"inputs": {"query": word}, "limit": 20},
        timeout=30,
    )
    answer.raise_for_status()
    return len(answer.json()["results"]), round((time.perf_counter() - started) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pin", action="store_true", help="the node on CPU 1, the rest on 0")
    parser.add_argument("--against", type=Path, help="another checkout, on Typesense too")
    args = parser.parse_args()
    engines = ENGINES + ((AGAINST,) if args.against else ())
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: scripts/bench installs it (Debian's wrk)")
    rows = list(debian.records())
    words = commonest(rows, 100)
    results: dict[tuple[str, str], list[Row]] = {}
    cpu: dict[tuple[str, str], list[tuple[float, float]]] = {}  # (server, node) ms a request
    with tempfile.TemporaryDirectory() as tmp, typesense_node() as node:
        node_pid = node.process.pid if node.process else None
        if args.pin and node_pid is not None:
            os.sched_setaffinity(node_pid, {1})
            os.sched_setaffinity(0, {0})  # (the servers and `wrk` inherit it)
        work = Path(tmp)
        rows_file = work / "debian.jsonl"
        rows_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
        ports = {engine: free_port() for engine in engines}
        servers: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for engine in engines:
                started = time.perf_counter()
                extra = {"RETRIEVER_PAGES_ENGINE_URL": node.url} if engine != "embedded" else {}
                code = args.against if engine == AGAINST else None
                servers[engine] = ours(rows_file, work / engine, ports[engine], code, **extra)
                print(
                    f"{engine}: imported and serving in {time.perf_counter() - started:.0f} s "
                    f"(the command line's import, then the server's start)",
                    flush=True,
                )
            bases = {engine: f"http://127.0.0.1:{ports[engine]}" for engine in engines}
            for engine in engines:
                count, ms = served(bases[engine], words[0])
                print(f"{engine}: {words[0]!r} answers {count} documents ({ms} ms, cold)")
            execute = "/v1/public/retrievers/debian/execute"
            scripts = {
                "JSON execute": (execute, post_lua(work / "j.lua", words)),
                "search page": ("", get_lua(work / "p.lua", '/r/debian?query=" .. w .. "', words)),
            }
            for path, script in scripts.values():  # warm-up, as long as a run: the first
                for engine in engines:  # seconds of a fresh server are several times slower
                    run_wrk(
                        "warm-up", f"{bases[engine]}{path}", script, args.seconds, args.connections
                    )
            for round_number in range(args.rounds):
                # Each engine first in turn (rotated, not also reversed: with two engines the
                # two would cancel, and the embedded engine went first in every round).
                turn = round_number % len(engines)
                order = engines[turn:] + engines[:turn]
                for kind, (path, script) in scripts.items():
                    for engine in order:
                        pid = servers[engine].pid
                        before = cpu_seconds(pid), cpu_seconds(node_pid)
                        row = run_wrk(
                            engine, f"{bases[engine]}{path}", script, args.seconds, args.connections
                        )
                        requests = max(1.0, row.rps * args.seconds) / 1000
                        cpu.setdefault((kind, engine), []).append(
                            (
                                (cpu_seconds(pid) - before[0]) / requests,
                                (cpu_seconds(node_pid) - before[1]) / requests,
                            )
                        )
                        results.setdefault((kind, engine), []).append(row)
                        print(
                            f"  round {round_number + 1}, {kind}, {engine}: {row.rps:,.0f} req/s, "
                            f"p50 {row.p50:.1f} ms, p99 {row.p99:.1f} ms",
                            flush=True,
                        )
        finally:
            for server in servers.values():
                server.terminate()
                server.wait(timeout=10)
    report(results, cpu, len(rows), args)


def report(
    results: dict[tuple[str, str], list[Row]],
    cpu: dict[tuple[str, str], list[tuple[float, float]]],
    records: int,
    args: Any,
) -> None:
    print(
        f"\n{records:,} Debian packages, the 100 commonest words, {args.connections} connections, "
        f"{args.rounds} rounds of {args.seconds} s each in turn, one server process each, "
        "20 results; medians of the rounds\n"
    )
    print(
        f"{'scenario':<38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'server CPU':>10} {'node CPU':>9} (ms a request)"
    )
    for (kind, engine), rows in results.items():
        used = cpu[kind, engine]
        print(
            f"{kind + ', ' + engine:<38} {statistics.median(r.rps for r in rows):>8,.0f} "
            f"{statistics.median(r.p50 for r in rows):>8.2f} "
            f"{statistics.median(r.p99 for r in rows):>8.2f} {sum(r.errors for r in rows):>7} "
            f"{statistics.median(u[0] for u in used):>10.2f} "
            f"{statistics.median(u[1] for u in used) if engine != 'embedded' else 0:>9.2f}"
        )
    print()
    for kind, engine in results:
        if engine == "embedded":
            continue
        ratios = [
            ts.rps / em.rps
            for ts, em in zip(results[kind, engine], results[kind, "embedded"], strict=True)
        ]
        print(
            f"{engine} / embedded, {kind}: {statistics.median(ratios):.2f}x "
            f"(rounds {min(ratios):.2f}x to {max(ratios):.2f}x)"
        )
    print(f"target: Typesense-backed JSON execute at least {TARGET}x the embedded engine's")


if __name__ == "__main__":
    main()
