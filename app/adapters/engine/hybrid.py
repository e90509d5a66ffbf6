"""Search by meaning beside search by words, in the embedded engine.

A search with a query vector finds the `MEANING_RESULTS` documents nearest to it (among those
the filters let through, exactly: `VectorIndex.search` never returns a document outside the
set it is given) and, unless it searches by meaning alone, the documents that match its words
as a search by words would. Its results are both sets together; they are ranked by the
retriever's fusion (`fusion.fuse`), each list weighed by the `semantic_ratio`, or sorted by a
field. The facets count both sets; so does the total, from the words' own count and the
nearest beside their page (`_beside`). A search by meaning alone counts its nearest as they
come (all within the filters already), rather than asking tantivy to count them again: that
count of a hundred row ids took a third of a semantic search's time on the Debian catalog.

Find similar, in a collection with vectors, is the nearest documents to that one's vector.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from tantivy import Occur, Query

from app.adapters.engine.fusion import fuse
from app.adapters.engine.index import SCHEMA
from app.adapters.engine.reading import Plan, all_of
from app.adapters.engine.results import Search
from app.adapters.engine.vectors import VectorIndex
from app.adapters.engine.words import SIMILAR_RESULTS

# The nearest documents by meaning that a search adds to those matching its words: past the
# first hundred, a document near in meaning is seldom what a shopper wanted.
MEANING_RESULTS = 100


def page(plan: Plan, index: VectorIndex, search: Search) -> list[tuple[int, float]]:
    """(rowid, score) of one page of a search by meaning, or by meaning and words; sets the
    plan's `total` and its `query` (what the facets count)."""
    assert search.vector is not None
    filters = plan.query  # every document the filters let through, before any words
    allowed = _allowed(plan, filters)
    ratio = search.semantic_ratio
    near = index.search(search.vector, MEANING_RESULTS, allowed) if ratio > 0 else None
    nearest = _pairs(near.keys, near.scores) if near is not None else []
    if ratio >= 1 or not plan.words:
        found = _one_of(filters, [rowid for rowid, _ in nearest])
        return plan.ranked_within(
            found, nearest, search.limit, search.offset, search.sort, total=len(nearest)
        )
    wanted = search.offset + search.limit + MEANING_RESULTS
    by_words = plan.page(wanted, 0, None)
    matched, by_words_total = plan.query, plan.total  # the words' matches within the filters
    near_ids = [rowid for rowid, _ in nearest]
    together = Query.boolean_query(
        [(Occur.Should, matched), (Occur.Should, _one_of(filters, near_ids))]
    )
    fused = fuse(by_words, nearest, ratio, search.fusion)
    if search.sort is not None:
        return plan.ranked_within(together, fused, search.limit, search.offset, search.sort)
    plan.query, plan.total = together, by_words_total + _beside(near_ids, by_words, by_words_total)
    return fused[search.offset : search.offset + search.limit]


def _beside(near_ids: list[int], by_words: list[tuple[int, float]], by_words_total: int) -> int:
    """How many of the nearest in meaning the words did not match, for the total: those not on
    the words' page. That is exact when the page holds every match of the words; past it, a
    near document that the words match further down is counted twice, so a total of more than
    `wanted` may be up to `MEANING_RESULTS` over. Counting the words' query again within the
    nearest cost as much as the words' search itself (its typo and most-words levels built
    again): 3.5 ms of a 7 ms hybrid search on the Debian catalog."""
    on_page = {rowid for rowid, _ in by_words}
    return sum(1 for rowid in near_ids if rowid not in on_page)


def similar(plan: Plan, index: VectorIndex, rowid: int, search: Search) -> list[tuple[int, float]]:
    """The documents nearest in meaning to one (never itself), within the filters."""
    vector = index.vector(rowid)
    filters = plan.query
    if vector is None:
        return plan.ranked_within(Query.empty_query(), [], search.limit, search.offset, None)
    allowed = _allowed(plan, filters)
    if allowed is None:
        near = index.search(vector, SIMILAR_RESULTS + 1)
    else:
        near = index.search(vector, SIMILAR_RESULTS, allowed[allowed != rowid])
    nearest = [pair for pair in _pairs(near.keys, near.scores) if pair[0] != rowid]
    nearest = nearest[:SIMILAR_RESULTS]
    found = _one_of(filters, [r for r, _ in nearest])
    return plan.ranked_within(
        found, nearest, search.limit, search.offset, search.sort, total=len(nearest)
    )


def _allowed(plan: Plan, filters: Query) -> npt.NDArray[np.uint64] | None:
    """The row ids the filters let through, or None when there are no filters."""
    if not plan.must and not plan.must_not:
        return None
    return plan.rowids(filters)


def _one_of(filters: Query, rowids: list[int]) -> Query:
    """Exactly these documents (which the filters let through already)."""
    if not rowids:
        return Query.empty_query()
    return all_of([filters, Query.term_set_query(SCHEMA, "rowid", rowids)], [])


def _pairs(
    keys: npt.NDArray[np.uint64], scores: npt.NDArray[np.float32]
) -> list[tuple[int, float]]:
    return [(int(key), round(float(score), 6)) for key, score in zip(keys, scores, strict=True)]
