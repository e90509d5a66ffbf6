"""What the embedded engine answers: hits, pages, facet counts, and what an upsert did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Hit:
    document_id: str
    score: float
    body: dict[str, Any]
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FacetValue:
    value: str | int | float | bool
    count: int


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # When no document has every word of the query: the words the best match lacks.
    left_out: tuple[str, ...] = ()


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    document_ids: list[str]


@dataclass(frozen=True)
class Sort:
    """Order by one numeric or date field instead of relevance."""

    field: str
    direction: Literal["asc", "desc"] = "desc"


class Unsortable(ValueError):
    """Asked to sort by a field that holds no numbers or dates in the collection."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field
