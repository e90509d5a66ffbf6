"""A collection's vectors in the embedded engine: kept in SQLite, searched in memory.

SQLite holds each document's vector (`vectors`, by the document's row id) and is the truth:
every write of a collection's vectors takes the next number of its `vector_seq`, and a vector
removed leaves its row id in `vectors_gone` under that number. Each process holds each
collection's `VectorIndex` with the number it has read up to, and catches up on its next
search by reading only what changed since: the vectors set after it (which are current, since
a row is replaced when its vector is) and the row ids gone after it. So several processes, and
a process that imports beside the one that serves, agree without sharing memory.

Each index is also saved to a file in its collection's index directory (`indexes/<name>/vectors`,
`vectorfile.py`), with the number it was read up to: a process that starts loads it and catches
up from that number, instead of building the graph again from every vector (a million: seconds
against minutes). A file that is missing, damaged, of other dimensions, or whose number is not
between the collection's last clearing and its last write is not trusted: the index is built
from SQLite as before. It is saved in a background thread once a quarter of it changed since
the last save (so after a first build too), and when the engine closes; a lock file beside it
keeps two processes from writing it at once (the second skips: the first's file is as good).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from app.adapters.engine.vectorfile import VectorFileError
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
VECTOR_FILE = "vectors"  # in the collection's index directory (tantivy minds only its own files)
LOCK_FILE = "vectors.lock"
# Saved again once this share of its vectors were set or removed since the last save: a save
# of a million takes seconds of a background thread (design.md, "Vector index").
SAVE_SHARE = 0.25
log = logging.getLogger(__name__)


@dataclass
class _Held:
    index: VectorIndex
    seq: int
    name: str | None = None  # the collection's index directory, where its file is kept
    changed: int = 0  # vectors set or removed since it was last saved (or loaded)
    saving: threading.Thread | None = None


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
    """Each collection's index in this process, caught up with SQLite before each use, and
    saved under `directory` (none: never saved)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._held: dict[int, _Held] = {}
        self._lock = threading.Lock()

    def index(
        self,
        conn: sqlite3.Connection,
        collection_id: int,
        dimensions: int,
        seq: int,
        base: int,
        name: str | None = None,
    ) -> VectorIndex:
        """The collection's vectors as of its write number `seq`, cleared last at `base` (both
        read from its row with the rest of the collection), kept in its index directory `name`."""
        held = self._held.get(collection_id)
        if held is not None and held.seq == seq and held.index.dimensions == dimensions:
            return held.index
        with self._lock:
            held = self._held.get(collection_id)
            stale = held is None or held.seq < base or held.seq > seq
            if held is None or stale or held.index.dimensions != dimensions:
                held = self._opened(name, dimensions, seq, base)
            if held.seq < seq:
                held.changed += _catch_up(conn, collection_id, held)
            self._held[collection_id] = held
            if held.changed > SAVE_SHARE * max(1, len(held.index)) and held.saving is None:
                held.saving = threading.Thread(target=self._save, args=(held,), daemon=True)
                held.saving.start()
            return held.index

    def forget(self, collection_id: int) -> None:
        with self._lock:
            self._held.pop(collection_id, None)

    def close(self) -> None:
        """Save each index that changed since its last save (after any save under way)."""
        with self._lock:
            held = list(self._held.values())
            self._held.clear()
        for one in held:
            if one.saving is not None:
                one.saving.join()
            if one.changed:
                self._save(one)

    def _path(self, name: str | None) -> Path | None:
        if self._directory is None or name is None:
            return None
        return self._directory / name / VECTOR_FILE

    def _opened(self, name: str | None, dimensions: int, seq: int, base: int) -> _Held:
        """The index as saved, when its file can be trusted for these numbers; else empty."""
        path = self._path(name)
        if path is not None and path.exists():
            try:
                saved = VectorIndex.load(path, dimensions)
            except VectorFileError as error:
                log.warning("building the vector index again: %s", error)
            else:
                if base <= saved.version <= seq:
                    return _Held(saved, saved.version, name)
                log.warning("building the vector index again: %s is out of step", path)
        return _Held(VectorIndex(dimensions), 0, name)

    def _save(self, held: _Held) -> None:
        path = self._path(held.name)
        try:
            if path is None or not path.parent.is_dir():
                return  # (never saved, or the collection's directory is gone)
            with _locked(path.parent / LOCK_FILE) as mine:
                if mine:
                    # The number first: the index only moves past it, and a file ahead of
                    # its number is caught up again harmlessly (a write applied twice is one).
                    seq, changed = held.seq, held.changed
                    held.index.save(path, seq)
                    with self._lock:
                        held.changed -= changed
        except OSError as error:  # (a full disk: the next start builds it from SQLite)
            log.warning("the vector index could not be saved: %s", error)
        finally:
            held.saving = None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[bool]:
    """Whether this process holds the lock file at `path`, for as long as the block runs
    (False at once when another holds it)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # (which lets the lock go)


def _catch_up(conn: sqlite3.Connection, collection_id: int, held: _Held) -> int:
    """Apply what was written after `held.seq`: the row ids gone first, then the vectors set
    (a vector removed and set again after it is current, so set last); how many changed."""
    since = held.seq
    changed = 0
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
            changed += held.index.remove(gone)
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
            changed += held.index.remove(keys[blank])
        held.index.upsert(keys[~blank], matrix[~blank])
        changed += int((~blank).sum())
    held.seq = int(now)
    return changed
