"""The embedded engine's tables in SQLite: its collections, and their documents as JSON
bodies by row id."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from app import jsonutil

CHUNK = 500  # ids per query, well under SQLite's limit on bound parameters
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
