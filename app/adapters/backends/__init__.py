"""Retrieval backends behind one small protocol: search (a query, a page of documents), and
read one document by its id.

`Backends` is the registry the rest of the server reads: a retriever's `backend.type` names
an entry, whose config model parses the stored `backend` object and whose backend runs the
queries. The wiring registers each kind once, in order, with what it needs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from app.adapters.engine.results import Relevance
from app.errors import BadGateway
from app.schemas.search import QUERY_VECTOR_INPUT, FacetCount, SearchRequest


@dataclass(frozen=True)
class Query:
    """What a backend is asked: one checked search of one retriever's backend."""

    namespace: str
    backend: Any  # the retriever's backend config, parsed by its kind's model
    search: SearchRequest  # its inputs validated against the display config
    exposed: tuple[str, ...] = ()  # the only fields a backend may highlight
    relevance: Relevance | None = None  # the retriever's rules for this search (local only)

    def asks_engine_only(self) -> str | None:
        """The first option only the embedded engine answers, if this query uses one."""
        for name in ("facets", "sort", "similar_to"):
            if getattr(self.search, name):
                return name
        if self.search.vector is not None:
            return f"inputs.{QUERY_VECTOR_INPUT}"
        return None


@dataclass(frozen=True)
class Page:
    """What a backend answers: documents as it has them (filtered later), and the total."""

    documents: list[dict[str, Any]]
    total: int | None
    facets: dict[str, list[FacetCount]] | None = None  # when asked for
    left_out: tuple[str, ...] = ()  # the query's words the best match lacks, when none has all


class Backend(Protocol):
    async def search(self, query: Query) -> Page:
        """One page of documents for the query, as the backend has them."""
        ...

    async def document(
        self, namespace: str, backend: Any, document_id: str
    ) -> dict[str, Any] | None:
        """One document by its id (with its `document_id`), as the backend has it, or None."""
        ...

    async def check(self, namespace: str, backend: Any) -> None:
        """What publishing asks of the backend beyond its config (that an upstream's
        collection is there and opens with its key): a 422 naming what is wrong."""
        ...


class SecretValues(Protocol):
    """Where a backend finds a secret's value (the vault), without knowing the vault."""

    async def value(self, namespace: str, name: str) -> str | None: ...


@dataclass(frozen=True)
class BackendKind:
    config: type[BaseModel]
    backend: Backend


class Backends(Mapping[str, BackendKind]):
    def __init__(self) -> None:
        self._kinds: dict[str, BackendKind] = {}

    def register(self, name: str, config: type[BaseModel], backend: Backend) -> None:
        if name in self._kinds:
            raise ValueError(f"backend {name!r} is registered twice")
        self._kinds[name] = BackendKind(config, backend)

    def __getitem__(self, name: str) -> BackendKind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def parse(self, backend: dict[str, Any]) -> BaseModel:
        """A stored `backend` object as its kind's config model."""
        kind = self._kinds.get(str(backend.get("type")))
        if kind is None:
            raise BadGateway("The retriever's backend is of a kind this server does not run.")
        return kind.config.model_validate(backend)
