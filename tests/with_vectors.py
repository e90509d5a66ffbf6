"""An engine whose collections search by meaning as well as by words: the "with vectors"
variant of every engine test (`new_engine` in conftest.py), on both engines."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
from numpy.typing import ArrayLike

from app.adapters import texts
from app.adapters.embedders.wordllama import EMBEDDER
from app.adapters.engine import Search, SearchEngine, SearchResult, UpsertResult

FIELDS = ["title", "description"]  # what every collection embeds
MODEL = EMBEDDER.name
SETTINGS = {
    "fields": FIELDS,
    "embedder": {"type": "wordllama"},
    "model": MODEL,
    "dimensions": EMBEDDER.dimensions,
}


def embed(passages: list[str], kind: Any = "document") -> Any:
    return anyio.run(EMBEDDER.embed, passages, kind)


class WithVectors:
    """A real engine whose every collection embeds its documents' title and description with
    the built-in model: each write carries its documents' vectors, as a write through the API
    does (`services/embedding.py`), and each search with text its query's vector, as a hybrid
    retriever's does (`backends/local.py`), at the search's own `semantic_ratio`, unless its
    vectors may not rank it (`meaning` false, as a keyword retriever's). The rest is the
    engine's own."""

    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine

    def upsert(
        self,
        namespace: str,
        collection: str,
        documents: Sequence[Mapping[str, Any]],
        vectors: Sequence[ArrayLike | None] | None = None,
        model: str | None = None,
    ) -> UpsertResult:
        if self.engine.embedding(namespace, collection) is None:
            self.engine.set_embedding(namespace, collection, SETTINGS)
        made = embed([texts.joined(document, FIELDS) for document in documents])
        return self.engine.upsert(namespace, collection, documents, list(made), MODEL)

    def search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        if search.vector is None and search.meaning and search.text.strip():
            search = dataclasses.replace(search, vector=embed([search.text], "query")[0])
        return self.engine.search(namespace, collection, search)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


def hybrid(engine: Any) -> bool:
    """Whether a test's engine searches by meaning too (the variant with vectors)."""
    return isinstance(engine, WithVectors)


def unwrapped(engine: Any) -> SearchEngine:
    """The engine itself, with vectors or without."""
    inner: SearchEngine = engine.engine if hybrid(engine) else engine
    return inner
