"""What every engine does, whichever store holds it: the embedded one (`core.Engine`, SQLite and
tantivy in the data directory) and the shared one (`pg.PgEngine`, PostgreSQL, used when the
store is PostgreSQL so that every server behind a load balancer reads the same collections)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from numpy.typing import ArrayLike

from app.adapters.engine.results import Search, SearchResult, UpsertResult

# Features an engine may not carry (`SearchEngine.lacks`), by the name a 422 gives them.
MEANING = "search by meaning"  # vectors: a collection's embedding, a retriever's mode "semantic"
SUBSTRING_FILTERS = "the filter operators contains, starts_with and ends_with"
FEATURES = (MEANING, SUBSTRING_FILTERS)


class SearchEngine(Protocol):
    def lacks(self) -> Mapping[str, str]:
        """The features of `FEATURES` this engine does not carry, each with the engine's name
        ("the Typesense engine"): a retriever that needs one is refused when it is created,
        changed or published, and a search asking for one is refused by name."""
        ...

    def upsert(
        self,
        namespace: str,
        collection: str,
        documents: Sequence[Mapping[str, Any]],
        vectors: Sequence[ArrayLike | None] | None = None,
        model: str | None = None,
    ) -> UpsertResult:
        """Insert or replace documents by `document_id`; with `vectors` (one a document, or
        None), made by the embedder `model`, their vectors too."""
        ...

    def set_embedding(
        self, namespace: str, collection: str, embedding: dict[str, Any] | None
    ) -> None:
        """Keep a collection's embedding settings (`fields`, `embedder`, `model`,
        `dimensions`; None: none). Another model clears its vectors, to be made again."""
        ...

    def embedding(self, namespace: str, collection: str) -> dict[str, Any] | None: ...

    def vector_count(self, namespace: str, collection: str) -> int: ...

    def without_vectors(
        self, namespace: str, collection: str, limit: int, after: int = 0
    ) -> tuple[str | None, list[tuple[int, dict[str, Any]]]]:
        """The collection's embedding model and some of its documents without a vector."""
        ...

    def put_vectors(
        self, namespace: str, collection: str, model: str, vectors: Sequence[tuple[int, ArrayLike]]
    ) -> int:
        """Set vectors `model` made, for documents still without one; how many were set."""
        ...

    def delete(self, namespace: str, collection: str, document_id: str) -> bool: ...

    def drop(self, namespace: str, collection: str) -> int | None: ...

    def search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        """One page of `search` over the collection (see `Search`). A `similar_to` that names
        no document raises `LookupError`; a sort by a field without numbers or dates,
        `Unsortable`."""
        ...

    def document(self, namespace: str, collection: str, document_id: str) -> Any:
        """One stored document's body, or None when the collection does not hold it."""
        ...

    def prefix_values(
        self, namespace: str, field: str, prefix: str, limit: int, collection: str | None = None
    ) -> list[tuple[str, int]]: ...

    def prefix_terms(
        self, namespace: str, collection: str, fields: list[str], prefix: str, limit: int
    ) -> list[tuple[str, int]]: ...

    def collection_names(
        self, namespace: str, prefix: str, limit: int
    ) -> list[tuple[int, str]]: ...

    def text_fields(self, namespace: str, collection: str) -> list[str]: ...

    def count(self, namespace: str, collection: str) -> int: ...

    def quick(self, namespace: str, collection: str) -> bool:
        """Whether a search of this collection is sure to be quick enough to run on the
        event loop (cheaper there than the hop to a thread), rather than in a thread."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class SearchesOnLoop(Protocol):
    """An engine over the network that answers a plain search on the event loop, awaiting its
    one request, rather than in a worker thread (`typesense/onloop.py`)."""

    def embedding_known(
        self, namespace: str, collection: str
    ) -> tuple[bool, dict[str, Any] | None]: ...

    async def search_on_loop(
        self, namespace: str, collection: str, search: Search
    ) -> SearchResult | None:
        """As `search`, or None when it cannot be answered so: then `search`, in a thread."""
        ...


@runtime_checkable
class ReadsOnce(Protocol):
    """An engine whose reads of one thread can take a collection as the first of them found
    it (`core.Engine`): a quick search's reads, with nothing awaited in between, in one."""

    def one_read(self) -> AbstractContextManager[None]: ...
