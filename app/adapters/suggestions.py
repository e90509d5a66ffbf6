"""Prefix suggestions from the embedded engine: field values, indexed words, collection names.

Words come from FTS5's own vocabulary (`fts5vocab`, per column, so that only the columns asked
for are read: a hidden field's words never become a suggestion).
"""

from __future__ import annotations

import sqlite3
import unicodedata

from app.adapters import filter_sql, like


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
        f"WHERE {scope} AND j.type = 'text' AND {filter_sql.FOLD}(j.value) "
        "LIKE ? ESCAPE '\\' GROUP BY j.value ORDER BY n DESC, j.value LIMIT ?",
        (
            filter_sql.json_path(field),
            collection_id if collection_id is not None else namespace,
            pattern,
            limit,
        ),
    )
    return [(str(value), int(count)) for value, count in rows]


def terms(
    conn: sqlite3.Connection, fts_table: str, columns: list[str], prefix: str, limit: int
) -> list[tuple[str, int]]:
    """Words of those columns starting with `prefix`, as the tokenizer folds them (lower
    case, no accents), with the documents holding each (summed over columns)."""
    folded = _fold(prefix)
    if not columns or not folded:
        return []
    vocab = f"vocab_{fts_table}"
    conn.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{vocab} USING fts5vocab(main, {fts_table}, col)"
    )
    marks = ", ".join("?" for _ in columns)
    rows = conn.execute(
        f"SELECT term, sum(doc) AS n FROM temp.{vocab} WHERE col IN ({marks}) "
        "AND term >= ? AND term < ? GROUP BY term ORDER BY n DESC, term LIMIT ?",
        (*columns, folded, folded + "\U0010ffff", limit),
    )
    return [(str(term), int(count)) for term, count in rows]


def collection_names(
    conn: sqlite3.Connection, namespace: str, prefix: str, limit: int
) -> list[tuple[int, str]]:
    rows = conn.execute(
        "SELECT id, name FROM collections WHERE namespace = ? AND name LIKE ? ESCAPE '\\' "
        "ORDER BY name LIMIT ?",
        (namespace, like.literal(prefix) + "%", limit),
    )
    return [(int(row[0]), str(row[1])) for row in rows]


def _fold(text: str) -> str:
    """As FTS5's unicode61 tokenizer with remove_diacritics 2 folds a word."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()
