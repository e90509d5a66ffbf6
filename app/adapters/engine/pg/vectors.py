"""Document vectors in the engine in PostgreSQL, with pgvector, for search by meaning
(`nearest.py` searches them).

Each collection that has vectors keeps them in a table of its own, `engine_vectors_{id}`: one
row a stored document (`engine_documents.id`, so that a deleted document takes its vector
along) and its vector, under an HNSW index for cosine distance once the collection has more
than EXACT_LIMIT vectors (built then at once, which is several times faster than row by row).
A table each lets collections have vectors of different sizes, and gives each its own graph.
The table is made when a collection starts to embed (`meaning.py`), which enables pgvector in
the database: a server without it refuses that, by name (`VectorsUnavailable`).

The engine calls these inside its own transactions, holding its collection's row lock while it
writes (`stored.locked`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sqlalchemy as sa
from numpy.typing import ArrayLike
from sqlalchemy import exc

from app.adapters.engine.pg.filters import TRUE, Sql
from app.adapters.store.time_limit import UNLIMITED
from app.errors import InvalidInput, invalid

logger = logging.getLogger("retriever_pages")

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
# is written and no more than this many documents wait for theirs. (While a collection is
# filled, its vectors go in without the index, which is then built over all of them at once:
# several times faster than each going into the graph.)
EXACT_LIMIT = 3000
# The memory the index is built in, at least: past it pgvector builds on disk, about 3 times
# slower (126 s against 43 s for 65,536 vectors of 256 numbers, an 85 MB index).
BUILD_MEMORY = "256MB"
INSUFFICIENT_PRIVILEGE = "42501"


class VectorsUnavailable(InvalidInput):
    """The PostgreSQL server cannot hold vectors: it has no pgvector, or this user may not
    enable it. A 422 for whoever asked a collection to embed, saying what the server's
    operator can do; the server itself is named in the log only (`enable`)."""

    def __init__(self, problem: str, advice: str) -> None:
        super().__init__(
            f"embedding: {problem}: {advice}",
            details={"errors": [{"field": "embedding", "message": problem}]},
        )


@dataclass(frozen=True)
class Neighbour:
    rowid: int  # the document's row (`engine_documents.id`)
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
    `VectorsUnavailable` when the server has none, or this user may not enable it (and logs
    which server, for its operator)."""
    enabled = version(conn)
    if enabled is not None:
        return enabled
    if not available(conn):
        logger.warning(
            "The PostgreSQL server at %s has no pgvector extension (`%s`): collections there "
            "cannot embed until it is installed.", server(conn), EXTENSION
        )  # fmt: skip
        raise VectorsUnavailable(
            f"search by meaning in PostgreSQL needs the pgvector extension (`{EXTENSION}`), "
            "which this server's database does not have",
            "its operator installs pgvector on the PostgreSQL server (Debian and Ubuntu "
            "package it as postgresql-NN-pgvector), or keeps collections in the embedded "
            "engine (an SQLite store). Until then the collection is searched by words.",
        )
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (EXTENSION_LOCK_ID,))
            conn.exec_driver_sql(f"CREATE EXTENSION IF NOT EXISTS {EXTENSION}")
    except exc.DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        logger.warning(
            "The PostgreSQL server at %s has pgvector, but its user may not enable it: run "
            "`CREATE EXTENSION %s` in that database as a superuser.", server(conn), EXTENSION
        )  # fmt: skip
        raise VectorsUnavailable(
            f"search by meaning in PostgreSQL needs the pgvector extension (`{EXTENSION}`), "
            "which this server's database user may not enable",
            f"its operator runs `CREATE EXTENSION {EXTENSION}` in that database as a "
            "superuser. Until then the collection is searched by words.",
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


def present(conn: sa.Connection, collection_id: int) -> int | None:
    """The size of the collection's vectors, when it has at least one; else None."""
    size = dimensions(conn, collection_id)
    if size is None:
        return None
    held = conn.exec_driver_sql(f"SELECT EXISTS (SELECT 1 FROM {table(collection_id)})").scalar()
    return size if held else None


def create(conn: sa.Connection, collection_id: int, size: int, field: str) -> int:
    """The collection's vector table, for vectors of `size` numbers, unless it has one (its
    index comes later: `write`); the size of the collection's vectors. `field` names what
    asked for that size, for the 422 when it is out of pgvector's bounds."""
    held = dimensions(conn, collection_id)
    if held is not None:
        return held
    if not 1 <= size <= MAX_DIMENSIONS:
        raise invalid(field, f"vectors of 1 to {MAX_DIMENSIONS} numbers (what pgvector indexes)")
    enable(conn)
    conn.exec_driver_sql(
        f"CREATE TABLE {table(collection_id)} ("
        "document BIGINT PRIMARY KEY REFERENCES engine_documents (id) ON DELETE CASCADE, "
        f"embedding vector({size}) NOT NULL)"
    )
    return size


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
        "USING hnsw (embedding vector_cosine_ops)",
        execution_options={UNLIMITED: True},  # minutes, over a large collection
    )


