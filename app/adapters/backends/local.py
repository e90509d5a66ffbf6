"""The embedded engine as a backend: one input is the full-text query, the others filter."""

from __future__ import annotations

from typing import Any

from app.adapters.backends import Page, Query
from app.adapters.embedders import Embedders
from app.adapters.engine import Hit, Search, SearchEngine, Unsortable
from app.adapters.threads import in_thread
from app.errors import invalid
from app.schemas.retrievers import LocalBackendConfig

QUERY_INPUT = "query"
PROVIDED = "provided"  # an embedder that makes no vector from text


class LocalBackend:
    def __init__(self, engine: SearchEngine, embedders: Embedders) -> None:
        self.engine = engine
        self.embedders = embedders

    async def search(self, query: Query) -> Page:
        config: LocalBackendConfig = query.backend
        meaning = await self._meaning(query)
        if self.engine.quick(query.namespace, config.collection):
            return self._search(query, meaning)
        return await in_thread(self._search, query, meaning)

    async def _meaning(self, query: Query) -> tuple[Any, float] | None:
        """The text query's vector and the weight of meaning, when the retriever searches by
        meaning and its collection embeds with a model that reads text."""
        config: LocalBackendConfig = query.backend
        text = query.search.inputs.get(QUERY_INPUT)
        if config.mode == "keyword" or not isinstance(text, str) or not text.strip():
            return None
        stored = self.engine.embedding(query.namespace, config.collection)
        if stored is None or stored.get("embedder", {}).get("type") == PROVIDED:
            return None
        if not set(stored["fields"]) <= set(query.exposed):
            return None  # a hidden field never shapes a result (publishing says so)
        embedder = self.embedders.of(stored["embedder"], query.namespace)
        [vector] = await embedder.embed([text], "query")
        if query.search.semantic_ratio is not None:
            return vector, query.search.semantic_ratio
        return vector, 1.0 if config.mode == "semantic" else config.semantic_ratio

    async def document(
        self, namespace: str, backend: Any, document_id: str
    ) -> dict[str, Any] | None:
        config: LocalBackendConfig = backend
        body = self.engine.document(namespace, config.collection, document_id)
        return None if body is None else {**body, "document_id": document_id}

    def _search(self, query: Query, meaning: tuple[Any, float] | None = None) -> Page:
        config: LocalBackendConfig = query.backend
        asked = query.search
        text = asked.inputs.get(QUERY_INPUT) or ""
        filters = {
            name: _filter_value(name, value)
            for name, value in asked.inputs.items()
            if name != QUERY_INPUT and _filters_on(value)
        }
        try:
            search = Search(
                fields=config.search_fields,
                text=text if isinstance(text, str) else "",
                filters=filters,
                limit=asked.page_size,
                offset=asked.offset,
                tree=asked.filters,
                facets=asked.facets,
                sort=asked.sort,
                similar_to=asked.similar_to,
                highlight=[f for f in config.search_fields if f in query.exposed],
                vector=meaning[0] if meaning else None,
                semantic_ratio=meaning[1] if meaning else 0.0,
            )
            result = self.engine.search(query.namespace, config.collection, search)
        except LookupError:
            raise invalid(
                "similar_to",
                "the id of a document in the collection",
                f"similar_to: no document {asked.similar_to!r} is in this retriever's collection.",
            ) from None
        except Unsortable as error:
            raise invalid(
                "sort[0].field",
                "a field holding numbers or ISO dates",
                f"sort[0].field: {error.field!r} holds no numbers or ISO dates to sort by.",
            ) from None
        return Page(
            documents=[_document(hit) for hit in result.hits],
            total=result.total,
            facets=result.facets if asked.facets else None,
            left_out=result.left_out,
        )


def _document(hit: Hit) -> dict[str, Any]:
    document = {**hit.body, "document_id": hit.document_id, "score": hit.score}
    if hit.highlights:
        document["highlights"] = hit.highlights
    return document


def _filter_value(name: str, value: Any) -> Any:
    """A value the engine can match a field against: a scalar, or a list of them (any of)."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str | int | float) for item in items):
        raise invalid(
            f"inputs.{name}",
            "a value or a list of values to match",
            f"inputs.{name} cannot filter the embedded engine: it matches a field against a "
            "value or a list of values, not an object.",
        )
    return value


def _filters_on(value: Any) -> bool:
    """An empty value (unset select, unticked box, blank text) filters nothing."""
    return value not in (None, "", [], False)
