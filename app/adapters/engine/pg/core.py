"""The engine in PostgreSQL, used when the store is PostgreSQL: every server behind a load
balancer reads and writes the same collections.

Documents are JSON text (key order kept) beside their search columns (`rows.py`): words in
a GIN-indexed `tsvector`, exact values in a GIN-indexed `text[]`, numbers and dates in
`jsonb`; their vectors, for search by meaning, in pgvector (`meaning.py`, `hybrid.py`).
`engine_terms` counts the documents holding each word of each field, for typos
(pg_trgm's trigram index), typeahead (a prefix range) and similar documents (rarity). A write
locks its collection's row (`FOR UPDATE`): one writer per collection at a time, across servers.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import sqlalchemy as sa
from numpy.typing import ArrayLike

from app import jsonutil
from app.adapters import like, outages, texts
from app.adapters.engine import relevance
from app.adapters.engine.fields import Fields
from app.adapters.engine.highlight import highlights
from app.adapters.engine.index import fold
from app.adapters.engine.pg import hybrid, stored, vectors
from app.adapters.engine.pg.meaning import CollectionVectors
from app.adapters.engine.pg.reading import Plan
from app.adapters.engine.pg.rows import row_of, without_nul
from app.adapters.engine.results import Hit, Search, SearchResult, UpsertResult
from app.adapters.store import time_limit
from app.errors import StoreUnavailable, invalid

logger = logging.getLogger("retriever_pages")

SCHEMA_LOCK_ID = 0x454E_4731  # "ENG1": the advisory lock taken to create the tables
BATCH = 1000
# After a write this large the planner's statistics are read again at once, not when autovacuum
# comes by: until then it takes a fresh collection for a few hundred rows and scans all of them
# rather than use the words' index (a rare word: 35 ms, then 1 ms on the Debian catalog).
ANALYZE_AFTER = 1000
_SCHEMA = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE TABLE IF NOT EXISTS engine_collections (
        id BIGSERIAL PRIMARY KEY,
        namespace TEXT NOT NULL,
        name TEXT NOT NULL,
        attributes TEXT NOT NULL DEFAULT '{}',
        fields TEXT NOT NULL DEFAULT '[]',
        documents BIGINT NOT NULL DEFAULT 0,
        UNIQUE (namespace, name))""",
    # Added with search by meaning: the collection's embedding settings (JSON, as the services
    # wrote them; the engine reads only `model` and `dimensions`). Only when it is missing: an
    # ALTER locks the table whole, behind every query on it, even to change nothing.
    """DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'engine_collections'::regclass
                       AND attname = 'embedding' AND NOT attisdropped) THEN
            ALTER TABLE engine_collections ADD COLUMN embedding TEXT;
        END IF;
    END $$""",
    """CREATE TABLE IF NOT EXISTS engine_documents (
        id BIGSERIAL PRIMARY KEY,
        collection_id BIGINT NOT NULL REFERENCES engine_collections (id) ON DELETE CASCADE,
        document_id TEXT NOT NULL,
        body TEXT NOT NULL,
        words TSVECTOR NOT NULL,
        terms TEXT[] NOT NULL,
        numbers JSONB NOT NULL,
        UNIQUE (collection_id, document_id))""",
    "CREATE INDEX IF NOT EXISTS engine_documents_words ON engine_documents USING GIN (words)",
    "CREATE INDEX IF NOT EXISTS engine_documents_terms ON engine_documents USING GIN (terms)",
    """CREATE TABLE IF NOT EXISTS engine_terms (
        collection_id BIGINT NOT NULL REFERENCES engine_collections (id) ON DELETE CASCADE,
        slot INTEGER NOT NULL,
        word TEXT COLLATE "C" NOT NULL,
        documents BIGINT NOT NULL,
        PRIMARY KEY (collection_id, slot, word))""",
    "CREATE INDEX IF NOT EXISTS engine_terms_trigrams ON engine_terms "
    "USING GIN (word gin_trgm_ops)",
]


