"""The embedded engine on real text: Debian's package catalog (bench/debian.py, 63,666
records, `--scale N` for N copies under new ids), imported through the engine, then the
queries a search box sends, straight against it, with the page's highlights on. The engine as
it was before tantivy (bench/fts5.py) is built and timed beside it as the baseline
(`--no-baseline` to skip it at scale).

`--postgresql` times the engine in PostgreSQL beside it (what serves a PostgreSQL store), on a
server of its own started for the run; `--typesense` the engine in Typesense
(`RETRIEVER_PAGES_ENGINE_URL=typesense://...`), on a node of its own started for the run from
the test extra's server (scripts/install bench), stopped at the end. Each is timed through the
same `SearchEngine` calls the server makes, so Typesense's figures include its HTTP round trip.

    python -m bench.engine [--scale 16] [--queries 300] [--no-baseline] [--postgresql]
                           [--typesense]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from app.adapters.engine import Engine, PgEngine, Search, SearchEngine, TypesenseEngine
from app.adapters.engine.typesense.names import collection_name
from app.adapters.store import Store
from app.typesense_address import TypesenseAddress
from bench.candidates import catalog, queries
from bench.fts5 import Fts5Engine
from bench.typesensecache import CachedNode, cached_node
from tests.servers import PostgresServer, TypesenseServer, postgres_bin, typesense_bin

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


def imported(
    build: Callable[[list[dict[str, Any]]], object],
    rows: list[dict[str, Any]],
    first: int = 0,
    after_batch: Callable[[], object] = lambda: None,
) -> float:
    """Records a second, importing `rows` from `first` in batches (`after_batch` after each)."""
    started = time.perf_counter()
    for start in range(first, len(rows), BATCH):
        build(rows[start : start + BATCH])
        after_batch()
    return (len(rows) - first) / (time.perf_counter() - started)


@contextmanager
def postgresql_engine() -> Iterator[SearchEngine]:
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


@contextmanager
def typesense_node() -> Iterator[TypesenseServer]:
    """A one-node Typesense on loopback for the run, its data removed at the end."""
    if typesense_bin() is None:
        raise SystemExit("--typesense needs the Typesense server: scripts/install bench")
    server = TypesenseServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def engines_in(
    directory: Path, postgresql: bool, typesense: bool, cache: tuple[list[Any], int] | None = None
) -> Iterator[tuple[dict[str, SearchEngine], TypesenseServer | None]]:
    """The engines to time, by the name their columns print (the embedded one first), and the
    Typesense node if one was started: with `cache` (the rows and the scale), one whose data
    is kept between runs (bench/typesensecache.py)."""
    with ExitStack() as stack:
        engine = Engine(directory / "engine.db")
        stack.callback(engine.close)
        engines: dict[str, SearchEngine] = {"embedded": engine}
        node = None
        if postgresql:
            engines["PostgreSQL"] = stack.enter_context(postgresql_engine())
        if typesense:
            node = stack.enter_context(typesense_node() if cache is None else cached_node(*cache))
            engines["Typesense"] = TypesenseEngine(TypesenseAddress.parse(node.url))
        yield engines, node


def resident_mb(pid: int) -> float:
    """A process's resident memory, MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--postgresql", action="store_true")
    parser.add_argument("--typesense", action="store_true")
    parser.add_argument("--no-reimport", action="store_true", help="import once (at scale)")
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="with --no-reimport, import into Typesense again rather than reuse an earlier "
        "run's node data (~/.cache/retriever-pages/typesense/)",
    )
    args = parser.parse_args()
    rows = list(catalog(args.scale))
    cases = {
        kind: [" ".join(words) for words in texts]
        for kind, texts in queries(rows, args.queries).items()
    }
    with (
        tempfile.TemporaryDirectory() as tmp,
        engines_in(
            Path(tmp),
            args.postgresql,
            args.typesense,
            (rows, args.scale) if args.no_reimport and not args.no_cache else None,
        ) as (engines, node),
    ):
        print(f"{len(rows):,} records (Debian's package catalog x{args.scale}); top {TOP_K}")
        rates = {}
        for name, engine in engines.items():
            if name == "Typesense" and isinstance(node, CachedNode) and node.complete:
                assert engine.count("bench", "debian") == len(rows), "the cached node is whole"
                print(f"import, {name}: skipped, the node's data kept from a run before")
                continue
            if isinstance(engine, TypesenseEngine) and isinstance(node, CachedNode):
                first = node.resumed_at(collection_name(engine.prefix, "bench", "debian"), BATCH)
                if first:
                    print(f"import, {name}: taken up at record {first:,}")
                build = partial(engine.upsert, "bench", "debian")
                rate = rates[name] = imported(build, rows, first, node.record_progress)
            else:
                rate = rates[name] = imported(partial(engine.upsert, "bench", "debian"), rows)
            again = (
                0.0
                if args.no_reimport
                else imported(partial(engine.upsert, "bench", "debian"), rows)
            )
            assert engine.count("bench", "debian") == len(rows), "re-import must not add records"
            print(
                f"import, {name}: {rate:,.0f} records/s"
                + (f", re-import of the same ids {again:,.0f}/s" if again else "")
            )
            if name == "Typesense" and isinstance(node, CachedNode):
                node.mark_complete()
        if node is not None and node.process is not None:
            print(f"Typesense node: {resident_mb(node.process.pid):,.0f} MB resident")
        baseline = None if args.no_baseline else Fts5Engine(Path(tmp) / "fts5.db")
        if baseline is not None:
            base_rate = imported(lambda batch: baseline.upsert("debian", batch), rows)
            print(f"import, FTS5 before: {base_rate:,.0f} records/s (the embedded engine "
                  f"{rates['embedded'] / base_rate:.2f}x)")  # fmt: skip

        def search(engine: SearchEngine, **options: Any) -> Callable[[str], Any]:
            def run(text: str) -> Any:
                return engine.search(
                    "bench", "debian", Search(fields=FIELDS, text=text, filters={}, limit=TOP_K,
                    offset=0, highlight=["title", "description"], **options)
                )  # fmt: skip

            return run

        kinds: dict[str, tuple[dict[str, Any], list[str]]] = {
            kind: ({}, texts) for kind, texts in cases.items()
        }
        kinds["facets (3 fields)"] = ({"facets": FACETS}, cases["common"])
        heads = "".join(f" {name + ' p50':>15} {'p99':>7}" for name in engines)
        print(f"\n{'query':<18}{heads}   {'FTS5 p50':>9} {'p99':>7}   (ms)")
        p99s: dict[tuple[str, str], float] = {}
        for kind, (options, texts) in kinds.items():
            line = f"{kind:<18}"
            for name, engine in engines.items():
                p50, p99s[kind, name] = timed(search(engine, **options), texts)
                line += f" {p50:>15.2f} {p99s[kind, name]:>7.2f}"
            if baseline is not None and not options:
                b50, b99 = timed(lambda text: baseline.search("debian", FIELDS, text, TOP_K), texts)
                line += f"   {b50:>9.2f} {b99:>7.2f}"
            print(line)
        verdicts(p99s, len(rows))


def verdicts(p99s: dict[tuple[str, str], float], records: int) -> None:
    """The targets at this size, and where Typesense stands against its own."""
    if records < 1_000_000:
        print(
            f"\ntarget at this size: median < {SMALL_TARGET[0]} ms, p99 < {SMALL_TARGET[1]} ms "
            "(embedded); Typesense's at 64k is through the server (bench/typesense.py)"
        )
        return
    print(f"\ntarget at this size: p99 < {LARGE_P99_TARGET} ms")
    for kind in ("one", "two"):
        if (kind, "Typesense") in p99s:
            p99 = p99s[kind, "Typesense"]
            met = "met" if p99 < LARGE_P99_TARGET else "missed"
            print(
                f"  Typesense, {kind} word{'s' if kind == 'two' else ''}: p99 {p99:.2f} ms, {met}"
            )


if __name__ == "__main__":
    main()
