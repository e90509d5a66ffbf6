"""The embedded engine as it was before tantivy, kept as the baseline it is measured against:
JSON documents in SQLite, one FTS5 table per collection whose columns are its text fields,
ranked inside FTS5 (`rank MATCH 'bm25(...)'`), the total a separate `count(*)`. Only what the
benchmarks call is kept: upsert, and a text query over some fields.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from app import jsonutil
from app.adapters import texts

WORD = re.compile(r"\w+", re.UNICODE)
MAX_TEXT_FIELDS = 32


class Fts5Engine:
    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(
            "CREATE TABLE documents (id INTEGER PRIMARY KEY, collection TEXT NOT NULL, "
            "document_id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (collection, document_id));"
        )
        self.fields: dict[str, list[str]] = {}

    def upsert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> None:
        rows = [texts.split_id(doc) for doc in documents]
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        fields = self.fields.get(collection)
        if fields is None:
            fields = self.fields[collection] = texts.text_fields_of(b for _, b in rows)[
                :MAX_TEXT_FIELDS
            ]
            columns = ", ".join(f"c{i}" for i in range(len(fields)))
            conn.execute(
                f"CREATE VIRTUAL TABLE fts_{collection} USING fts5({columns}, "
                "tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
            )
        columns = ", ".join(f"c{i}" for i in range(len(fields)))
        marks = ", ".join("?" for _ in range(len(fields) + 1))
        for document_id, body in rows:
            existing = conn.execute(
                "SELECT id FROM documents WHERE collection = ? AND document_id = ?",
                (collection, document_id),
            ).fetchone()
            encoded = jsonutil.dumps(body).decode()
            if existing is None:
                rowid = conn.execute(
                    "INSERT INTO documents (collection, document_id, body) VALUES (?, ?, ?)",
                    (collection, document_id or uuid.uuid4().hex, encoded),
                ).lastrowid
            else:
                rowid = existing[0]
                conn.execute("UPDATE documents SET body = ? WHERE id = ?", (encoded, rowid))
                conn.execute(f"DELETE FROM fts_{collection} WHERE rowid = ?", (rowid,))
            conn.execute(
                f"INSERT INTO fts_{collection} (rowid, {columns}) VALUES ({marks})",
                (rowid, *(texts.text_of(body.get(f)) for f in fields)),
            )
        conn.execute("COMMIT")

    def search(
        self, collection: str, fields: Sequence[str], text: str, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        words = WORD.findall(text.lower())[:16]
        known = self.fields.get(collection, [])
        columns = [known.index(f) for f in fields if f in known]
        if not words or not columns:
            return [], 0
        terms = [f'"{word}"' for word in words]
        terms[-1] += "*"
        match = "{" + " ".join(f"c{i}" for i in columns) + "} : (" + " AND ".join(terms) + ")"
        weights = [round(10.0 / (fields.index(f) + 1), 3) if f in fields else 0.0 for f in known]
        rank = "bm25(" + ", ".join(str(w) for w in weights) + ")"
        table = f"fts_{collection}"
        ranked = self.conn.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rank MATCH ? "
            "ORDER BY rank LIMIT ?",
            (match, rank, limit),
        ).fetchall()
        total = self.conn.execute(
            f"SELECT count(*) FROM {table} WHERE {table} MATCH ?", (match,)
        ).fetchone()[0]
        ids = [row[0] for row in ranked]
        marks = ", ".join("?" for _ in ids)
        bodies = [
            jsonutil.loads(row[0])
            for row in self.conn.execute(f"SELECT body FROM documents WHERE id IN ({marks})", ids)
        ]
        return bodies, int(total)

    def close(self) -> None:
        self.conn.close()
