"""Filling a collection's vectors: every document gets the vector its own text makes, once,
however many batches the fill takes (a batch is written while the next one is embedded)."""

from __future__ import annotations

from pathlib import Path

import anyio
import numpy as np

from app.adapters.destinations import DestinationPolicy
from app.adapters.embedders import Embedders
from app.adapters.embedders.wordllama import EMBEDDER
from app.adapters.engine import Engine, Search
from app.adapters.texts import joined
from app.schemas.collections import CollectionEmbedding
from app.schemas.embedders import WordLlamaConfig
from app.services.embedding import FILL_BATCH, Embedding

FIELDS = ["title"]
WORDS = ["sofa", "kettle", "lamp", "garden", "flask", "violin", "bicycle", "tent", "clock"]


def _documents(count: int) -> list[dict[str, str]]:
    return [
        {"document_id": f"d{n}", "title": f"{WORDS[n % len(WORDS)]} {WORDS[n // 7 % len(WORDS)]}"}
        for n in range(count)
    ]


def test_a_fill_of_several_batches_gives_each_document_its_own_vector(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "engine.db")
    embedders = Embedders()
    embedders.register("wordllama", WordLlamaConfig, lambda config, namespace: EMBEDDER)
    embedding = Embedding(engine, embedders, DestinationPolicy.parse([]))
    documents = _documents(2 * FILL_BATCH + 37)
    engine.upsert("ns", "shop", documents)

    progress: list[tuple[int, int]] = []

    async def fill() -> tuple[int, int]:
        settings = CollectionEmbedding(fields=FIELDS)
        await embedding.configure("ns", "shop", settings, background=False)
        made = await embedding.fill("ns", "shop", lambda *counts: progress.append(counts))
        return made, await embedding.fill("ns", "shop")

    made, again = anyio.run(fill)
    assert (made, again) == (len(documents), 0)  # each once
    assert engine.vector_count("ns", "shop") == len(documents)
    total = len(documents)
    assert progress == [(FILL_BATCH, total), (2 * FILL_BATCH, total), (total, total)]
    # Each document is nearest to its own text's vector (a vector is its words' mean: a
    # document with the same words, in any order, ties with it).
    for document in documents[:: FILL_BATCH // 3]:
        text = joined(document, FIELDS)
        [vector] = anyio.run(EMBEDDER.embed, [text], "query")
        found = engine.search(
            "ns", "shop", Search(fields=FIELDS, vector=vector, semantic_ratio=1.0, limit=1)
        )
        assert sorted(found.hits[0].body["title"].split()) == sorted(text.split())
        assert np.isclose(found.hits[0].score, 1.0, atol=1e-3)
    engine.close()
