"""Retrieval backends behind one small protocol: run a query, get a page of documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Query:
    """What a backend is asked: validated inputs and one page."""

    namespace: str
    backend: dict[str, Any]
    inputs: dict[str, Any]
    page_number: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page_number - 1) * self.page_size


@dataclass(frozen=True)
class Page:
    """What a backend answers: documents as it has them (filtered later), and the total."""

    documents: list[dict[str, Any]]
    total: int | None


class Backend(Protocol):
    async def execute(self, query: Query) -> Page: ...
