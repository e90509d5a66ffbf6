"""The embedded engine's tables in SQLite: its collections, and their documents as JSON
bodies by row id."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app import jsonutil
from app.adapters.engine.fields import Fields

CHUNK = 500
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


def bodies(conn: sqlite3.Connection, rowids: list[int]) -> dict[int, tuple[str, dict[str, Any]]]:
    if not rowids:
        return {}
    marks = ", ".join("?" for _ in rowids)
    return {
        row[0]: (row[1], jsonutil.loads(row[2]))
        for row in conn.execute(
            f"SELECT id, document_id, body FROM documents WHERE id IN ({marks})", rowids
        )
    }


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
