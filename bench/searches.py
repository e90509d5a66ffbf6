"""The searches the relevance benchmark compares (bench/relevance.py): the product's engine by
words, the same engine by meaning and words (its own fusion), and an exact cosine scan.

Each answers a list of (document id, score), best first, equal scores by id: the engine leaves
a tie in the order of its index, which is no order at all for a measure.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from app.adapters.embedders import Vectors
from app.adapters.engine import ENGINE_FILE, Engine, Hit, Search
from app.adapters.engine.results import Fusion
from bench import embedding
from bench.judged import Document
from bench.ranking import Scored

DEPTH = 100  # how many of each ranked list a fusion reads
FIELDS = ["title", "text"]  # what a search by words reads, the title weighing more
EMBEDDED = ["text"]  # what a document's vector is made of
NAMESPACE, WORDS = "bench", "wordnet"
QUERY_CHUNK = 256  # queries scored against every document at once (memory: chunk x documents)


def collection(model: str) -> str:
    """The collection with `model`'s vectors (the same documents as the one without)."""
    return f"{WORDS}-{model}"


@contextmanager
def engine_with(documents: Sequence[Document], vectors: Mapping[str, Vectors]) -> Iterator[Engine]:
    """The engine in a temporary directory: `documents` in a collection of words alone, and in
    one more per model with its `vectors` (a row a document), as an import with an embedder
    set keeps them.

    Each collection is written in one upsert, one commit, so one segment: the engine breaks
    ties between equal scores (the documents a word's prefix or typo finds score alike) by
    their place in the segments, and with several, which a background merge may or may not
    have joined by the time of a search, which documents of a tie made the first 100 changed
    from one run to the next."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(Path(tmp) / ENGINE_FILE)
        try:
            rows = [{"document_id": d.id, "title": d.title, "text": d.text} for d in documents]
            engine.upsert(NAMESPACE, WORDS, rows)
            for model, rows_of in vectors.items():
                name = embedding.name(model)
                settings = {"fields": EMBEDDED, "model": name, "dimensions": rows_of.shape[1]}
                engine.set_embedding(NAMESPACE, collection(model), settings)
                engine.upsert(NAMESPACE, collection(model), rows, list(rows_of), name)
            yield engine
        finally:
            engine.close()


def keyword(engine: Engine, text: str) -> Scored:
    """The engine's search by words, as the embedded backend sends it."""
    return _ordered(
        engine.search(NAMESPACE, WORDS, Search(fields=FIELDS, text=text, limit=DEPTH)).hits
    )


def hybrid(
    engine: Engine,
    model: str,
    text: str,
    vector: Vectors,
    ratio: float,
    fusion: Fusion = "rrf",
) -> Scored:
    """The engine's search by meaning (`ratio` 1) or by meaning and words (by `fusion`, with
    `ratio` the semantic ratio), over the collection holding `model`'s vectors."""
    search = Search(
        fields=FIELDS,
        text=text,
        limit=DEPTH,
        vector=vector.tolist(),
        semantic_ratio=ratio,
        fusion=fusion,
    )
    return _ordered(engine.search(NAMESPACE, collection(model), search).hits)


def nearest(documents: Vectors, queries: Vectors, ids: Sequence[str]) -> list[Scored]:
    """Exact cosine search: each query's DEPTH nearest documents (rows are unit length)."""
    depth = min(DEPTH, len(ids))
    found: list[Scored] = []
    for start in range(0, len(queries), QUERY_CHUNK):
        scores = queries[start : start + QUERY_CHUNK] @ documents.T
        top = np.argpartition(-scores, depth - 1, axis=1)[:, :depth]
        for row, columns in zip(scores, top, strict=True):
            ordered = sorted(columns, key=lambda column: (-row[column], ids[column]))
            found.append([(ids[column], float(row[column])) for column in ordered])
    return found


def _ordered(hits: Sequence[Hit]) -> Scored:
    return sorted(((hit.document_id, hit.score) for hit in hits), key=lambda h: (-h[1], h[0]))
