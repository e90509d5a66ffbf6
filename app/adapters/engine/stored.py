"""The embedded engine's documents as SQLite stores them: JSON bodies by row id."""

from __future__ import annotations

import sqlite3
from typing import Any

from app import jsonutil


def rowids(conn: sqlite3.Connection, collection_id: int, ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
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