def drop(conn: sa.Connection, collection_id: int) -> None:
    """Forget the collection's vectors, table and all."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table(collection_id)}")


def write(
    conn: sa.Connection,
    collection_id: int,
    vectors: Sequence[tuple[int, ArrayLike]],
    field: str = "vectors",
) -> int:
    """Set the vectors of stored documents of the collection, by row id (the last of a
    repeated one wins), creating its table, sized by the first vector, when it has none; the
    index is built when the collection passes EXACT_LIMIT vectors. How many were set. A vector
    of zeros (a document without text to embed) is kept, but has no direction: no search
    finds it, nor finds anything near it. A bad vector is a 422 naming `field[n]`."""
    if not vectors:
        return 0
    size = create(conn, collection_id, len(numbers_of(vectors[0][1])), f"{field}[0]")
    texts = {
        rowid: literal(vector, size, f"{field}[{number}]")
        for number, (rowid, vector) in enumerate(vectors)
    }
    rowids = list(texts)
    for start in range(0, len(rowids), BATCH):
        chunk = rowids[start : start + BATCH]
        conn.exec_driver_sql(
            f"INSERT INTO {table(collection_id)} (document, embedding) "
            f"SELECT r, v::vector({size}) FROM unnest(%s::bigint[], %s::text[]) AS u (r, v) "
            "ON CONFLICT (document) DO UPDATE SET embedding = excluded.embedding",
            (chunk, [texts[rowid] for rowid in chunk]),
        )
    if (
        not indexed(conn, collection_id)
        and counted(conn, collection_id, TRUE, EXACT_LIMIT) > EXACT_LIMIT
        and _waiting(conn, collection_id) <= EXACT_LIMIT
    ):
        build(conn, collection_id)
    return len(rowids)


def remove(conn: sa.Connection, collection_id: int, rowids: Sequence[int]) -> int:
    """Forget these documents' vectors (the documents stay); how many there were."""
    if not rowids or dimensions(conn, collection_id) is None:
        return 0
    result = conn.exec_driver_sql(
        f"DELETE FROM {table(collection_id)} WHERE document = ANY(%s)", (list(rowids),)
    )
    return int(result.rowcount)


def count(conn: sa.Connection, collection_id: int) -> int:
    """How many of the collection's documents have a vector."""
    if dimensions(conn, collection_id) is None:
        return 0
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {table(collection_id)}").scalar_one())


def without(
    conn: sa.Connection, collection_id: int, limit: int, after: int = 0
) -> list[tuple[int, str]]:
    """Up to `limit` (row id, body) of the collection's documents without a vector, oldest
    first, from row id `after` on (a fill reads on from where its last batch ended)."""
    rows = conn.exec_driver_sql(
        f"SELECT d.id, d.body FROM engine_documents d WHERE d.collection_id = %s AND d.id > %s "
        f"{_without_one(conn, collection_id)} ORDER BY d.id LIMIT %s",
        (collection_id, after, limit),
    ).all()
    return [(int(row[0]), str(row[1])) for row in rows]


def lacking(conn: sa.Connection, collection_id: int, rowids: Sequence[int]) -> set[int]:
    """Those of `rowids` that are documents of the collection without a vector."""
    rows = conn.exec_driver_sql(
        "SELECT d.id FROM engine_documents d WHERE d.collection_id = %s AND d.id = ANY(%s) "
        + _without_one(conn, collection_id),
        (collection_id, list(rowids)),
    )
    return {int(row[0]) for row in rows}


def vector(conn: sa.Connection, collection_id: int, rowid: int) -> list[float] | None:
    """One document's vector; None when it has none."""
    if dimensions(conn, collection_id) is None:
        return None
    found = conn.exec_driver_sql(
        f"SELECT embedding::text FROM {table(collection_id)} WHERE document = %s", (rowid,)
    ).scalar()
    return None if found is None else [float(n) for n in str(found).strip("[]").split(",")]


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


def literal(vector: ArrayLike, size: int, field: str = "vector") -> str:
    """A vector as pgvector's text, once it is `size` finite numbers."""
    numbers = numbers_of(vector)
    if len(numbers) != size:
        raise invalid(field, f"a list of {size} numbers, the size of the collection's vectors")
    floats = [float(n) for n in numbers if isinstance(n, int | float) and not isinstance(n, bool)]
    if len(floats) != len(numbers):
        raise invalid(field, "a list of numbers")
    if not all(math.isfinite(number) and abs(number) <= FLOAT4_MAX for number in floats):
        raise invalid(field, f"finite numbers of at most {FLOAT4_MAX:g} either way")
    return "[" + ",".join(map(repr, floats)) + "]"


def numbers_of(vector: ArrayLike) -> list[object]:
    """A vector's numbers as Python's (an embedder's are a numpy array's)."""
    if isinstance(vector, np.ndarray):
        listed: list[object] = vector.tolist()
        return listed
    return list(vector) if isinstance(vector, Sequence) else [vector]


def _waiting(conn: sa.Connection, collection_id: int) -> int:
    """How many of the collection's documents have no vector yet."""
    return int(
        conn.exec_driver_sql(
            f"SELECT c.documents - (SELECT count(*) FROM {table(collection_id)}) "
            "FROM engine_collections c WHERE c.id = %s",
            (collection_id,),
        ).scalar_one()
    )


def _without_one(conn: sa.Connection, collection_id: int) -> str:
    """The condition on a document row `d` that it has no vector (every one, without a table)."""
    if dimensions(conn, collection_id) is None:
        return ""
    return f"AND NOT EXISTS (SELECT 1 FROM {table(collection_id)} v WHERE v.document = d.id)"
