"""Prefix suggestions read off the embedded engine's stored documents: field values and
collection names. (Indexed words come from the index itself: `engine/reading.py`.)

Values are compared case-folded by `fold`, Python's `casefold`, registered on each connection
(SQLite's own `lower` folds ASCII only).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from app.adapters import like

FOLD = "fold"


def register(conn: sqlite3.Connection) -> None:
    conn.create_function(FOLD, 1, _fold, deterministic=True)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def json_path(field: str) -> str:
    return '$."' + field.replace('"', "") + '"'


def values(
    conn: sqlite3.Connection,
    namespace: str,
    field: str,
    prefix: str,
    limit: int,
    collection_id: int | None = None,
) -> list[tuple[str, int]]:
    pattern = like.literal(prefix.casefold()) + "%"
    scope = "d.collection_id = ?" if collection_id is not None else "c.namespace = ?"
    rows = conn.execute(
        "SELECT j.value, count(DISTINCT d.id) AS n FROM documents d "
        "JOIN collections c ON c.id = d.collection_id, json_each(d.body, ?) j "
        f"WHERE {scope} AND j.type = 'text' AND {FOLD}(j.value) "
        "LIKE ? ESCAPE '\\' GROUP BY j.value ORDER BY n DESC, j.value LIMIT ?",
        (
            json_path(field),
            collection_id if collection_id is not None else namespace,
            pattern,
            limit,
        ),
    )
    return [(str(value), int(count)) for value, count in rows]


def collection_names(
    conn: sqlite3.Connection, namespace: str, prefix: str, limit: int
) -> list[tuple[int, str]]:
    rows = conn.execute(
        "SELECT id, name FROM collections WHERE namespace = ? AND name LIKE ? ESCAPE '\\' "
        "ORDER BY name LIMIT ?",
        (namespace, like.literal(prefix) + "%", limit),
    )
    return [(int(row[0]), str(row[1])) for row in rows]
