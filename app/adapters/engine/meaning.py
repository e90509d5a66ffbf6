"""An embedded engine's collections and their vectors: the embedding settings each keeps, the
vectors its documents lack, and the vectors searched in this process (`vectorsets.py`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from numpy.typing import ArrayLike

from app import jsonutil
from app.adapters.engine import stored, vectorsets
from app.adapters.engine.stored import Collection
from app.adapters.engine.vectors import VectorIndex
from app.adapters.engine.vectorsets import VectorSets

T = TypeVar("T")


class CollectionVectors:
    """The part of `Engine` that keeps collections' vectors (it provides the rest)."""

    vectors: VectorSets

    def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    def _known(self, namespace: str, name: str) -> Collection | None:
        raise NotImplementedError

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def _keep_vectors(
        self,
        conn: sqlite3.Connection,
        coll: Collection,
        rowids: list[int],
        vectors: Sequence[ArrayLike | None] | None,
        model: str | None,
    ) -> None:
        """After an upsert: the documents' vectors, when made by the collection's model; the
        vectors of the others are stale and go (the collection's embedding makes them again)."""
        if coll.embedding is None and vectors is None:
            return
        current = coll.embedding is not None and coll.embedding.get("model") == model
        given = zip(rowids, vectors or [None] * len(rowids), strict=True)
        kept = [(rowid, v) for rowid, v in given if v is not None] if current else []
        set_now = {rowid for rowid, _ in kept}
        vectorsets.write(conn, coll.id, kept, [rowid for rowid in rowids if rowid not in set_now])

    def set_embedding(
        self, namespace: str, collection: str, embedding: dict[str, Any] | None
    ) -> None:
        """Keep the collection's embedding settings (None: none). Another `model` or
        `dimensions` than before clears its vectors, for them to be made again."""

        def work(conn: sqlite3.Connection) -> None:
            coll = stored.collection(conn, namespace, collection, create=True)
            assert coll is not None
            before = coll.embedding or {}
            after = embedding or {}
            same = all(before.get(k) == after.get(k) for k in ("model", "dimensions"))
            encoded = None if embedding is None else jsonutil.dumps(embedding).decode()
            conn.execute("UPDATE collections SET embedding = ? WHERE id = ?", (encoded, coll.id))
            if not same:
                vectorsets.clear(conn, coll.id)

        self._write(work)

    def embedding(self, namespace: str, collection: str) -> dict[str, Any] | None:
        coll = self._known(namespace, collection)
        return None if coll is None else coll.embedding

    def vector_count(self, namespace: str, collection: str) -> int:
        coll = self._known(namespace, collection)
        return 0 if coll is None else vectorsets.count(self._conn(), coll.id)

    def without_vectors(
        self, namespace: str, collection: str, limit: int, after: int = 0
    ) -> tuple[str | None, list[tuple[int, dict[str, Any]]]]:
        """The collection's embedding model and up to `limit` (row id, body) of its documents
        that have no vector yet, for its embedding to make."""
        coll = self._known(namespace, collection)
        if coll is None or coll.embedding is None:
            return None, []
        found = vectorsets.without(self._conn(), coll.id, limit, after)
        return coll.embedding.get("model"), [(r, jsonutil.loads(b)) for r, b in found]

    def put_vectors(
        self, namespace: str, collection: str, model: str, vectors: Sequence[tuple[int, ArrayLike]]
    ) -> int:
        """Set vectors made by `model` for documents that still have none and whose
        collection still embeds with `model`; how many were set."""

        def work(conn: sqlite3.Connection) -> int:
            coll = stored.collection(conn, namespace, collection)
            if coll is None or coll.embedding is None or coll.embedding.get("model") != model:
                return 0
            missing = vectorsets.lacking(conn, coll.id, [rowid for rowid, _ in vectors])
            kept = [(rowid, vector) for rowid, vector in vectors if rowid in missing]
            vectorsets.write(conn, coll.id, kept)
            return len(kept)

        return self._write(work)

    def _vectors(self, conn: sqlite3.Connection, coll: Collection) -> VectorIndex | None:
        """The collection's vectors in this process, when it has any."""
        dimensions = (coll.embedding or {}).get("dimensions")
        if not isinstance(dimensions, int) or coll.vector_seq == coll.vector_base == 0:
            return None
        vectors = self.vectors.index(
            conn, coll.id, dimensions, coll.vector_seq, coll.vector_base, coll.index_name
        )
        return vectors if len(vectors) else None
