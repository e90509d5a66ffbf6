"""A collection's vectors in the embedded engine: kept in SQLite, searched in memory.

SQLite holds each document's vector (`vectors`, by the document's row id) and is the truth:
every write of a collection's vectors takes the next number of its `vector_seq`, and a vector
removed leaves its row id in `vectors_gone` under that number. Each process holds each
collection's `VectorIndex` with the number it has read up to, and catches up on its next
search by reading only what changed since: the vectors set after it (which are current, since
a row is replaced when its vector is) and the row ids gone after it. So several processes, and
a process that imports beside the one that serves, agree without sharing memory.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from app.adapters.engine.vectors import VectorIndex

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_by_seq ON vectors (collection_id, seq);
CREATE TABLE IF NOT EXISTS vectors_gone (
    collection_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    id INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_gone_by_seq ON vectors_gone (collection_id, seq);
"""
# Added to `collections` with search by meaning: its embedding settings (JSON, as the services
# wrote them; the engine reads only `model` and `dimensions`), the number of its last write of
# vectors, and the number at which they were last all cleared (an index read before it is
# thrown away rather than caught up).
COLUMNS = {
    "embedding": "TEXT",
    "vector_seq": "INTEGER NOT NULL DEFAULT 0",
    "vector_base": "INTEGER NOT NULL DEFAULT 0",
}
CHUNK = 500
Floats = npt.NDArray[np.float32]


@dataclass
class _Held:
    index: VectorIndex
    seq: int


def as_blob(vector: npt.ArrayLike) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def write(
    conn: sqlite3.Connection,
    collection_id: int,
    vectors: Sequence[tuple[int, npt.ArrayLike]],
    gone: Iterable[int] = (),
) -> None:
    """Set these rows' vectors and remove those of `gone`, as one more numbered write."""
    gone = list(gone)
    if not vectors and not gone:
        return
    (seq,) = conn.execute(
        "UPDATE collections SET vector_seq = vector_seq + 1 WHERE id = ? RETURNING vector_seq",
        (collection_id,),
    ).fetchone()
    for start in range(0, len(gone), CHUNK):
        chunk = gone[start : start + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        removed = conn.execute(
            f"DELETE FROM vectors WHERE id IN ({marks}) RETURNING id", chunk
        ).fetchall()
        conn.executemany(
            "INSERT INTO vectors_gone (collection_id, seq, id) VALUES (?, ?, ?)",
            [(collection_id, seq, rowid) for (rowid,) in removed],
        )
    conn.executemany(
        "INSERT OR REPLACE INTO vectors (id, collection_id, seq, vector) VALUES (?, ?, ?, ?)",
        [(rowid, collection_id, seq, as_blob(vector)) for rowid, vector in vectors],
    )


def clear(conn: sqlite3.Connection, collection_id: int) -> None:
    """Forget every vector of the collection (its documents, or its embedder, are gone)."""
    conn.execute("DELETE FROM vectors WHERE collection_id = ?", (collection_id,))
    conn.execute("DELETE FROM vectors_gone WHERE collection_id = ?", (collection_id,))
    conn.execute(
        "UPDATE collections SET vector_seq = vector_seq + 1, vector_base = vector_seq + 1 "
        "WHERE id = ?",
        (collection_id,),
    )


def count(conn: sqlite3.Connection, collection_id: int) -> int:
    row = conn.execute(
        "SELECT count(*) FROM vectors WHERE collection_id = ?", (collection_id,)
    ).fetchone()
    return int(row[0])


def without(
    conn: sqlite3.Connection, collection_id: int, limit: int, after: int = 0
) -> list[tuple[int, str]]:
    """Up to `limit` (row id, body) of documents that have no vector yet, oldest first, from
    row id `after` on (so that a fill reads on from where its last batch ended, rather than
    through every document it embedded already)."""
    return conn.execute(
        "SELECT d.id, d.body FROM documents d LEFT JOIN vectors v ON v.id = d.id "
        "WHERE d.collection_id = ? AND d.id > ? AND v.id IS NULL ORDER BY d.id LIMIT ?",
        (collection_id, after, limit),
    ).fetchall()


def lacking(conn: sqlite3.Connection, collection_id: int, rowids: list[int]) -> set[int]:
    """Those of `rowids` that are documents of the collection without a vector."""
    found: set[int] = set()
    for start in range(0, len(rowids), CHUNK):
        chunk = rowids[start : start + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        found.update(
            rowid
            for (rowid,) in conn.execute(
                f"SELECT d.id FROM documents d LEFT JOIN vectors v ON v.id = d.id "
                f"WHERE d.collection_id = ? AND d.id IN ({marks}) AND v.id IS NULL",
                (collection_id, *chunk),
            )
        )
    return found


class VectorSets:
    """Each collection's index in this process, caught up with SQLite before each use."""

    def __init__(self) -> None:
        self._held: dict[int, _Held] = {}
        self._lock = threading.Lock()

    def index(
        self, conn: sqlite3.Connection, collection_id: int, dimensions: int, seq: int, base: int
    ) -> VectorIndex:
        """The collection's vectors as of its write number `seq`, cleared last at `base` (both
        read from its row with the rest of the collection)."""
        held = self._held.get(collection_id)
        if held is not None and held.seq == seq and held.index.dimensions == dimensions:
            return held.index
        with self._lock:
            held = self._held.get(collection_id)
            stale = held is None or held.seq < base or held.seq > seq
            if held is None or stale or held.index.dimensions != dimensions:
                held = _Held(VectorIndex(dimensions), 0)
            if held.seq < seq:
                _catch_up(conn, collection_id, held)
            self._held[collection_id] = held
            return held.index

    def forget(self, collection_id: int) -> None:
        with self._lock:
            self._held.pop(collection_id, None)


def _catch_up(conn: sqlite3.Connection, collection_id: int, held: _Held) -> None:
    """Apply what was written after `held.seq`: the row ids gone first, then the vectors set
    (a vector removed and set again after it is current, so set last)."""
    since = held.seq
    (now,) = conn.execute(
        "SELECT vector_seq FROM collections WHERE id = ?", (collection_id,)
    ).fetchone()
    if since:
        gone = [
            rowid
            for (rowid,) in conn.execute(
                "SELECT id FROM vectors_gone WHERE collection_id = ? AND seq > ?",
                (collection_id, since),
            )
        ]
        if gone:
            held.index.remove(gone)
    rows = conn.execute(
        "SELECT id, vector FROM vectors WHERE collection_id = ? AND seq > ?",
        (collection_id, since),
    ).fetchall()
    if rows:
        keys = np.fromiter((rowid for rowid, _ in rows), dtype=np.uint64, count=len(rows))
        matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float32)
        matrix = matrix.reshape(len(rows), -1)
        # A document with no text to embed has a vector of zeros: it counts as embedded, but
        # has no direction, so it is near nothing and never in the index (nor its old vector).
        blank = ~matrix.any(axis=1)
        if blank.any():
            held.index.remove(keys[blank])
        held.index.upsert(keys[~blank], matrix[~blank])
    held.seq = int(now)
