"""The embedded engine's tables in SQLite: its collections, and their documents as JSON
bodies by row id."""

from __future__ import annotations

import sqlite3
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app import jsonutil
from app.adapters.engine.fields import Fields

CHUNK = 500
# The JSON of the bodies a connection keeps decoded (`Bodies`), at most (decoded, they take a
# few times that): a page of results is read again for every search that finds it, and reading
# and decoding 20 bodies was a tenth of a JSON execute's time on the Debian catalog. Per
# connection, that is per thread that searches: mostly the event loop's, so kept small.
BODIES_KEPT_BYTES = 2_000_000
# ids per query, well under SQLite's limit on bound parameters
SCHEMA = """
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    fields TEXT NOT NULL,
    fts_version INTEGER NOT NULL,
    UNIQUE (namespace, name)
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections (id),
    document_id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (collection_id, document_id)
);
"""
# Added when the index moved to tantivy: each collection's slots, and its index directory
# (a fresh name per collection, so that a dropped collection's id reused never meets an old index).
COLUMNS = {"attributes": "TEXT", "index_name": "TEXT"}
# Added with search by meaning: a collection's documents in row-id order, for the fill that
# reads on from its last batch (`vectorsets.without`). Without it each batch read the whole
# collection through the (collection_id, document_id) index and sorted it: 77 µs a document
# filled on the Debian catalog, 11 µs with it.
INDEXES = """
CREATE INDEX IF NOT EXISTS documents_by_collection ON documents (collection_id);
"""


@dataclass(frozen=True)
class Collection:
    id: int
    fields: Fields
    index_name: str
    embedding: dict[str, Any] | None = None  # as the services set it (`set_embedding`)
    vector_seq: int = 0  # the number of its last write of vectors (`vectorsets.py`)
    vector_base: int = 0  # the number at which its vectors were last all cleared


def collection(
    conn: sqlite3.Connection, namespace: str, name: str, *, create: bool = False
) -> Collection | None:
    """A collection's row, or None; with `create`, a new empty one when there is none."""
    row = conn.execute(
        "SELECT id, attributes, fields, index_name, embedding, vector_seq, vector_base "
        "FROM collections WHERE namespace = ? AND name = ?",
        (namespace, name),
    ).fetchone()
    if row is not None:
        embedding = jsonutil.loads(row[4]) if row[4] else None
        return Collection(row[0], Fields.load(row[1], row[2]), row[3], embedding, *row[5:])
    if not create:
        return None
    index_name = uuid.uuid4().hex
    cursor = conn.execute(
        "INSERT INTO collections (namespace, name, fields, fts_version, attributes, "
        "index_name) VALUES (?, ?, '[]', 1, '{}', ?)",
        (namespace, name, index_name),
    )
    return Collection(int(cursor.lastrowid or 0), Fields(), index_name)


def save_fields(conn: sqlite3.Connection, coll: Collection) -> None:
    attributes, text = coll.fields.dump()
    conn.execute(
        "UPDATE collections SET attributes = ?, fields = ?, index_name = ? WHERE id = ?",
        (attributes, text, coll.index_name, coll.id),
    )


def rowids(conn: sqlite3.Connection, collection_id: int, ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        found.update(
            conn.execute(
                f"SELECT document_id, id FROM documents WHERE collection_id = ? "
                f"AND document_id IN ({marks})",
                (collection_id, *chunk),
            ).fetchall()
        )
    return found


def only(
    conn: sqlite3.Connection, collection_id: int, ids: Sequence[str] | None
) -> list[int] | None:
    """These documents' row ids (those the collection holds), or None for no ids at all."""
    if ids is None:
        return None
    return list(rowids(conn, collection_id, list(ids)).values()) if ids else []


def document(conn: sqlite3.Connection, collection_id: int, document_id: str) -> Any:
    row = conn.execute(
        "SELECT id, body FROM documents WHERE collection_id = ? AND document_id = ?",
        (collection_id, document_id),
    ).fetchone()
    return None if row is None else (int(row[0]), jsonutil.loads(row[1]))


class Record:
    """One document as a connection last read it: its id, its body (shared by every search
    that finds it, never changed), and the highlights searches made of it, by the fields and
    words they marked (`reading.Plan.hit`): the same query finds the same documents again (a
    popular query, the next page), and marking them anew was a fifth of a search's Python."""

    __slots__ = ("body", "document_id", "marks", "size")

    def __init__(self, document_id: str, body: dict[str, Any], size: int) -> None:
        self.document_id = document_id
        self.body = body
        self.size = size
        self.marks: dict[Any, dict[str, str]] = {}


class Bodies:
    """Documents by row id as last read through one connection (`Record`), the most recently
    used kept up to BODIES_KEPT_BYTES of their JSON. Valid only as long as nothing was written
    (`Seen.clear`)."""

    def __init__(self) -> None:
        self._kept: OrderedDict[int, Record] = OrderedDict()
        self._bytes = 0

    def read(self, conn: sqlite3.Connection, rowids: list[int]) -> dict[int, Record]:
        kept, found = self._kept, {}
        missing = []
        for rowid in rowids:
            record = kept.get(rowid)
            if record is None:
                missing.append(rowid)
            else:
                kept.move_to_end(rowid)
                found[rowid] = record
        if missing:
            marks = ", ".join("?" for _ in missing)
            query = f"SELECT id, document_id, body FROM documents WHERE id IN ({marks})"
            for rowid, document_id, text in conn.execute(query, missing):
                found[rowid] = kept[rowid] = Record(document_id, jsonutil.loads(text), len(text))
                self._bytes += len(text)
            while self._bytes > BODIES_KEPT_BYTES and len(kept) > 1:
                self._bytes -= kept.popitem(last=False)[1].size
        return found

    def clear(self) -> None:
        self._kept.clear()
        self._bytes = 0


class Seen(dict[tuple[str, str], Collection | None]):
    """What one connection has read, as of its `data_version`: collections by (namespace,
    name), and documents' bodies; cleared at once after any write."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies = Bodies()

    def clear(self) -> None:
        super().clear()
        self.bodies.clear()


def held(conn: sqlite3.Connection, collection_id: int, rowids: Iterable[int]) -> dict[int, Any]:
    """The bodies of those of `rowids` that the collection holds."""
    wanted = list(rowids)
    found: dict[int, Any] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(
            f"SELECT id, body FROM documents WHERE collection_id = ? AND id IN ({marks})",
            (collection_id, *chunk),
        )
        found.update((rowid, jsonutil.loads(body)) for rowid, body in rows)
    return found
