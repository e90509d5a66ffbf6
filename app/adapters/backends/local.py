"""The embedded engine as a backend: one input is the full-text query, the others filter; a
query may bring its own vector where the collection's documents bring theirs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from app.adapters.backends import Page, Query
from app.adapters.embedders import Embedders, Vectors
from app.adapters.embedders.provided import ProvidedVectors
from app.adapters.engine import (
    Hit,
    ReadsOnce,
    Search,
    SearchEngine,
    SearchesOnLoop,
    SearchResult,
    Unsortable,
)
from app.adapters.threads import in_thread, on_loop_allowed
from app.errors import invalid
from app.schemas.retrievers import LocalBackendConfig
from app.schemas.search import BY_MEANING, QUERY_VECTOR_INPUT, SearchRequest

QUERY_INPUT = "query"
PROVIDED = "provided"  # an embedder that makes no vector from text
VECTOR_FIELD = f"inputs.{QUERY_VECTOR_INPUT}"


@dataclass(frozen=True)
class Meaning:
    allowed: bool = False  # the collection's vectors may rank results (find similar too)
    vector: Any = None  # the query's: its text's, or its own
    ratio: float = 0.0
    # The field where the collection's documents bring their vectors: numbers for the engine,
    # never a field of a result.
    held: str | None = None


class LocalBackend:
    def __init__(self, engine: SearchEngine, embedders: Embedders) -> None:
        self.engine = engine
        self.embedders = embedders
        self._one_read = engine.one_read if isinstance(engine, ReadsOnce) else nullcontext

    async def search(self, query: Query) -> Page:
        config: LocalBackendConfig = query.backend
        # On the loop when quick, unless the search runs beside others (a page's All tab);
        # with no vector to make first, in one read of the collection (`ReadsOnce`).
        if on_loop_allowed():
            with self._one_read():
                quick = self.engine.quick(query.namespace, config.collection)
                if quick:
                    stored = self._stored(query)
                    meaning = self._known_meaning(query, stored)
                    if meaning is not None:
                        return self._search(query, meaning)
            if quick:
                return self._search(query, await self._meaning(query, stored))
        if isinstance(self.engine, SearchesOnLoop):
            page = await self._on_loop(query, self.engine)
            if page is not None:
                return page
        # An engine over the network: its embedding settings and the search in one turn of a
        # worker thread, never on the loop; back to the loop only to embed the query's text.
        found = await in_thread(self._settled, query)
        if isinstance(found, Page):
            return found
        return await in_thread(self._search, query, await self._meaning(query, found))

    def _settled(self, query: Query) -> Page | dict[str, Any] | None:
        """The search's page when no vector is to be made from its text first; else the
        collection's embedding settings, to make it with."""
        stored = self._stored(query)
        meaning = self._known_meaning(query, stored)
        return stored if meaning is None else self._search(query, meaning)

    def _stored(self, query: Query) -> dict[str, Any] | None:
        return self.engine.embedding(query.namespace, query.backend.collection)

    async def _meaning(self, query: Query, stored: dict[str, Any] | None) -> Meaning:
        """`_known_meaning`, with the query's text embedded where it needs to be."""
        known = self._known_meaning(query, stored)
        if known is not None:
            return known
        assert stored is not None
        embedder = self.embedders.of(stored["embedder"], query.namespace)
        [vector] = await embedder.embed([query.search.inputs[QUERY_INPUT]], "query")
        return Meaning(allowed=True, vector=vector, ratio=_ratio(query.search, query.backend))

    def _known_meaning(self, query: Query, stored: dict[str, Any] | None) -> Meaning | None:
        """Whether the collection's vectors may rank this search (the retriever searches by
        meaning, and its page exposes every field they were made from: a hidden field never
        shapes a result, publishing says so), and the query's vector when there is one: its
        own; None when it is its text's, still to be made by the model that reads text."""
        config: LocalBackendConfig = query.backend
        asked = query.search
        held = _held(stored)
        if asked.vector is not None:
            vector = self._given(query, stored, asked.vector)
            return Meaning(allowed=True, vector=vector, ratio=_ratio(asked, config), held=held)
        if config.mode == "keyword" or stored is None:
            return Meaning(held=held)
        if held is None and not set(stored["fields"]) <= set(query.exposed):
            return Meaning()
        text = asked.inputs.get(QUERY_INPUT)
        if held is not None or not isinstance(text, str) or not text.strip():
            return Meaning(allowed=True, held=held)
        return None

    def _given(
        self, query: Query, stored: dict[str, Any] | None, vector: tuple[float, ...]
    ) -> Vectors:
        """The query's own vector checked against the collection's (its length, as a unit
        vector), or a 422 naming it where this retriever cannot search with one: never
        taken and left unused."""
        config: LocalBackendConfig = query.backend
        collection = repr(config.collection)
        if config.mode == "keyword":
            reason = "this retriever searches by words only (its mode is keyword)"
        elif stored is None:
            reason = f"the collection {collection} has no vectors"
        elif _held(stored) is None:
            reason = (
                f"the collection {collection} makes its vectors from text ({stored['model']}), "
                "so the query's words are embedded the same way"
            )
        else:
            embedder = self.embedders.of(stored["embedder"], query.namespace)
            assert isinstance(embedder, ProvidedVectors)
            return embedder.vector(list(vector), VECTOR_FIELD)
        raise invalid(
            VECTOR_FIELD,
            "left out for this retriever",
            f"{VECTOR_FIELD}: {reason}. A query brings its own vector only to a retriever "
            "that searches by meaning over a collection whose documents bring theirs (its "
            "embedder's type is provided).",
        )

    async def document(
        self, namespace: str, backend: Any, document_id: str
    ) -> dict[str, Any] | None:
        config: LocalBackendConfig = backend
        body = self.engine.document(namespace, config.collection, document_id)
        if body is None:
            return None
        held = _held(self.engine.embedding(namespace, config.collection))
        return {**_without(body, held), "document_id": document_id}

    async def check(self, namespace: str, backend: Any) -> None:
        """Nothing to ask beyond the config."""

    def _search(self, query: Query, meaning: Meaning) -> Page:
        with _refused(query):
            asked = self._asked(query, meaning)
            result = self.engine.search(query.namespace, query.backend.collection, asked)
        return _page(query, result, meaning)

    async def _on_loop(self, query: Query, engine: SearchesOnLoop) -> Page | None:
        """The page, searched on the event loop when the engine can (`SearchesOnLoop`): its
        embedding settings known without asking, and no vector to make or bring; else None."""
        known, stored = engine.embedding_known(query.namespace, query.backend.collection)
        meaning = self._known_meaning(query, stored) if known else None
        if meaning is None or meaning.vector is not None:
            return None
        with _refused(query):
            asked = self._asked(query, meaning)
            result = await engine.search_on_loop(query.namespace, query.backend.collection, asked)
        return None if result is None else _page(query, result, meaning)

    @staticmethod
    def _asked(query: Query, meaning: Meaning) -> Search:
        config: LocalBackendConfig = query.backend
        asked = query.search
        text = asked.inputs.get(QUERY_INPUT) or ""
        filters = {
            name: _filter_value(name, value)
            for name, value in asked.inputs.items()
            if name != QUERY_INPUT and _filters_on(value)
        }
        return Search(
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
            meaning=meaning.allowed,
            vector=meaning.vector,
            semantic_ratio=meaning.ratio,
            fusion=config.fusion,
            relevance=query.relevance,
        )


