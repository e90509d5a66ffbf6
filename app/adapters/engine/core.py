"""The embedded search engine: JSON documents in SQLite, their index in tantivy.

SQLite (`engine.db`) keeps each collection's documents as JSON and its fields (`fields.py`);
each collection's index lives in its own tantivy directory beside it (`index.py`). A write
takes SQLite's write transaction first (`BEGIN IMMEDIATE`, one at a time across every process
on the machine), then writes and commits the index, then commits SQLite: a failed index write
rolls the documents back with it. When SQLite's commit fails after the index's (a disk with room
for one and not the other), the index is put back as SQLite has it (`_put_back`), and a process
that stopped before it could is mended at the next start (`_migrate`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import tantivy
from numpy.typing import ArrayLike

from app import jsonutil
from app.adapters import outages, suggestions, texts
from app.adapters.engine import hybrid, index, reading, relevance, stored, vectorsets
from app.adapters.engine.fields import Fields
from app.adapters.engine.index import Indexes
from app.adapters.engine.meaning import CollectionVectors
from app.adapters.engine.reads import CollectionReads
from app.adapters.engine.results import Search, SearchResult, UpsertResult
from app.adapters.engine.stored import Collection
from app.adapters.engine.vectorsets import VectorSets

ENGINE_FILE = "engine.db"
INDEX_DIRECTORY = "indexes"
T = TypeVar("T")
BUSY_TIMEOUT_SECONDS = 30


@outages.guarded
class Engine(CollectionVectors, CollectionReads):
    """One SQLite file and its indexes. Each thread reads through its own connection."""

    def lacks(self) -> Mapping[str, str]:
        return {}  # (every feature)

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.indexes = Indexes(path.parent / INDEX_DIRECTORY)
        self.vectors = VectorSets(self.indexes.root)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._write_lock = threading.Lock()
        self._connections_lock = threading.Lock()
        self._migrate()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            self._local.seen = stored.Seen()  # as of `data_version`
            self._local.version = None
            self._local.reading = self._local.checked = False  # (`one_read`)
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
            suggestions.register(conn)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def _migrate(self) -> None:
        """Create the tables; index again any collection whose index is missing (a store
        from before the indexes moved to tantivy, or a directory lost) or may differ from
        SQLite (a process stopped between the two commits, or before `_put_back`)."""

        # (executescript commits by itself: first, alone)
        self._conn().executescript(stored.SCHEMA + vectorsets.SCHEMA + stored.INDEXES)

        def work(conn: sqlite3.Connection) -> list[str]:
            present = {row[1] for row in conn.execute("PRAGMA table_info(collections)")}
            for column, kind in {**stored.COLUMNS, **vectorsets.COLUMNS}.items():
                if column not in present:
                    conn.execute(f"ALTER TABLE collections ADD COLUMN {column} {kind}")
            for (table,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'fts_*'"
            ).fetchall():
                conn.execute(f"DROP TABLE IF EXISTS {table}")  # the FTS5 index before tantivy
            counts = dict(conn.execute("SELECT collection_id, count(*) FROM documents GROUP BY 1"))
            replaced = []
            rows = conn.execute("SELECT id, index_name FROM collections").fetchall()
            for collection_id, name in rows:
                if name is None or not self.indexes.agrees(name, counts.get(collection_id, 0)):
                    self._reindex(conn, collection_id)
                    replaced.append(name)
            return replaced

        for name in self._write(work):
            if name is not None:
                self.indexes.remove(name)  # (a reader of another process follows the new one)

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
        self.vectors.close()  # (saved in their index directories, which close leaves)
        self.indexes.close()

    # Writing ------------------------------------------------------------------------------

    def upsert(
        self,
        namespace: str,
        collection: str,
        documents: Sequence[Mapping[str, Any]],
        vectors: Sequence[ArrayLike | None] | None = None,
        model: str | None = None,
    ) -> UpsertResult:
        """Insert or replace documents by `document_id` (one is made up where missing). With
        `vectors` (one a document, None for one that has none), made by `model`: their vectors
        too, unless the collection's embedder has changed since (then they are left for the
        collection's own embedding to make again). A replaced document's old vector goes."""
        rows = [texts.split_id(doc) for doc in documents]
        if vectors is not None and len(vectors) != len(rows):
            raise ValueError(f"{len(vectors)} vectors for {len(rows)} documents")

        def work(conn: sqlite3.Connection) -> UpsertResult:
            result, rowids = self._upsert(conn, namespace, collection, rows)
            coll = stored.collection(conn, namespace, collection)
            assert coll is not None
            self._keep_vectors(conn, coll, rowids, vectors, model)
            return result

        return self._write(work)

    def delete(self, namespace: str, collection: str, document_id: str) -> bool:
        """Remove one document (from the index too); False if it was not there."""

        def work(conn: sqlite3.Connection) -> bool:
            coll = stored.collection(conn, namespace, collection)
            row = None
            if coll is not None:
                row = conn.execute(
                    "SELECT id FROM documents WHERE collection_id = ? AND document_id = ?",
                    (coll.id, document_id),
                ).fetchone()
            if coll is None or row is None:
                return False
            conn.execute("DELETE FROM documents WHERE id = ?", (row[0],))
            vectorsets.write(conn, coll.id, [], gone=[row[0]])
            with self.indexes.writer(coll.index_name, [row[0]]) as writer:
                writer.delete_documents_by_query(index.by_rowid(row[0]))
            return True

        return self._write(work)

    def drop(self, namespace: str, collection: str) -> int | None:
        """Remove a whole collection; how many documents it held, or None if none was there."""

        def work(conn: sqlite3.Connection) -> tuple[int, str] | None:
            coll = stored.collection(conn, namespace, collection)
            if coll is None:
                return None
            cursor = conn.execute("DELETE FROM documents WHERE collection_id = ?", (coll.id,))
            vectorsets.clear(conn, coll.id)
            conn.execute("DELETE FROM collections WHERE id = ?", (coll.id,))
            self.vectors.forget(coll.id)
            return int(cursor.rowcount), coll.index_name

        dropped = self._write(work)
        if dropped is None:
            return None
        self.indexes.remove(dropped[1])  # after the commit: a reader may still hold it open
        return dropped[0]

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """One write transaction at a time (BEGIN IMMEDIATE), rolled back on any error,
        indexes that it had committed then put back; any left from before, first."""
        conn = self._conn()
        with self._write_lock:
            for name in list(self.indexes.unsynced):
                self._put_back(name)
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # (SQLite ends it itself when a disk-full COMMIT fails)
                    conn.execute("ROLLBACK")
                for name in self.indexes.failed():
                    with contextlib.suppress(Exception):  # (tried again before the next use)
                        self._put_back(name)
                raise
            finally:
                self._local.seen.clear()  # `data_version` counts only other connections' writes
            self.indexes.settled()
        return result

    def _put_back(self, name: str) -> None:
        """An index that a failed write had committed, put back as SQLite has its rows. It
        takes a write transaction (for tantivy's writer lock) and a little room: on a disk still
        full it fails, and a read of the collection with it, rather than show what is not stored."""
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT id, attributes, fields FROM collections WHERE index_name = ?", (name,)
            ).fetchone()
            fields = Fields.load(row[1], row[2]) if row else None
            held = stored.held(conn, row[0], self.indexes.unsynced[name]) if row else {}
            self.indexes.put_back(name, fields, held)
        finally:
            conn.execute("ROLLBACK")  # (only read)

    def _upsert(
        self,
        conn: sqlite3.Connection,
        namespace: str,
        collection: str,
        rows: list[tuple[str, dict[str, Any]]],
    ) -> tuple[UpsertResult, list[int]]:
        coll = stored.collection(conn, namespace, collection, create=True)
        assert coll is not None
        learnt = False
        existing = stored.rowids(conn, coll.id, [document_id for document_id, _ in rows])
        inserted = updated = 0
        with self.indexes.writer(coll.index_name, existing.values()) as writer:
            for document_id, body in rows:
                encoded = jsonutil.dumps(body).decode()
                rowid = existing.get(document_id)
                if rowid is None:
                    cursor = conn.execute(
                        "INSERT INTO documents (collection_id, document_id, body) VALUES (?, ?, ?)",
                        (coll.id, document_id, encoded),
                    )
                    rowid = existing[document_id] = int(cursor.lastrowid or 0)
                    inserted += 1
                else:
                    conn.execute("UPDATE documents SET body = ? WHERE id = ?", (encoded, rowid))
                    writer.delete_documents_by_query(index.by_rowid(rowid))
                    updated += 1
                doc, changed = coll.fields.document(rowid, body)
                learnt = learnt or changed
                writer.add_document(tantivy.Document.from_dict(doc, index.SCHEMA))
        if learnt:
            stored.save_fields(conn, coll)
        result = UpsertResult(inserted=inserted, updated=updated, document_ids=[d for d, _ in rows])
        return result, [existing[document_id] for document_id, _ in rows]

    def _reindex(self, conn: sqlite3.Connection, collection_id: int) -> None:
        """A new index for a collection, filled from its stored documents."""
        fields = Fields()
        rows = conn.execute(
            "SELECT id, body FROM documents WHERE collection_id = ? ORDER BY id", (collection_id,)
        ).fetchall()
        coll = Collection(collection_id, fields, uuid.uuid4().hex)
        with self.indexes.writer(coll.index_name, ()) as writer:
            for rowid, body in rows:
                doc, _ = fields.document(rowid, jsonutil.loads(body))
                writer.add_document(tantivy.Document.from_dict(doc, index.SCHEMA))
        stored.save_fields(conn, coll)

    def _known(self, namespace: str, name: str) -> Collection | None:
        """A collection as last read by this thread's connection, read again once any
        connection (of this process or another) has written since: reading and parsing its
        fields for every query cost 14% of a search. Within `one_read`, asked only once."""
        conn = self._conn()
        local = self._local
        if not local.checked:
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if version != local.version:
                local.seen.clear()
                local.version = version
            local.checked = local.reading
        seen: stored.Seen = local.seen
        key = (namespace, name)
        if key not in seen:
            seen[key] = stored.collection(conn, namespace, name)
        coll = seen[key]
        if coll is not None and coll.index_name in self.indexes.unsynced:
            with self._write_lock:
                if coll.index_name in self.indexes.unsynced:
                    self._put_back(coll.index_name)
        return coll

    @contextmanager
    def one_read(self) -> Iterator[None]:
        """This thread's reads within take the collections as the first of them finds them:
        one `PRAGMA data_version` for a search's three reads (whether it is quick, its
        embedding settings, the search itself), each a few microseconds. Only around work that
        waits for nothing, so that it is as one read at its start."""
        self._conn()
        local = self._local
        if local.reading:
            yield
            return
        local.reading, local.checked = True, False
        try:
            yield
        finally:
            local.reading = local.checked = False

    # Reading ------------------------------------------------------------------------------

    def search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        """As `SearchEngine.search`, the retriever's relevance rules applied."""
        return relevance.search(partial(self._search, namespace, collection), search)

    def _search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        conn = self._conn()
        coll = self._known(namespace, collection)
        similar_to = search.similar_to
        if coll is None:
            if similar_to is not None:
                raise LookupError(similar_to)
            return SearchResult(hits=[], total=0)
        like = None
        if similar_to is not None:
            like = stored.document(conn, coll.id, similar_to)
            if like is None:
                raise LookupError(similar_to)
        searcher = self.indexes.get(coll.index_name).searcher()
        vectors = self._vectors(conn, coll) if search.meaning else None
        by_meaning = vectors is not None and (search.vector is not None or like is not None)
        ids = stored.only(conn, coll.id, search.ids), stored.only(conn, coll.id, search.excluded)
        plan = reading.Plan(coll.fields, searcher, search, None if by_meaning else like, ids)
        if vectors is not None and like is not None:
            hits = hybrid.similar(plan, vectors, like[0], search)
        elif vectors is not None and search.vector is not None:
            if len(search.vector) != vectors.dimensions:
                raise ValueError(f"a query vector of {vectors.dimensions} numbers was expected")
            hits = hybrid.page(plan, vectors, search)
        else:
            hits = plan.page(search.limit, search.offset, search.sort)
        wanted = [rowid for rowid, _ in hits]
        records = self._local.seen.bodies.read(conn, [*wanted, plan.best] if plan.best else wanted)
        best = records.get(plan.best) if plan.best else None
        names = tuple(search.highlight)
        return SearchResult(
            hits=[
                plan.hit(record, score, names)
                for rowid, score in hits
                if (record := records.get(rowid)) is not None
            ],
            total=plan.total,
            facets=plan.facets(search.facets) if search.facets else {},
            left_out=plan.left_out(best.body) if best else (),
            prefix=plan.prefix,
        )

    def document(self, namespace: str, collection: str, document_id: str) -> Any:
        coll = self._known(namespace, collection)
        found = stored.document(self._conn(), coll.id, document_id) if coll else None
        return None if found is None else found[1]
