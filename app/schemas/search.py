"""One search, typed, as it goes from a surface to the engine (`SearchRequest`), and what
comes back (`Results`).

Every surface (the JSON execute, the page, the embed) turns what it was sent into one
`SearchRequest`, checked once: the filter tree parsed, every field it names exposed, the page
within the retriever's limits. The query protocol hands it to the backend inside a `Query`
(`adapters/backends`), and the backend's `Page` comes back as one `Results`, which the JSON
surfaces write as `ExecuteResponse` and the page reads as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.schemas.filters import Filter

DEFAULT_PAGE_SIZE = 10
# The input that carries a query's own vector, as Mixpeek's execute names a pre-computed one.
QUERY_VECTOR_INPUT = "embedding"
# The input the engine, the page and Mixpeek search text with.
FULL_TEXT_INPUT = "query"
# What marks a document found by meaning alone: none of the query's words are in it.
BY_MEANING = "matched_by_meaning"


@dataclass(frozen=True)
class Sort:
    """Order by one numeric or date field instead of relevance."""

    field: str
    direction: Literal["asc", "desc"] = "desc"


@dataclass(frozen=True)
class SearchRequest:
    """What to find (`inputs`, `vector`, `filters`, `similar_to`), what to count
    (`facets`), in which order (`sort`, relevance when None), and which page of it.

    A plain dataclass (no slots, `__post_init__` or cached properties): the public search
    copies one by its attributes (`query._with_inputs`)."""

    inputs: Mapping[str, Any]
    filters: Filter | None = None
    facets: tuple[str, ...] = ()
    sort: Sort | None = None
    page_number: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    similar_to: str | None = None  # a document id: its neighbours, ranked by likeness
    # The query's own vector (`inputs.embedding`), for a collection whose documents bring theirs.
    vector: tuple[float, ...] | None = None
    semantic_ratio: float | None = None  # the search's own weight of meaning, where allowed
    skip_cache: bool = False

    @property
    def offset(self) -> int:
        return (self.page_number - 1) * self.page_size


@dataclass(frozen=True)
class FacetCount:
    value: str | int | float | bool
    count: int


@dataclass(frozen=True)
class Results:
    """One page of results: exposed fields only, with the paging the page links from."""

    execution_id: str
    documents: list[dict[str, Any]]
    page_number: int
    page_size: int
    total: int
    has_next: bool
    facets: dict[str, list[FacetCount]] | None = None  # when asked for
    # When no document had every word of the text query: the words the best ones lack.
    words_left_out: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        """As `ExecuteResponse`: the documents (twice, as Mixpeek answers them), the paging,
        and the facets and words left out when there are any."""
        answer: dict[str, Any] = {
            "execution_id": self.execution_id,
            "status": "completed",
            "documents": self.documents,
            "results": self.documents,
            "pagination": {
                "method": "offset",
                "page_number": self.page_number,
                "page_size": self.page_size,
                "returned": len(self.documents),
                "total": self.total,
                "has_next": self.has_next,
            },
        }
        if self.facets is not None:
            answer["facets"] = {
                name: [{"value": c.value, "count": c.count} for c in counts]
                for name, counts in self.facets.items()
            }
        if self.words_left_out:
            answer["words_left_out"] = list(self.words_left_out)
        return answer
