"""Document vectors in the engine in PostgreSQL, with pgvector, for search by meaning.

Each collection that has vectors keeps them in a table of its own, `engine_vectors_{id}`: one
row a stored document (`engine_documents.id`, so that a deleted document takes its vector
along) and its vector, under an HNSW index for cosine distance once the collection has more
than EXACT_LIMIT vectors (built then at once, which is several times faster than row by row).
A table each lets collections have vectors of different sizes, and gives each its own graph.

`nearest` answers the documents nearest a vector among those that meet the same filters as any
other search (`filters.py`), exactly: a filter is a WHERE clause over the document's row, never
a check after the fact, so no document outside it is ever returned, and when fewer than `limit`
documents meet it, all of them are. An HNSW index scan stops after `hnsw.ef_search` candidates
and leaves out the ones the filter refuses, so it can find fewer than `limit` when the filter
keeps few: a filter that keeps at most EXACT_LIMIT documents is answered by computing each
one's distance; one that keeps more goes through the index (from pgvector 0.8, with its
iterative scan), and an answer still short of `limit` is computed exactly. The figures behind
the choice are in docs/design.md ("Vectors in PostgreSQL").

The engine calls these inside its own transactions, holding its collection's row lock while it
writes (`core.PgEngine._locked`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import exc

from app.adapters.engine.pg.filters import TRUE, Sql
from app.errors import invalid

EXTENSION = "vector"
# The advisory lock taken to create the extension, so that servers starting at once do not
# both try: "ENGV".
EXTENSION_LOCK_ID = 0x454E_4756
# pgvector's HNSW indexes `vector` columns of up to 2,000 dimensions.
MAX_DIMENSIONS = 2000
FLOAT4_MAX = 3.4028234663852886e38  # pgvector keeps each number as a 4-byte float
BATCH = 1000
# A filter that keeps at most this many documents is answered exactly, every distance
# computed: about as fast as the index there (16 ms against 15 ms for 2,048 documents of
# 65,536, vectors of 256 numbers), which finds 93% of the nearest ten (docs/design.md). A
# collection with no more vectors than this needs no index at all: it is built when one more
# is written.
EXACT_LIMIT = 3000
# The memory the index is built in, at least: past it pgvector builds on disk, about 3 times
# slower (126 s against 43 s for 65,536 vectors of 256 numbers, an 85 MB index).
BUILD_MEMORY = "256MB"
# Candidates an index scan keeps (pgvector's `hnsw.ef_search`: 40 by default, 1,000 at most).
# More finds more of the true nearest documents, more slowly.
EF_SEARCH = 100
# Since 0.8, pgvector goes on scanning the graph until the filter has let `limit` documents
# through (or `hnsw.max_scan_tuples` were visited): `relaxed_order` may return them slightly
# out of order, and the query sorts them again.
ITERATIVE_SCAN_SINCE = (0, 8, 0)
INSUFFICIENT_PRIVILEGE = "42501"


class VectorsUnavailable(Exception):
    """The PostgreSQL server cannot hold vectors: it has no pgvector, or this user may not
    enable it. The message says which server (no user or password) and what to do."""


@dataclass(frozen=True)
class Neighbour:
    document_id: str
    score: float  # cosine similarity, 1 for the same direction, -1 for the opposite


def table(collection_id: int) -> str:
    return f"engine_vectors_{collection_id}"


def _index(collection_id: int) -> str:
    return f"{table(collection_id)}_hnsw"


def server(conn: sa.Connection) -> str:
    """The server and database, as a message may name them: without user or password."""
    url = conn.engine.url
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


def available(conn: sa.Connection) -> bool:
    """Whether the server has pgvector to enable (or enabled already)."""
    row = conn.exec_driver_sql(
        "SELECT 1 FROM pg_available_extensions WHERE name = %s", (EXTENSION,)
    ).first()
    return row is not None


def version(conn: sa.Connection) -> tuple[int, ...] | None:
    """The version of pgvector enabled in this database; None if it is not."""
    found = conn.exec_driver_sql(
        "SELECT extversion FROM pg_extension WHERE extname = %s", (EXTENSION,)
    ).scalar()
    if found is None:
        return None
    return tuple(int(part) for part in str(found).split(".") if part.isdigit())


def enable(conn: sa.Connection) -> tuple[int, ...]:
    """Enable pgvector in the database, if it is not yet; its version. Raises
    `VectorsUnavailable` when the server has none, or this user may not enable it."""
    enabled = version(conn)
    if enabled is not None:
        return enabled
    if not available(conn):
        raise VectorsUnavailable(
            f"The PostgreSQL server at {server(conn)} has no pgvector extension "
            f"(`{EXTENSION}`): install pgvector on it (Debian and Ubuntu package it as "
            "postgresql-NN-pgvector), or keep this collection in the embedded engine "
            "(an SQLite store)."
        )
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (EXTENSION_LOCK_ID,))
            conn.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {EXTENSION}")
    except exc.DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        raise VectorsUnavailable(
            f"The PostgreSQL server at {server(conn)} has pgvector, but this database user may "
            f"not enable it: run `CREATE EXTENSION {EXTENSION}` in that database as a superuser."
        ) from None
    return version(conn) or ()


def dimensions(conn: sa.Connection, collection_id: int) -> int | None:
    """How many numbers the collection's vectors have; None if it has no vector table."""
    found = conn.exec_driver_sql(
        "SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass(%s) "
        "AND attname = 'embedding'",
        (table(collection_id),),
    ).scalar()
    return None if found is None else int(found)


