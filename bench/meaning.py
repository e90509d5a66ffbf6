"""Search by meaning on the Debian catalog: import with the built-in embedder, then keyword,
hybrid and semantic searches and find-similar, through the embedded engine in process (the
query's embedding included), p50 and p99 of each, in one run. `--engine postgres` runs the same
through the engine in PostgreSQL, on the test extra's PostgreSQL with pgvector (started for the
run, as bench.pgvectors does).

    .venv/bin/python -m bench.meaning [--quick] [--engine embedded|postgres]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio

from app.adapters.destinations import DestinationPolicy
from app.adapters.embedders import Embedders
from app.adapters.embedders.wordllama import EMBEDDER
from app.adapters.engine import Engine, PgEngine, Search, SearchEngine
from app.schemas.collections import CollectionEmbedding
from app.schemas.embedders import WordLlamaConfig
from app.services.embedding import Embedding
from app.services.importing import import_file
from bench import debian, pgvectors

FIELDS = ["title", "description"]
NAMESPACE, COLLECTION = "bench", "debian"


def _percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return times[len(times) // 2], times[min(len(times) - 1, int(len(times) * 0.99))]


async def _timed(run: Callable[[int], Awaitable[object]], count: int) -> tuple[float, float]:
    """Each search on one event loop, as the server runs them (the query's embedding on it)."""
    times = []
    for number in range(count):
        started = time.perf_counter()
        await run(number)
        times.append((time.perf_counter() - started) * 1000)
    return _percentiles(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer records and queries")
    parser.add_argument("--engine", choices=("embedded", "postgres"), default="embedded")
    args = parser.parse_args()
    queries_count = 100 if args.quick else 500
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        source = Path(tmp) / "debian.jsonl"
        records = debian.write(source)
        if args.quick:
            lines = source.read_text().splitlines()[:10_000]
            source.write_text("\n".join(lines) + "\n")
            records = len(lines)
        engine = stack.enter_context(_engine(args.engine, Path(tmp)))
        embedders = Embedders()  # the built-in one alone: nothing here reaches out
        embedders.register("wordllama", WordLlamaConfig, lambda config, namespace: EMBEDDER)
        embedding = Embedding(engine, embedders, DestinationPolicy.parse([]))
        settings = CollectionEmbedding(fields=FIELDS)
        anyio.run(_configure, embedding, settings)
        started = time.perf_counter()
        import_file(engine, NAMESPACE, COLLECTION, source)
        words_seconds = time.perf_counter() - started
        anyio.run(embedding.fill, NAMESPACE, COLLECTION)
        seconds = time.perf_counter() - started
        fill_us = (seconds - words_seconds) / records * 1e6
        print(f"{records:,} Debian packages, embedded fields {', '.join(FIELDS)}; {args.engine}")
        print(
            f"import: {records / seconds:,.0f} records/s with vectors "
            f"({records / words_seconds:,.0f} records/s words alone; "
            f"{records / seconds / (records / words_seconds):.2f} of it); "
            f"the fill {fill_us:.0f} µs a document"
        )
        _searches(engine, queries_count)


@contextlib.contextmanager
def _engine(kind: str, directory: Path) -> Iterator[SearchEngine]:
    engine: SearchEngine
    if kind == "embedded":
        engine = Engine(directory / "engine.db")
        yield engine
        engine.close()
        return
    with pgvectors.server(None) as store:
        yield PgEngine(store.engine)


async def _configure(embedding: Embedding, settings: CollectionEmbedding) -> None:
    await embedding.configure(NAMESPACE, COLLECTION, settings, background=False)


def _searches(engine: SearchEngine, count: int) -> None:
    rng = random.Random(7)
    words = [
        word
        for record in debian.records()
        for word in str(record.get("description", "")).lower().split()
        if word.isalpha() and len(word) > 3
    ][:50_000]
    texts = [" ".join(rng.sample(words, rng.choice((1, 2)))) for _ in range(count)]
    some = engine.search(NAMESPACE, COLLECTION, Search(fields=FIELDS, limit=1000))
    ids = [hit.document_id for hit in some.hits]

    def search(ratio: float, **options: Any) -> Callable[[int], Awaitable[object]]:
        async def run(number: int) -> object:
            text = texts[number]
            vector = (await EMBEDDER.embed([text], "query"))[0] if ratio else None
            asked = Search(
                fields=FIELDS, text=text, limit=20, vector=vector, semantic_ratio=ratio, **options
            )
            return engine.search(NAMESPACE, COLLECTION, asked)

        return run

    async def similar(number: int) -> object:
        asked = Search(fields=FIELDS, similar_to=ids[number % len(ids)], limit=20)
        return engine.search(NAMESPACE, COLLECTION, asked)

    async def measure() -> None:
        await search(0.5)(0)  # the first search by meaning reads the vectors in
        print("searches (ms, in process, the query's embedding included):")
        for name, run in (
            ("keyword", search(0)),
            ("hybrid 0.5", search(0.5)),
            ("semantic", search(1.0)),
            ("hybrid, filter section=libs", search(0.5, filters={"section": "libs"})),
            ("find similar", similar),
        ):
            p50, p99 = await _timed(run, count)
            print(f"  {name:30} p50 {p50:6.2f}  p99 {p99:6.2f}")

    anyio.run(measure)


if __name__ == "__main__":
    main()
