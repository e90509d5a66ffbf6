"""The engine in PostgreSQL's collections and their vectors, as the embedded engine keeps them
(`engine/meaning.py`, with the same semantics and answers): the embedding settings each keeps,
the vectors its documents lack, and the vectors written with its documents, in pgvector
(`vectors.py`). A collection starts to embed only where the database has pgvector: elsewhere
`set_embedding` is a 422 that names the extension, and the collection is searched by words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from numpy.typing import ArrayLike

from app import jsonutil
from app.adapters.engine.pg import stored
from app.adapters.engine.pg import vectors as table
from app.adapters.engine.pg.stored import Collection


class CollectionVectors:
    """The part of `PgEngine` that keeps collections' vectors (it provides `db`)."""

    db: sa.Engine

    def set_embedding(
        self, namespace: str, collection: str, embedding: dict[str, Any] | None
    ) -> None:
        """Keep the collection's embedding settings (None: none). Another `model` or
        `dimensions` than before clears its vectors, for them to be made again."""
        with self.db.begin() as conn:
            coll = stored.locked(conn, namespace, collection)
            before = coll.embedding or {}
            after = embedding or {}
            same = all(before.get(k) == after.get(k) for k in ("model", "dimensions"))
            if not same:
                table.drop(conn, coll.id)
            if embedding is not None:
                table.enable(conn)  # (a 422 naming pgvector, when the server has none)
                size = embedding.get("dimensions")
                if isinstance(size, int):
                    table.create(conn, coll.id, size, "embedder.dimensions")
            encoded = None if embedding is None else jsonutil.dumps(embedding).decode()
            conn.exec_driver_sql(
                "UPDATE engine_collections SET embedding = %s WHERE id = %s", (encoded, coll.id)
            )

    def embedding(self, namespace: str, collection: str) -> dict[str, Any] | None:
        with self.db.connect() as conn:
            coll = stored.collection(conn, namespace, collection)
        return None if coll is None else coll.embedding

    def vector_count(self, namespace: str, collection: str) -> int:
        with self.db.connect() as conn:
            coll = stored.collection(conn, namespace, collection)
            return 0 if coll is None else table.count(conn, coll.id)

    def without_vectors(
        self, namespace: str, collection: str, limit: int, after: int = 0
    ) -> tuple[str | None, list[tuple[int, dict[str, Any]]]]:
        """The collection's embedding model and up to `limit` (row id, body) of its documents
        that have no vector yet, from row id `after` on, for its embedding to make."""
        with self.db.connect() as conn:
            coll = stored.collection(conn, namespace, collection)
            if coll is None or coll.embedding is None:
                return None, []
            found = table.without(conn, coll.id, limit, after)
        return coll.embedding.get("model"), [(r, jsonutil.loads(b)) for r, b in found]

    def put_vectors(
        self, namespace: str, collection: str, model: str, vectors: Sequence[tuple[int, ArrayLike]]
    ) -> int:
        """Set vectors made by `model` for documents that still have none and whose
        collection still embeds with `model`; how many were set."""
        with self.db.begin() as conn:
            coll = stored.collection(conn, namespace, collection, lock=True)
            if coll is None or coll.embedding is None or coll.embedding.get("model") != model:
                return 0
            missing = table.lacking(conn, coll.id, [rowid for rowid, _ in vectors])
            kept = [(rowid, vector) for rowid, vector in vectors if rowid in missing]
            table.write(conn, coll.id, kept)
            return len(kept)

    def _keep_vectors(
        self,
        conn: sa.Connection,
        coll: Collection,
        rowids: Mapping[str, int],
        given: Mapping[str, ArrayLike | None] | None,
        model: str | None,
    ) -> None:
        """After an upsert of these documents (by id, their rows): their vectors, when made by
        the collection's model; the vectors of the others are stale and go (the collection's
        embedding makes them again)."""
        if coll.embedding is None and given is None:
            return
        current = coll.embedding is not None and coll.embedding.get("model") == model
        kept = [(rowids[d], v) for d, v in (given or {}).items() if v is not None and current]
        set_now = {rowid for rowid, _ in kept}
        table.remove(conn, coll.id, [r for r in rowids.values() if r not in set_now])
        table.write(conn, coll.id, kept)
