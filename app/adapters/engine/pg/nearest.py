"""The documents nearest a vector in the engine in PostgreSQL (their vectors: `vectors.py`).

`nearest` answers the documents nearest a vector among those that meet the same filters as any
other search (`filters.py`), exactly: a filter is a WHERE clause over the document's row, never
a check after the fact, so no document outside it is ever returned, and when fewer than `limit`
documents meet it, all of them are. An HNSW index scan stops after `hnsw.ef_search` candidates
and leaves out the ones the filter refuses, so it can find fewer than `limit` when the filter
keeps few: a filter that keeps at most EXACT_LIMIT documents (more for more than 10 nearest)
is answered by computing each one's distance; one that keeps more goes through the index
(from pgvector 0.8, with its iterative scan), and an answer still short of `limit` is computed
exactly. The figures behind the choice are in docs/design.md ("Vectors in PostgreSQL").

A vector of zeros has no direction, so no cosine distance (pgvector's is NaN): a stored one is
never found, and a query of zeros finds nothing."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from numpy.typing import ArrayLike

from app.adapters.engine.pg.filters import TRUE, Sql
from app.adapters.engine.pg.vectors import (
    EXACT_LIMIT,
    Neighbour,
    counted,
    dimensions,
    literal,
    numbers_of,
    table,
    version,
)

# Candidates an index scan keeps (pgvector's `hnsw.ef_search`: 40 by default, 1,000 at most).
# More finds more of the true nearest documents, more slowly.
EF_SEARCH = 100
# Since 0.8, pgvector goes on scanning the graph until the filter has let `limit` documents
# through (or `hnsw.max_scan_tuples` were visited): `relaxed_order` may return them slightly
# out of order, and the query sorts them again.
ITERATIVE_SCAN_SINCE = (0, 8, 0)
# The graph's cost grows with the candidates it passes to find `limit` the filter keeps, and
# an exact answer's with what the filter keeps: the two meet at about EXACT_LIMIT documents for
# the 10 nearest, 7,000 for the 100 nearest that a hybrid search asks for (the Debian catalog,
# 256 numbers: 3,519 kept, 15 ms exact against 73 ms through the graph; 6,711, 25 against 28;
# 13,602, 43 against 21). So a filter is answered exactly up to EXACT_LIMIT * (limit / 10) **
# EXACT_GROWTH documents: 3,000 for 10, 3,700 for 20, 6,000 for 100.
EXACT_GROWTH = 0.3


@dataclass(frozen=True)
class Tuning:
    """How `nearest` goes about it. The defaults are the measured choice; `iterative` None
    or True uses pgvector's iterative scan where it has one (0.8 on), False does not."""

    exact_limit: int = EXACT_LIMIT
    ef_search: int = EF_SEARCH
    iterative: bool | None = None


def nearest(
    conn: sa.Connection,
    collection_id: int,
    vector: ArrayLike,
    limit: int,
    where: Sql = TRUE,
    tuning: Tuning = Tuning(),
) -> list[Neighbour]:
    """The `limit` documents whose vectors are nearest `vector` (by cosine distance, the
    nearest first), among those that meet `where` (a condition on the row `d` of
    `engine_documents`, as `filters.matching` writes it); all of them when fewer do."""
    size = dimensions(conn, collection_id)
    if size is None or limit < 1:
        return []
    query = literal(vector, size, "vector")
    if not any(numbers_of(vector)):
        return []
    exact_up_to = int(tuning.exact_limit * max(1.0, limit / 10) ** EXACT_GROWTH)
    if counted(conn, collection_id, where, exact_up_to) <= exact_up_to:
        return exact(conn, collection_id, query, limit, where)
    iterative = None  # (a pgvector without the setting refuses to hear of it)
    if (version(conn) or ()) >= ITERATIVE_SCAN_SINCE:
        iterative = tuning.iterative is not False
    found = approximate(conn, collection_id, query, limit, where, tuning.ef_search, iterative)
    if len(found) < limit:  # the graph held fewer of them than the filter lets through
        return exact(conn, collection_id, query, limit, where)
    return found


def exact(
    conn: sa.Connection, collection_id: int, query: str, limit: int, where: Sql
) -> list[Neighbour]:
    """The nearest documents that meet `where`, by the distance of every one of them."""
    sql, params = where
    # The distances are computed in a CTE of their own: ordered outside it, they cannot be
    # read off the HNSW index, which would stop short.
    rows = conn.exec_driver_sql(
        "WITH m AS MATERIALIZED (SELECT d.id, d.document_id, "
        "v.embedding <=> %s::vector AS distance "
        f"FROM {table(collection_id)} v JOIN engine_documents d ON d.id = v.document "
        f"WHERE d.collection_id = %s AND ({sql})) "
        "SELECT id, document_id, distance FROM m WHERE distance <> 'NaN' "
        "ORDER BY distance, document_id LIMIT %s",
        (query, collection_id, *params, limit),
    ).all()
    return [Neighbour(int(row[0]), str(row[1]), 1 - float(row[2])) for row in rows]


def approximate(
    conn: sa.Connection,
    collection_id: int,
    query: str,
    limit: int,
    where: Sql,
    ef_search: int,
    iterative: bool | None,
) -> list[Neighbour]:
    """The nearest documents that meet `where` as the HNSW index finds them, looking at
    `ef_search` candidates (and, if `iterative`, on until `limit` are found; None for a
    pgvector before 0.8, which has no such setting: from 0.5 on it reserves the `hnsw.`
    prefix, so that naming one it does not know is an error)."""
    conn.exec_driver_sql("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
    if iterative is not None:
        conn.exec_driver_sql(
            "SELECT set_config('hnsw.iterative_scan', %s, true)",
            ("relaxed_order" if iterative else "off",),
        )
    sql, params = where
    rows = conn.exec_driver_sql(
        "WITH m AS MATERIALIZED (SELECT d.id, d.document_id, "
        "v.embedding <=> %s::vector AS distance "
        f"FROM {table(collection_id)} v JOIN engine_documents d ON d.id = v.document "
        f"WHERE d.collection_id = %s AND ({sql}) ORDER BY v.embedding <=> %s::vector LIMIT %s) "
        "SELECT id, document_id, distance FROM m WHERE distance <> 'NaN' "
        "ORDER BY distance, document_id",
        (query, collection_id, *params, query, limit),
    ).all()
    return [Neighbour(int(row[0]), str(row[1]), 1 - float(row[2])) for row in rows]
