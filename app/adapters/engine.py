"""The embedded search engine: JSON documents in SQLite, full-text search by FTS5 and BM25.

Each collection (scoped by namespace) has one FTS5 table whose columns are the collection's
text fields, in the order first seen. When a batch brings a new text field the table is rebuilt
with one more column, inside the same transaction, so a search never sees half an index.

Queries are built from words only: every word is quoted, so nothing a user types is FTS5
syntax. The last word matches as a prefix, for search-as-you-type.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from app import jsonutil
from app.adapters import filter_sql, suggestions, texts
from app.schemas.filters import Filter

ENGINE_FILE = "engine.db"
T = TypeVar("T")
MAX_TEXT_FIELDS = 32
BUSY_TIMEOUT_SECONDS = 30

_SCHEMA = """
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


@dataclass(frozen=True)
class Hit:
    document_id: str
    score: float
    body: dict[str, Any]


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int


@dataclass(frozen=True)
class UpsertResult:
    inserted: int
    updated: int
    document_ids: list[str]


@dataclass(frozen=True)
class _Collection:
    id: int
    fields: list[str]
    fts_version: int

    @property
    def fts_table(self) -> str:
        return f"fts_{self.id}_{self.fts_version}"


class Engine:
    """One SQLite file. Each thread reads through its own connection; writes take a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._write_lock = threading.Lock()
        self._connections_lock = threading.Lock()
        self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
            filter_sql.register(conn)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # Writing ------------------------------------------------------------------------------

    def upsert(
        self, namespace: str, collection: str, documents: Sequence[Mapping[str, Any]]
    ) -> UpsertResult:
        """Insert or replace documents by `document_id` (one is made up where missing)."""
        rows = [texts.split_id(doc) for doc in documents]
        return self._write(lambda conn: self._upsert(conn, namespace, collection, rows))

    def delete(self, namespace: str, collection: str, document_id: str) -> bool:
        """Remove one document (from the index too); False if it was not there."""

        def work(conn: sqlite3.Connection) -> bool:
            coll = self._collection(conn, namespace, collection)
            row = None
            if coll is not None:
                row = conn.execute(
                    "SELECT id FROM documents WHERE collection_id = ? AND document_id = ?",
                    (coll.id, document_id),
                ).fetchone()
            if coll is None or row is None:
                return False
            conn.execute(f"DELETE FROM {coll.fts_table} WHERE rowid = ?", (row[0],))
            conn.execute("DELETE FROM documents WHERE id = ?", (row[0],))
            return True

        return self._write(work)

    def drop(self, namespace: str, collection: str) -> int | None:
        """Remove a whole collection; how many documents it held, or None if none was there."""

        def work(conn: sqlite3.Connection) -> int | None:
            coll = self._collection(conn, namespace, collection)
            if coll is None:
                return None
            cursor = conn.execute("DELETE FROM documents WHERE collection_id = ?", (coll.id,))
            conn.execute(f"DROP TABLE {coll.fts_table}")
            conn.execute("DELETE FROM collections WHERE id = ?", (coll.id,))
            return int(cursor.rowcount)

        return self._write(work)

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """One write transaction at a time (BEGIN IMMEDIATE), rolled back on any error."""
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return result

    def _upsert(
        self,
        conn: sqlite3.Connection,
        namespace: str,
        collection: str,
        rows: list[tuple[str, dict[str, Any]]],
    ) -> UpsertResult:
        coll = self._collection(conn, namespace, collection, create=True)
        assert coll is not None
        new_fields = texts.text_fields_of(body for _, body in rows)
        missing = [f for f in new_fields if f not in coll.fields]
        room = MAX_TEXT_FIELDS - len(coll.fields)
        if missing and room > 0:
            coll = self._widen(conn, coll, coll.fields + missing[:room])
        inserted = updated = 0
        ids: list[str] = []
        columns = ", ".join(f"c{i}" for i in range(len(coll.fields)))
        marks = ", ".join("?" for _ in range(len(coll.fields) + 1))
        for document_id, body in rows:
            existing = conn.execute(
                "SELECT id FROM documents WHERE collection_id = ? AND document_id = ?",
                (coll.id, document_id),
            ).fetchone()
            encoded = jsonutil.dumps(body).decode()
            if existing is None:
                cursor = conn.execute(
                    "INSERT INTO documents (collection_id, document_id, body) VALUES (?, ?, ?)",
                    (coll.id, document_id, encoded),
                )
                rowid = cursor.lastrowid
                inserted += 1
            else:
                rowid = existing[0]
                conn.execute("UPDATE documents SET body = ? WHERE id = ?", (encoded, rowid))
                conn.execute(f"DELETE FROM {coll.fts_table} WHERE rowid = ?", (rowid,))
                updated += 1
            if coll.fields:  # no text yet, nothing to index: a later text field widens it
                conn.execute(
                    f"INSERT INTO {coll.fts_table} (rowid, {columns}) VALUES ({marks})",
                    (rowid, *(texts.text_of(body.get(f)) for f in coll.fields)),
                )
            ids.append(document_id)
        return UpsertResult(inserted=inserted, updated=updated, document_ids=ids)

    def _collection(
        self, conn: sqlite3.Connection, namespace: str, name: str, *, create: bool = False
    ) -> _Collection | None:
        row = conn.execute(
            "SELECT id, fields, fts_version FROM collections WHERE namespace = ? AND name = ?",
            (namespace, name),
        ).fetchone()
        if row is not None:
            return _Collection(row[0], jsonutil.loads(row[1]), row[2])
        if not create:
            return None
        cursor = conn.execute(
            "INSERT INTO collections (namespace, name, fields, fts_version) VALUES (?, ?, '[]', 1)",
            (namespace, name),
        )
        coll = _Collection(int(cursor.lastrowid or 0), [], 1)
        _create_fts(conn, coll)
        return coll

    def _widen(self, conn: sqlite3.Connection, coll: _Collection, fields: list[str]) -> _Collection:
        """A new FTS table with more columns, filled from the stored documents."""
        wider = _Collection(coll.id, fields, coll.fts_version + 1)
        _create_fts(conn, wider)
        columns = ", ".join(f"c{i}" for i in range(len(fields)))
        marks = ", ".join("?" for _ in range(len(fields) + 1))
        stored = conn.execute("SELECT id, body FROM documents WHERE collection_id = ?", (coll.id,))
        conn.executemany(
            f"INSERT INTO {wider.fts_table} (rowid, {columns}) VALUES ({marks})",
            (
                (rowid, *(texts.text_of(body.get(f)) for f in fields))
                for rowid, body in ((r[0], jsonutil.loads(r[1])) for r in stored)
            ),
        )
        conn.execute(f"DROP TABLE {coll.fts_table}")
        conn.execute(
            "UPDATE collections SET fields = ?, fts_version = ? WHERE id = ?",
            (jsonutil.dumps(fields).decode(), wider.fts_version, coll.id),
        )
        return wider

    # Reading ------------------------------------------------------------------------------

    def search(
        self,
        namespace: str,
        collection: str,
        *,
        fields: Sequence[str],
        text: str,
        filters: Mapping[str, Any],
        limit: int,
        offset: int,
        tree: Filter | None = None,
    ) -> SearchResult:
        """Rank `text` over `fields` (earlier fields weigh more), keep documents whose fields
        equal `filters` (a list value: any of them) and that meet the filter `tree`, and
        return one page."""
        conn = self._conn()
        coll = self._collection(conn, namespace, collection)
        if coll is None:
            return SearchResult(hits=[], total=0)
        where, params = filter_sql.input_filters(filters)
        if tree is not None:
            tree_sql, tree_params = filter_sql.where_sql(tree)
            where += f" AND {tree_sql}"
            params += tree_params
        match = filter_sql.match_expression(
            text, [coll.fields.index(f) for f in fields if f in coll.fields]
        )
        if match is None:
            return self._browse(conn, coll, where, params, limit, offset)
        fts = coll.fts_table
        # FTS5 ranks and sorts inside its own index when asked by `rank MATCH`, and only the
        # page's bodies are read afterwards.
        rank = "bm25(" + ", ".join(str(filter_sql.weight(f, fields)) for f in coll.fields) + ")"
        if where:
            sql = (
                f"SELECT {fts}.rowid, -{fts}.rank FROM {fts} "
                f"JOIN documents d ON d.id = {fts}.rowid "
                f"WHERE {fts} MATCH ? AND {fts}.rank MATCH ?{where} "
                f"ORDER BY {fts}.rank LIMIT ? OFFSET ?"
            )
            count_sql = (
                f"SELECT count(*) FROM {fts} JOIN documents d ON d.id = {fts}.rowid "
                f"WHERE {fts} MATCH ?{where}"
            )
        else:
            sql = (
                f"SELECT rowid, -rank FROM {fts} WHERE {fts} MATCH ? AND rank MATCH ? "
                "ORDER BY rank LIMIT ? OFFSET ?"
            )
            count_sql = f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ?"
        ranked = conn.execute(sql, (match, rank, *params, limit, offset)).fetchall()
        total = conn.execute(count_sql, (match, *params)).fetchone()[0]
        return SearchResult(hits=self._hits(conn, ranked), total=int(total))

    def _browse(
        self,
        conn: sqlite3.Connection,
        coll: _Collection,
        where: str,
        params: list[Any],
        limit: int,
        offset: int,
    ) -> SearchResult:
        """No words to rank: documents in the order they were first added."""
        rows = conn.execute(
            f"SELECT d.id, 0.0 FROM documents d WHERE d.collection_id = ?{where} "
            "ORDER BY d.id LIMIT ? OFFSET ?",
            (coll.id, *params, limit, offset),
        ).fetchall()
        total = conn.execute(
            f"SELECT count(*) FROM documents d WHERE d.collection_id = ?{where}", (coll.id, *params)
        ).fetchone()[0]
        return SearchResult(hits=self._hits(conn, rows), total=int(total))

    @staticmethod
    def _hits(conn: sqlite3.Connection, ranked: list[tuple[int, float]]) -> list[Hit]:
        if not ranked:
            return []
        marks = ", ".join("?" for _ in ranked)
        bodies = {
            row[0]: (row[1], row[2])
            for row in conn.execute(
                f"SELECT id, document_id, body FROM documents WHERE id IN ({marks})",
                [rowid for rowid, _ in ranked],
            )
        }
        return [
            Hit(bodies[rowid][0], round(float(score), 6), jsonutil.loads(bodies[rowid][1]))
            for rowid, score in ranked
        ]

    def prefix_values(
        self, namespace: str, field: str, prefix: str, limit: int, collection: str | None = None
    ) -> list[tuple[str, int]]:
        """Text values of `field` that start with `prefix` (case-folded), in one collection or
        all of the namespace's, with how many documents carry each, most first."""
        conn = self._conn()
        coll = self._collection(conn, namespace, collection) if collection else None
        if collection and coll is None:
            return []
        return suggestions.values(conn, namespace, field, prefix, limit, coll.id if coll else None)

    def prefix_terms(
        self, namespace: str, collection: str, fields: list[str], prefix: str, limit: int
    ) -> list[tuple[str, int]]:
        """Indexed words of `fields` that start with `prefix`, with their document counts."""
        conn = self._conn()
        coll = self._collection(conn, namespace, collection)
        if coll is None:
            return []
        columns = [f"c{coll.fields.index(f)}" for f in fields if f in coll.fields]
        return suggestions.terms(conn, coll.fts_table, columns, prefix, limit)

    def collection_names(self, namespace: str, prefix: str, limit: int) -> list[tuple[int, str]]:
        """(id, name) of the namespace's collections whose name starts with `prefix`."""
        return suggestions.collection_names(self._conn(), namespace, prefix, limit)

    def text_fields(self, namespace: str, collection: str) -> list[str]:
        """The collection's text fields, in the order they first appeared (none if unknown)."""
        coll = self._collection(self._conn(), namespace, collection)
        return list(coll.fields) if coll is not None else []

    def count(self, namespace: str, collection: str) -> int:
        conn = self._conn()
        coll = self._collection(conn, namespace, collection)
        if coll is None:
            return 0
        row = conn.execute("SELECT count(*) FROM documents WHERE collection_id = ?", (coll.id,))
        return int(row.fetchone()[0])


def _create_fts(conn: sqlite3.Connection, coll: _Collection) -> None:
    # An FTS5 table needs at least one column; a collection with no text yet gets a spare.
    columns = ", ".join(f"c{i}" for i in range(max(1, len(coll.fields))))
    conn.execute(
        f"CREATE VIRTUAL TABLE {coll.fts_table} USING fts5({columns}, "
        "tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    )