def create(conn: sa.Connection, collection_id: int, size: int) -> None:
    """The collection's vector table, for vectors of `size` numbers (nothing to do if it has
    one, for vectors of that size). Its index comes later (`upsert`)."""
    held = dimensions(conn, collection_id)
    if held is not None:
        if held != size:
            raise invalid(
                "vector", f"a list of {held} numbers, the size of the collection's vectors"
            )
        return
    if not 1 <= size <= MAX_DIMENSIONS:
        raise invalid("vector", f"a list of 1 to {MAX_DIMENSIONS} numbers")
    enable(conn)
    conn.exec_driver_sql(
        f"CREATE TABLE {table(collection_id)} ("
        "document BIGINT PRIMARY KEY REFERENCES engine_documents (id) ON DELETE CASCADE, "
        f"embedding vector({size}) NOT NULL)"
    )


def indexed(conn: sa.Connection, collection_id: int) -> bool:
    """Whether the collection's vectors have their HNSW index."""
    found = conn.exec_driver_sql("SELECT to_regclass(%s)", (_index(collection_id),)).scalar()
    return found is not None


def build(conn: sa.Connection, collection_id: int) -> None:
    """The HNSW index over the collection's vectors, built at once (much faster than as rows
    come), in BUILD_MEMORY unless the server allows more."""
    conn.exec_driver_sql(
        "SELECT set_config('maintenance_work_mem', %s, true) "
        "WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes(%s)",
        (BUILD_MEMORY, BUILD_MEMORY),
    )
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {_index(collection_id)} ON {table(collection_id)} "
        "USING hnsw (embedding vector_cosine_ops)"
    )


def drop(conn: sa.Connection, collection_id: int) -> None:
    """Forget the collection's vectors, table and all."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table(collection_id)}")


def upsert(
    conn: sa.Connection, collection_id: int, vectors: Sequence[tuple[str, Sequence[float]]]
) -> int:
    """Set the vectors of stored documents, by document id (the last of a repeated id wins),
    creating the collection's table, sized by the first vector, when it has none. How many
    documents' vectors were set; `LookupError(document_id)` for a document not stored."""
    if not vectors:
        return 0
    create(conn, collection_id, len(vectors[0][1]))
    size = dimensions(conn, collection_id) or 0
    texts = {
        document_id: literal(vector, size, f"vectors[{number}]")
        for number, (document_id, vector) in enumerate(vectors)
    }
    rows = {
        str(document_id): int(rowid)
        for document_id, rowid in conn.exec_driver_sql(
            "SELECT document_id, id FROM engine_documents "
            "WHERE collection_id = %s AND document_id = ANY(%s)",
            (collection_id, _storable(texts)),
        )
    }
    for document_id in texts:
        if document_id not in rows:
            raise LookupError(document_id)
    ids = list(texts)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        conn.exec_driver_sql(
            f"INSERT INTO {table(collection_id)} (document, embedding) "
            f"SELECT r, v::vector({size}) FROM unnest(%s::bigint[], %s::text[]) AS u (r, v) "
            "ON CONFLICT (document) DO UPDATE SET embedding = excluded.embedding",
            ([rows[i] for i in chunk], [texts[i] for i in chunk]),
        )
    if (
        not indexed(conn, collection_id)
        and counted(conn, collection_id, TRUE, EXACT_LIMIT) > EXACT_LIMIT
    ):
        build(conn, collection_id)
    return len(ids)


