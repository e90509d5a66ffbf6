"""Search by meaning beside search by words, in the engine in PostgreSQL: what the embedded
engine's `engine/hybrid.py` does, with its number of nearest documents and its fusion.

A search with a query vector finds the `MEANING_RESULTS` documents nearest to it among those
the filters let through (exactly: `nearest.nearest` keeps to the filters in its WHERE clause)
and, unless it searches by meaning alone, the documents that match its words as a search by
words would. Its results are both sets together, ranked by the retriever's fusion
(`fusion.fuse`), or sorted by a field; the total and the facets count both sets.

Find similar, in a collection with vectors, is the nearest documents to that one's vector.
"""

from __future__ import annotations

from collections.abc import Sequence

from app import jsonutil
from app.adapters.engine.fusion import fuse
from app.adapters.engine.hybrid import MEANING_RESULTS
from app.adapters.engine.pg import nearest as neighbours
from app.adapters.engine.pg import vectors
from app.adapters.engine.pg.filters import TRUE, Sql
from app.adapters.engine.pg.reading import Plan, Row
from app.adapters.engine.results import Search
from app.adapters.engine.words import SIMILAR_RESULTS

Ranked = list[tuple[int, float]]  # (rowid, score), best first


def page(plan: Plan, search: Search) -> list[Row]:
    """One page of a search by meaning, or by meaning and words; sets the plan's `total` and
    its `where` (what the facets count)."""
    assert search.vector is not None
    ratio = search.semantic_ratio
    nearest = _nearest(plan, search.vector, MEANING_RESULTS, plan.filters) if ratio > 0 else []
    if ratio >= 1 or not plan.words:
        return _within(plan, nearest, search)
    wanted = search.offset + search.limit + MEANING_RESULTS
    by_words = plan.page(wanted, 0, None)
    matched, by_words_total = plan.where, plan.total  # the words' matches within the filters
    near_ids = [rowid for rowid, _ in nearest]
    together = _either(matched, _one_of(plan, near_ids))
    fused = fuse([(row[0], row[3]) for row in by_words], nearest, ratio, search.fusion)
    if search.sort is not None:
        return plan.within(together, search.limit, search.offset, search.sort)
    # The total without counting the union's every match again (all the words' ones): those
    # near in meaning that are not among them, counted within the hundred.
    both = plan.count(_both(matched, near_ids)) if near_ids else 0
    plan.where, plan.total = together, by_words_total + len(near_ids) - both
    known = {row[0]: row for row in by_words}
    return _rows(plan, fused[search.offset : search.offset + search.limit], known)


def similar(plan: Plan, rowid: int, search: Search) -> list[Row]:
    """The documents nearest in meaning to one (never itself), within the filters."""
    vector = vectors.vector(plan.conn, plan.collection_id, rowid)
    nearest: Ranked = []  # (none for a document without a vector)
    if vector is not None and plan.filters == TRUE:  # (the vectors alone: one more, itself)
        found = _nearest(plan, vector, SIMILAR_RESULTS + 1, TRUE)
        nearest = [pair for pair in found if pair[0] != rowid][:SIMILAR_RESULTS]
    elif vector is not None:
        sql, params = plan.filters
        others = (f"({sql}) AND d.id <> %s", [*params, rowid])
        nearest = _nearest(plan, vector, SIMILAR_RESULTS, others)
    return _within(plan, nearest, search)


def _nearest(plan: Plan, vector: Sequence[float], limit: int, where: Sql) -> Ranked:
    found = neighbours.nearest(plan.conn, plan.collection_id, vector, limit, where)
    return [(n.rowid, round(n.score, 6)) for n in found]


def _within(plan: Plan, ranked: Ranked, search: Search) -> list[Row]:
    """One page of a set of documents found by meaning: in their order, or sorted."""
    plan.where = _one_of(plan, [rowid for rowid, _ in ranked])
    if search.sort is not None:
        return plan.within(plan.where, search.limit, search.offset, search.sort)
    plan.total = len(ranked)  # (every one within the filters already)
    return _rows(plan, ranked[search.offset : search.offset + search.limit], {})


def _one_of(plan: Plan, rowids: list[int]) -> Sql:
    """Exactly these documents (which the filters let through already)."""
    sql, params = plan.base
    return f"{sql} AND d.id = ANY(%s)", [*params, rowids]


def _either(first: Sql, second: Sql) -> Sql:
    return f"(({first[0]}) OR ({second[0]}))", [*first[1], *second[1]]


def _both(matched: Sql, rowids: list[int]) -> Sql:
    return f"({matched[0]}) AND d.id = ANY(%s)", [*matched[1], rowids]


def _rows(plan: Plan, ranked: Ranked, known: dict[int, Row]) -> list[Row]:
    """The page's rows, in its order, with its scores: bodies read for those not `known`."""
    wanted = [rowid for rowid, _ in ranked if rowid not in known]
    if wanted:
        read = plan.conn.exec_driver_sql(
            "SELECT id, document_id, body FROM engine_documents WHERE id = ANY(%s)", (wanted,)
        )
        for rowid, document_id, body in read:
            known[int(rowid)] = (int(rowid), str(document_id), jsonutil.loads(body), 0.0)
    return [
        (rowid, known[rowid][1], known[rowid][2], score)
        for rowid, score in ranked
        if rowid in known
    ]
