"""Search by meaning at a million documents: Debian's catalog (bench.debian) sixteen times, each
copy varied (a fifth of each description's words swapped for words of other packages, and the
name marked), imported with the built-in embedder through the embedded engine; then the vector
index's build, memory, save and load, and keyword, hybrid, semantic, hybrid within a filter
keeping about 10% (section=libs) and find-similar searches, p50 and p99 of each, the query's
embedding included. It takes about 20 minutes on two cores.

    .venv/bin/python -m bench.meaningscale [--copies 16] [--queries 300] [--data DIR]

With `--data DIR`, the engine is built in DIR and kept; a later run with the same DIR skips the
import and the build, and times a restart (the saved index loaded) and the searches again.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

from app.adapters.destinations import DestinationPolicy
from app.adapters.embedders import Embedders
from app.adapters.embedders.wordllama import EMBEDDER
from app.adapters.engine import Engine, Search
from app.adapters.engine.vectors import VectorIndex
from app.adapters.engine.vectorsets import VECTOR_FILE
from app.schemas.collections import CollectionEmbedding
from app.schemas.embedders import WordLlamaConfig
from app.services.embedding import Embedding
from app.services.importing import import_file
from bench import debian
from bench.meaning import COLLECTION, FIELDS, NAMESPACE, _searches

SWAPPED = 0.2  # share of a copy's description words taken from other packages
MIB = 1024 * 1024


def varied(copies: int, seed: int = 11) -> Iterator[dict[str, Any]]:
    """The catalog `copies` times; each copy after the first varied, so that no two vectors
    are the same (a graph of exact duplicates is not what a catalog makes)."""
    rows = list(debian.records())
    words = [str(row["description"]).split() for row in rows]
    rng = random.Random(seed)
    for copy in range(copies):
        for row, own in zip(rows, words, strict=True):
            if not copy:
                yield row
                continue
            other = words[rng.randrange(len(words))] or own
            description = [rng.choice(other) if rng.random() < SWAPPED else word for word in own]
            yield {
                **row,
                "document_id": f"{row['document_id']}#{copy}",
                "title": f"{row['title']} {copy}",
                "description": " ".join(description),
            }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=16)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--data", type=Path, help="a directory to build the engine in and keep")
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = args.data or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if (tmp / "engine.db").exists():
            _restart(tmp, args.queries)
            return
        tmp.mkdir(parents=True, exist_ok=True)
        source = Path(tmp) / "catalog.jsonl"
        with source.open("w") as out:
            records = sum(out.write(json.dumps(row) + "\n") > 0 for row in varied(args.copies))
        engine = Engine(Path(tmp) / "engine.db")
        embedders = Embedders()
        embedders.register("wordllama", WordLlamaConfig, lambda config, namespace: EMBEDDER)
        embedding = Embedding(engine, embedders, DestinationPolicy.parse([]))

        async def configure() -> None:
            settings = CollectionEmbedding(fields=FIELDS)
            await embedding.configure(NAMESPACE, COLLECTION, settings, background=False)

        anyio.run(configure)
        started = time.perf_counter()
        import_file(engine, NAMESPACE, COLLECTION, source)
        words_seconds = time.perf_counter() - started
        anyio.run(embedding.fill, NAMESPACE, COLLECTION)
        seconds = time.perf_counter() - started
        print(f"{records:,} documents (Debian's catalog x{args.copies}, varied); embedded")
        print(
            f"import: {records / seconds:,.0f} records/s with vectors "
            f"({records / words_seconds:,.0f} records/s words alone)"
        )
        vector = anyio.run(EMBEDDER.embed, ["text editor"], "query")[0]
        first = Search(fields=FIELDS, text="text editor", vector=vector, limit=20)
        started = time.perf_counter()
        engine.search(NAMESPACE, COLLECTION, first)  # builds the vector index from SQLite
        built = time.perf_counter() - started
        [held] = engine.vectors._held.values()
        if held.saving is not None:
            held.saving.join()  # (the save a first build starts in the background)
        index = held.index
        per_million = index.nbytes / len(index) * 1_000_000 / MIB
        print(
            f"vector index: {len(index):,} vectors built from SQLite in {built:.1f} s; "
            f"{index.nbytes / MIB:,.0f} MiB ({per_million:,.0f} MiB per million 256-dimension "
            f"vectors: graph in half precision and the rows beside it)"
        )
        path = Path(tmp) / "saved-vectors"
        started = time.perf_counter()
        index.save(path)
        saved = time.perf_counter() - started
        started = time.perf_counter()
        VectorIndex.load(path, index.dimensions)
        loaded = time.perf_counter() - started
        print(
            f"its file: {path.stat().st_size / MIB:,.0f} MiB, saved in {saved:.1f} s, "
            f"loaded and checked in {loaded:.1f} s"
        )
        assert any(engine.indexes.root.glob(f"*/{VECTOR_FILE}"))
        engine.close()
        source.unlink()
        _restart(tmp, args.queries)


def _restart(directory: Path, queries: int) -> None:
    vector = anyio.run(EMBEDDER.embed, ["text editor"], "query")[0]
    first = Search(fields=FIELDS, text="text editor", vector=vector, limit=20)
    started = time.perf_counter()
    engine = Engine(directory / "engine.db")
    engine.search(NAMESPACE, COLLECTION, first)  # loads the saved index
    print(f"a restart's first search by meaning: {time.perf_counter() - started:.1f} s")
    _searches(engine, queries)
    engine.close()


if __name__ == "__main__":
    main()