def delete(conn: sa.Connection, collection_id: int, document_ids: Sequence[str]) -> int:
    """Forget these documents' vectors (the documents stay); how many there were."""
    if dimensions(conn, collection_id) is None:
        return 0
    result = conn.exec_driver_sql(
        f"DELETE FROM {table(collection_id)} v USING engine_documents d "
        "WHERE v.document = d.id AND d.collection_id = %s AND d.document_id = ANY(%s)",
        (collection_id, _storable(document_ids)),
    )
    return int(result.rowcount)


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
    vector: Sequence[float],
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
    if counted(conn, collection_id, where, tuning.exact_limit) <= tuning.exact_limit:
        return exact(conn, collection_id, query, limit, where)
    iterative = None  # (a pgvector without the setting refuses to hear of it)
    if (version(conn) or ()) >= ITERATIVE_SCAN_SINCE:
        iterative = tuning.iterative is not False
    found = approximate(conn, collection_id, query, limit, where, tuning.ef_search, iterative)
    if len(found) < limit:  # the graph held fewer of them than the filter lets through
        return exact(conn, collection_id, query, limit, where)
    return found


def counted(conn: sa.Connection, collection_id: int, where: Sql, at_most: int) -> int:
    """How many documents meet `where` (with a vector, when nothing is filtered), counted up
    to one more than `at_most`. (Documents without a vector count too: never fewer than
    those with one, so a filter counted under `at_most` keeps no more vectors than that.)"""
    sql, params = where
    if where == TRUE:
        source, params = f"{table(collection_id)}", []
    else:
        source = f"engine_documents d WHERE d.collection_id = %s AND ({sql})"
        params = [collection_id, *params]
    return int(
        conn.exec_driver_sql(
            f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT %s) AS m",
            (*params, at_most + 1),
        ).scalar_one()
    )


def exact(
    conn: sa.Connection, collection_id: int, query: str, limit: int, where: Sql
) -> list[Neighbour]:
    """The nearest documents that meet `where`, by the distance of every one of them."""
    sql, params = where
    # The distances are computed in a CTE of their own: ordered outside it, they cannot be
    # read off the HNSW index, which would stop short.
    rows = conn.exec_driver_sql(
        "WITH m AS MATERIALIZED (SELECT d.document_id, v.embedding <=> %s::vector AS distance "
        f"FROM {table(collection_id)} v JOIN engine_documents d ON d.id = v.document "
        f"WHERE d.collection_id = %s AND ({sql})) "
        "SELECT document_id, distance FROM m ORDER BY distance, document_id LIMIT %s",
        (query, collection_id, *params, limit),
    ).all()
    return [Neighbour(str(row[0]), 1 - float(row[1])) for row in rows]


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
        "WITH m AS MATERIALIZED (SELECT d.document_id, v.embedding <=> %s::vector AS distance "
        f"FROM {table(collection_id)} v JOIN engine_documents d ON d.id = v.document "
        f"WHERE d.collection_id = %s AND ({sql}) ORDER BY v.embedding <=> %s::vector LIMIT %s) "
        "SELECT document_id, distance FROM m ORDER BY distance, document_id",
        (query, collection_id, *params, query, limit),
    ).all()
    return [Neighbour(str(row[0]), 1 - float(row[1])) for row in rows]


def literal(vector: Sequence[float], size: int, field: str = "vector") -> str:
    """A vector as pgvector's text, once it is `size` finite numbers, not all zero (a zero
    vector has no direction, so no cosine distance to any other)."""
    if len(vector) != size:
        raise invalid(field, f"a list of {size} numbers, the size of the collection's vectors")
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in vector):
        raise invalid(field, "a list of numbers")
    numbers = [float(number) for number in vector]
    if not all(math.isfinite(number) and abs(number) <= FLOAT4_MAX for number in numbers):
        raise invalid(field, f"finite numbers of at most {FLOAT4_MAX:g} either way")
    if not any(numbers):
        raise invalid(field, "a vector with a direction: not every number zero")
    return "[" + ",".join(map(repr, numbers)) + "]"


def _storable(document_ids: Iterable[str]) -> list[str]:
    """The ids a stored document may have: PostgreSQL text holds no NUL (`core.upsert`
    refuses such ids), so one with it names none."""
    return [document_id for document_id in document_ids if "\x00" not in document_id]
