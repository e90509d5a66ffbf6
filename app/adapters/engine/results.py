"""What an engine is asked (`Search`) and what it answers: hits, pages, facet counts, and
what an upsert did."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app.schemas.filters import Filter
from app.schemas.search import FacetCount, Sort

Fusion = Literal["rrf", "dbsf"]


# Not frozen, so made in a third of the time (20 a search): never changed, only replaced.
@dataclass(slots=True)
class Hit:
    document_id: str
    score: float
    body: dict[str, Any]
    highlights: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    # When no document has every word of the query: the words the best match lacks.
    left_out: tuple[str, ...] = ()
    # Whether the query's last word matched as a prefix (`words.as_prefix`), for highlights
    # made outside the engine's search (pinned documents).
    prefix: bool = True


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    document_ids: list[str]


class Unsortable(ValueError):
    """Asked to sort by a field that holds no numbers or dates in the collection."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True)
class Boost:
    """Results with more in `field` (a number) rank higher, by `weight` (see `relevance`)."""

    field: str
    weight: float


@dataclass(frozen=True)
class Relevance:
    """A retriever's relevance rules, as one search applies them (`relevance.py`):
    `synonyms` maps a phrase of folded words (as `index.fold` makes them) to the phrases that
    count as it; `stop_words` are left out of a query; this query's `pinned` documents
    (id, position from 1) and `hidden` ones; and the `boosts` that reorder its results."""

    synonyms: Mapping[tuple[str, ...], tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    stop_words: frozenset[str] = frozenset()
    pinned: tuple[tuple[str, int], ...] = ()
    hidden: tuple[str, ...] = ()
    boosts: tuple[Boost, ...] = ()

    @property
    def longest(self) -> int:
        """The most words of a phrase with synonyms."""
        return max((len(key) for key in self.synonyms), default=0)


@dataclass(frozen=True)
class Search:
    """One page of one search of a collection: the documents that match `text` over `fields`
    (earlier fields weigh more), whose fields equal `filters` (a list value: any of them) and
    that meet the filter `tree`; ranked by relevance, or by `sort`. `similar_to`, a document
    id, keeps (and ranks by) the documents most like that one, without it. With `facets`,
    counts of each of those fields' values over every match; `highlight` names the fields
    whose text comes back marked up. With a `vector`, documents near in meaning are found too
    (`hybrid.py`), and `similar_to` finds the documents nearest to that one's vector."""

    fields: Sequence[str] = ()
    text: str = ""
    filters: Mapping[str, Any] = field(default_factory=dict)
    limit: int = 10
    offset: int = 0
    tree: Filter | None = None
    facets: Sequence[str] = ()
    sort: Sort | None = None
    similar_to: str | None = None
    highlight: Sequence[str] = ()
    # By meaning: the query's vector (made by the collection's embedder), and how much meaning
    # weighs against words, from 0 (words only) to 1 (meaning only). A collection without
    # vectors of that length searches by words.
    vector: Sequence[float] | None = None
    semantic_ratio: float = 0.5
    fusion: Fusion = "rrf"  # by reciprocal rank, or by normalised scores (dbsf)
    meaning: bool = True  # whether the collection's vectors may rank at all (find similar too)
    relevance: Relevance | None = None  # the retriever's rules
    ids: Sequence[str] | None = None  # only these documents (by id), when given
    excluded: Sequence[str] = ()  # never these documents (by id)
