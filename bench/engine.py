"""The embedded engine on real text: Debian's package catalog (bench/debian.py, 63,666
records, `--scale N` for N copies under new ids), imported through the engine, then the
queries a search box sends, straight against it, with the page's highlights on. The engine as
it was before tantivy (bench/fts5.py) is built and timed beside it as the baseline
(`--no-baseline` to skip it at scale).

`--postgresql` times the engine in PostgreSQL instead (what serves a PostgreSQL store), on a
server of its own started for the run.

    python -m bench.engine [--scale 16] [--queries 300] [--no-baseline] [--postgresql]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.adapters.engine import Engine, PgEngine, Search, SearchEngine
from app.adapters.store import Store
from bench.candidates import catalog, queries
from bench.fts5 import Fts5Engine
from tests.servers import PostgresServer, postgres_bin

FIELDS = ["title", "description", "section"]
FACETS = ["section", "priority", "tags"]
TOP_K = 20
BATCH = 10_000
# The targets, milliseconds: (median, p99) at 60,000+ records, p99 at 1,000,000.
SMALL_TARGET = (1.0, 5.0)
LARGE_P99_TARGET = 20.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1)))]


def timed(run: Callable[[str], Any], texts: list[str]) -> tuple[float, float]:
    samples = []
    for text in texts:
        started = time.perf_counter()
        run(text)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), percentile(samples, 0.99)


def imported(build: Callable[[list[dict[str, Any]]], None], rows: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        build(rows[start : start + BATCH])
    return len(rows) / (time.perf_counter() - started)


@contextmanager
def engine_in(directory: Path, postgresql: bool) -> Iterator[SearchEngine]:
    if not postgresql:
        engine = Engine(directory / "engine.db")
        yield engine
        engine.close()
        return
    bindir = postgres_bin()
    if bindir is None:
        raise SystemExit("--postgresql needs PostgreSQL's server (scripts/system-packages)")
    server = PostgresServer(bindir)
    server.start()
    store = Store(server.url)
    try:
        yield PgEngine(store.engine)
    finally:
        store.close()
        server.stop()
        server.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--postgresql", action="store_true")
    args = parser.parse_args()
    rows = list(catalog(args.scale))
    cases = {
        kind: [" ".join(words) for words in texts]
        for kind, texts in queries(rows, args.queries).items()
    }
    with tempfile.TemporaryDirectory() as tmp, engine_in(Path(tmp), args.postgresql) as engine:
        rate = imported(lambda batch: engine.upsert("bench", "debian", batch) and None, rows)
        again = imported(lambda batch: engine.upsert("bench", "debian", batch) and None, rows)
        baseline = None if args.no_baseline else Fts5Engine(Path(tmp) / "fts5.db")
        base_rate = imported(lambda b: baseline.upsert("debian", b), rows) if baseline else 0.0
        where = "PostgreSQL" if args.postgresql else "embedded"
        print(
            f"{len(rows):,} records (Debian's package catalog x{args.scale}); top {TOP_K}; {where}"
        )
        print(
            f"import: engine {rate:,.0f} records/s, re-import of the same ids {again:,.0f}/s; "
            + (f"FTS5 before {base_rate:,.0f}/s ({rate / base_rate:.2f}x)" if baseline else "")
        )
        assert engine.count("bench", "debian") == len(rows), "re-import must not add records"

        def search(**options: Any) -> Callable[[str], Any]:
            def run(text: str) -> Any:
                return engine.search(
                    "bench", "debian", Search(fields=FIELDS, text=text, filters={}, limit=TOP_K,
                    offset=0, highlight=["title", "description"], **options)
                )  # fmt: skip

            return run

        runs: dict[str, tuple[Callable[[str], Any], list[str]]] = {
            kind: (search(), texts) for kind, texts in cases.items()
        }
        runs["facets (3 fields)"] = (search(facets=FACETS), cases["common"])
        print(f"\n{'query':<18} {'engine p50':>10} {'p99':>7}   {'FTS5 p50':>9} {'p99':>7}   (ms)")
        for kind, (run, texts) in runs.items():
            p50, p99 = timed(run, texts)
            base = ""
            if baseline is not None and kind in cases:
                b50, b99 = timed(lambda text: baseline.search("debian", FIELDS, text, TOP_K), texts)
                base = f"{b50:>9.2f} {b99:>7.2f}"
            print(f"{kind:<18} {p50:>10.2f} {p99:>7.2f}   {base}")
        target = (
            f"median < {SMALL_TARGET[0]} ms, p99 < {SMALL_TARGET[1]} ms"
            if len(rows) < 1_000_000
            else f"p99 < {LARGE_P99_TARGET} ms"
        )
        print(f"\ntarget at this size: {target}")


if __name__ == "__main__":
    main()