@outages.guarded
class PgEngine(CollectionVectors):
    def lacks(self) -> Mapping[str, str]:
        return {}  # (every feature)

    def __init__(self, db: sa.Engine) -> None:
        self.db = db
        with db.begin() as conn:
            time_limit.unlimited(conn)  # behind another server's, or the queries (ALTER TABLE)
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_ID,))
            for statement in _SCHEMA:
                conn.exec_driver_sql(statement)

    def close(self) -> None:
        """The connections belong to the store, which closes them."""

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
        for number, (document_id, _) in enumerate(rows):
            if "\x00" in document_id:
                raise invalid(
                    f"documents[{number}].document_id",
                    "text without NUL characters",
                    f"documents[{number}].document_id: PostgreSQL cannot store a NUL character.",
                )
        latest = dict(rows)  # the last of a repeated id wins, as in order one after another
        given = None  # each document's vector, the last given for its id
        if vectors is not None:
            given = {document_id: v for (document_id, _), v in zip(rows, vectors, strict=True)}
        inserted = 0
        rowids: dict[str, int] = {}
        with self.db.begin() as conn:
            coll = stored.locked(conn, namespace, collection)
            learnt = False
            ids = list(latest)
            for start in range(0, len(ids), BATCH):
                chunk = ids[start : start + BATCH]
                delta, old = self._forget(conn, coll.id, chunk)
                inserted += len(chunk) - old
                values: list[list[str]] = [[], [], [], [], []]
                for document_id in chunk:
                    body = latest[document_id]
                    row, changed = row_of(coll.fields, body)
                    learnt = learnt or changed
                    delta.update(dict.fromkeys(row.vocabulary, 1))
                    for column, value in zip(values, (
                        document_id, jsonutil.dumps(body).decode(), row.words,
                        jsonutil.dumps(row.terms).decode(), jsonutil.dumps(row.numbers).decode(),
                    ), strict=True):  # fmt: skip
                        column.append(value)
                written = conn.exec_driver_sql(
                    "INSERT INTO engine_documents (collection_id, document_id, body, words, "
                    "terms, numbers) SELECT %s, i, b, w::tsvector, "
                    "ARRAY(SELECT jsonb_array_elements_text(t::jsonb)), n::jsonb "
                    "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
                    "AS u (i, b, w, t, n) ON CONFLICT (collection_id, document_id) DO UPDATE "
                    "SET body = excluded.body, words = excluded.words, terms = excluded.terms, "
                    "numbers = excluded.numbers RETURNING document_id, id",
                    (coll.id, *values),
                )
                rowids.update((str(document_id), int(rowid)) for document_id, rowid in written)
                _count_words(conn, coll.id, delta)
            attributes, text = coll.fields.dump()
            conn.exec_driver_sql(
                "UPDATE engine_collections SET documents = documents + %s, attributes = %s, "
                "fields = %s WHERE id = %s",
                (inserted, attributes, text, coll.id),
            )
            self._keep_vectors(conn, coll, rowids, given, model)
        if inserted >= ANALYZE_AFTER:
            try:
                with self.db.begin() as conn:
                    conn.exec_driver_sql("ANALYZE engine_documents, engine_terms")
            except (StoreUnavailable, sa.exc.OperationalError) as error:
                # The documents are saved: statistics read again too late (waiting behind a
                # lock or a slow disk past the store's time limit, the connection lost) are
                # left to autovacuum, rather than a 503 saying that the write was not saved
                # (retried, documents without an id would be stored twice).
                logger.warning("statistics not read again after a write: %s", error)
        return UpsertResult(
            inserted=inserted,
            updated=len(rows) - inserted,
            document_ids=[document_id for document_id, _ in rows],
        )

    def delete(self, namespace: str, collection: str, document_id: str) -> bool:
        """Remove one document; False if it was not there."""
        if "\x00" in document_id:
            return False  # (none is stored: `upsert` refuses them)
        with self.db.begin() as conn:
            coll = stored.collection(conn, namespace, collection, lock=True)
            if coll is None:
                return False
            delta, old = self._forget(conn, coll.id, [document_id])
            if not old:
                return False
            conn.exec_driver_sql(
                "DELETE FROM engine_documents WHERE collection_id = %s AND document_id = %s",
                (coll.id, document_id),
            )
            _count_words(conn, coll.id, delta)
            conn.exec_driver_sql(
                "UPDATE engine_collections SET documents = documents - 1 WHERE id = %s",
                (coll.id,),
            )
        return True

    def drop(self, namespace: str, collection: str) -> int | None:
        """Remove a whole collection; how many documents it held, or None if none was there."""
        with self.db.begin() as conn:
            coll = stored.collection(conn, namespace, collection, lock=True)
            if coll is None:
                return None
            vectors.drop(conn, coll.id)  # (its rows would go with the documents, one by one)
            conn.exec_driver_sql(
                "DELETE FROM engine_collections WHERE id = %s",
                (coll.id,),
                execution_options={time_limit.UNLIMITED: True},  # every document, term, vector
            )
        return coll.documents

    def _forget(
        self, conn: sa.Connection, collection_id: int, ids: list[str]
    ) -> tuple[Counter[tuple[int, str]], int]:
        """The words these stored documents held, counted down, and how many are stored."""
        delta: Counter[tuple[int, str]] = Counter()
        rows = conn.exec_driver_sql(
            "SELECT tsvector_to_array(words) FROM engine_documents "
            "WHERE collection_id = %s AND document_id = ANY(%s)",
            (collection_id, ids),
        ).all()
        for (lexemes,) in rows:
            for lexeme in lexemes:
                slot, word = lexeme.split(".", 1)
                delta[(int(slot), word)] -= 1
        return delta, len(rows)

    # Reading ------------------------------------------------------------------------------

    def search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        """As `SearchEngine.search`, the retriever's relevance rules applied."""
        return relevance.search(partial(self._search, namespace, collection), search)

    def _search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        similar_to = search.similar_to
        with self.db.begin() as conn:  # (a transaction: the typo search sets pg_trgm's limits)
            coll = stored.collection(conn, namespace, collection)
            if coll is None:
                if similar_to is not None:
                    raise LookupError(similar_to)
                return SearchResult(hits=[], total=0)
            like = None
            if similar_to is not None:
                if "\x00" in similar_to:
                    raise LookupError(similar_to)
                row = conn.exec_driver_sql(
                    "SELECT id, body FROM engine_documents "
                    "WHERE collection_id = %s AND document_id = %s",
                    (coll.id, similar_to),
                ).first()
                if row is None:
                    raise LookupError(similar_to)
                like = (int(row[0]), jsonutil.loads(row[1]))
            # The size of the collection's vectors, when they may rank this search.
            size = vectors.present(conn, coll.id) if search.meaning and coll.embedding else None
            by_meaning = size is not None and (search.vector is not None or like is not None)
            plan = Plan(conn, coll.id, coll.fields, search, None if by_meaning else like)
            if by_meaning and like is not None:
                rows = hybrid.similar(plan, like[0], search)
            elif by_meaning and search.vector is not None:
                if len(search.vector) != size:
                    raise ValueError(f"a query vector of {size} numbers was expected")
                rows = hybrid.page(plan, search)
            else:
                rows = plan.page(search.limit, search.offset, search.sort)
            counted = plan.facets(search.facets) if search.facets else {}
        return SearchResult(
            hits=[
                Hit(document_id, score, body, marks)
                for _, document_id, body, score in rows
                for marks in [highlights(body, search.highlight, plan.marked, prefix=plan.prefix)]
            ],
            total=plan.total,
            facets=counted,
            left_out=plan.left_out(plan.best) if plan.best is not None else (),
            prefix=plan.prefix,
        )

    def document(self, namespace: str, collection: str, document_id: str) -> Any:
        if "\x00" in document_id:
            return None  # PostgreSQL text never holds one, so no stored id does
        with self.db.connect() as conn:
            row = conn.exec_driver_sql(
                "SELECT d.body FROM engine_documents d JOIN engine_collections c "
                "ON c.id = d.collection_id WHERE c.namespace = %s AND c.name = %s "
                "AND d.document_id = %s",
                (namespace, collection, document_id),
            ).first()
        return None if row is None else jsonutil.loads(row[0])

    def prefix_values(
        self, namespace: str, field: str, prefix: str, limit: int, collection: str | None = None
    ) -> list[tuple[str, int]]:
        """Text values of `field` that start with `prefix` (lower-cased), in one collection or
        all of the namespace's, with how many documents carry each, most first."""
        scope = " AND name = %s" if collection else ""
        with self.db.connect() as conn:
            found = conn.exec_driver_sql(
                "SELECT id, attributes, fields FROM engine_collections "
                f"WHERE namespace = %s{scope}",
                (namespace, *([collection] if collection else [])),
            ).all()
            # Each collection's exact values of the field, as its rows' `terms` tag them.
            tags = [
                (int(row[0]), f"s{fields.slots[field]}:")
                for row in found
                if field in (fields := Fields.load(row[1], row[2])).slots
            ]
            if not tags:
                return []
            rows = conn.exec_driver_sql(
                "SELECT substr(t, length(g.tag) + 1) AS v, count(DISTINCT d.id) AS n "
                "FROM unnest(%s::bigint[], %s::text[]) AS g (id, tag) "
                "JOIN engine_documents d ON d.collection_id = g.id, unnest(d.terms) t "
                "WHERE starts_with(t, g.tag) AND lower(substr(t, length(g.tag) + 1)) "
                "LIKE %s ESCAPE '\\' GROUP BY v ORDER BY n DESC, v LIMIT %s",
                ([i for i, _ in tags], [tag for _, tag in tags],
                 like.literal(without_nul(prefix).lower()) + "%", limit),
            )  # fmt: skip
            return [(str(value), int(count)) for value, count in rows]

    def prefix_terms(
        self, namespace: str, collection: str, fields: list[str], prefix: str, limit: int
    ) -> list[tuple[str, int]]:
        """Indexed words of `fields` that start with `prefix`, with their document counts."""
        words = fold(prefix)
        with self.db.connect() as conn:
            coll = stored.collection(conn, namespace, collection)
            if coll is None or len(words) != 1:
                return []
            slots = [coll.fields.slots[name] for name in fields if name in coll.fields.text]
            rows = conn.exec_driver_sql(
                "SELECT word, sum(documents) AS n FROM engine_terms WHERE collection_id = %s "
                "AND slot = ANY(%s) AND word >= %s AND word < %s || chr(1114111) "
                "GROUP BY word ORDER BY n DESC, word LIMIT %s",
                (coll.id, slots, words[0], words[0], limit),
            )
            return [(str(word), int(count)) for word, count in rows]

    def collection_names(self, namespace: str, prefix: str, limit: int) -> list[tuple[int, str]]:
        """(id, name) of the namespace's collections whose name starts with `prefix`."""
        with self.db.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT id, name FROM engine_collections WHERE namespace = %s "
                'AND starts_with(name, %s) ORDER BY name COLLATE "C" LIMIT %s',
                (namespace, without_nul(prefix), limit),
            )
            return [(int(row[0]), str(row[1])) for row in rows]

    def text_fields(self, namespace: str, collection: str) -> list[str]:
        """The collection's text fields, in the order they first appeared (none if unknown)."""
        with self.db.connect() as conn:
            coll = stored.collection(conn, namespace, collection)
        return list(coll.fields.text) if coll is not None else []

    def quick(self, namespace: str, collection: str) -> bool:
        return False  # every search waits on the network

    def count(self, namespace: str, collection: str) -> int:
        with self.db.connect() as conn:
            coll = stored.collection(conn, namespace, collection)
        return coll.documents if coll is not None else 0


def _count_words(conn: sa.Connection, collection_id: int, delta: Counter[tuple[int, str]]) -> None:
    """Add to each word's document count; forget the words no document holds any more."""
    changed = [(slot, word, n) for (slot, word), n in delta.items() if n]
    if not changed:
        return
    slots, words, counts = (list(column) for column in zip(*changed, strict=True))
    conn.exec_driver_sql(
        "INSERT INTO engine_terms (collection_id, slot, word, documents) "
        "SELECT %s, s, w, n FROM unnest(%s::int[], %s::text[], %s::bigint[]) AS u (s, w, n) "
        "ON CONFLICT (collection_id, slot, word) "
        "DO UPDATE SET documents = engine_terms.documents + excluded.documents",
        (collection_id, slots, words, counts),
    )
    conn.exec_driver_sql(
        "DELETE FROM engine_terms WHERE collection_id = %s AND documents <= 0 AND word = ANY(%s)",
        (collection_id, [word for _, word, n in changed if n < 0]),
    )