@contextmanager
def _refused(query: Query) -> Iterator[None]:
    """The engine's refusals of what was asked, as 422s naming the field."""
    try:
        yield
    except LookupError:
        raise invalid(
            "similar_to",
            "the id of a document in the collection",
            f"similar_to: no document {query.search.similar_to!r} is in this retriever's "
            "collection.",
        ) from None
    except Unsortable as error:
        raise invalid(
            "sort[0].field",
            "a field holding numbers or ISO dates",
            f"sort[0].field: {error.field!r} holds no numbers or ISO dates to sort by.",
        ) from None


def _page(query: Query, result: SearchResult, meaning: Meaning) -> Page:
    facets = result.facets if query.search.facets else None
    if facets and meaning.held in facets:
        facets = {**facets, str(meaning.held): []}  # a vector's numbers are no values
    return Page(
        documents=[_document(hit, meaning) for hit in result.hits],
        total=result.total,
        facets=facets,
        left_out=result.left_out,
    )


def _document(hit: Hit, meaning: Meaning) -> dict[str, Any]:
    """A hit as a result: without the vector its document brought; marked when found by
    meaning alone (none of the query's words are in its search fields: no highlights)."""
    body, held = hit.body, meaning.held
    # (a dictionary's copy is made at once, where `{**body, ...}` adds its fields one by one)
    document = body.copy() if held is None or held not in body else _without(body, held)
    document["document_id"] = hit.document_id
    document["score"] = hit.score
    if hit.highlights:
        document["highlights"] = hit.highlights
    elif meaning.vector is not None and meaning.ratio > 0:
        document[BY_MEANING] = True
    return document


def _held(stored: dict[str, Any] | None) -> str | None:
    """The field where a collection's documents bring their own vectors, if they do."""
    embedder = (stored or {}).get("embedder") or {}
    return str(embedder["field"]) if embedder.get("type") == PROVIDED else None


def _without(body: dict[str, Any], held: str | None) -> dict[str, Any]:
    if held is None or held not in body:
        return body
    return {name: value for name, value in body.items() if name != held}


def _ratio(asked: SearchRequest, config: LocalBackendConfig) -> float:
    """How much meaning weighs: the search's own choice (within the publisher's bounds,
    checked), else all of it in semantic mode and the retriever's ratio in hybrid."""
    if asked.semantic_ratio is not None:
        return asked.semantic_ratio
    return 1.0 if config.mode == "semantic" else config.semantic_ratio


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
