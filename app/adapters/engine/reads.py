"""The embedded engine's reads besides a search: how many documents a collection holds (and so
whether its searches are quick), its text fields, and the words and values that suggestions
offer."""

from __future__ import annotations

import sqlite3

from app.adapters import suggestions
from app.adapters.engine import reading
from app.adapters.engine.index import Indexes
from app.adapters.engine.stored import Collection

# Up to this size a collection answers on the event loop. Each query takes under a millisecond
# or two there (p99 under 5 ms at 64k real records), less than handing it to a thread costs:
# the hop, and the fight for the GIL between the loop and up to 40 threads, took the Debian
# catalog's JSON execute from 1,030 req/s to 430. Larger collections have queries long enough
# (facets at 1M records: p99 36 ms) to stall every other request, so they go to a thread.
INLINE_DOCUMENTS = 100_000


class CollectionReads:
    """The part of `Engine` that reads collections besides searching them (it provides the
    rest)."""

    indexes: Indexes

    def _known(self, namespace: str, name: str) -> Collection | None:
        raise NotImplementedError

    def _conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    def prefix_values(
        self, namespace: str, field: str, prefix: str, limit: int, collection: str | None = None
    ) -> list[tuple[str, int]]:
        """Text values of `field` that start with `prefix` (case-folded), in one collection or
        all of the namespace's, with how many documents carry each, most first."""
        conn = self._conn()
        coll = self._known(namespace, collection) if collection else None
        if collection and coll is None:
            return []
        return suggestions.values(conn, namespace, field, prefix, limit, coll.id if coll else None)

    def prefix_terms(
        self, namespace: str, collection: str, fields: list[str], prefix: str, limit: int
    ) -> list[tuple[str, int]]:
        """Indexed words of `fields` that start with `prefix`, with their document counts."""
        coll = self._known(namespace, collection)
        if coll is None:
            return []
        searcher = self.indexes.get(coll.index_name).searcher()
        return reading.terms(searcher, coll.fields, fields, prefix, limit)

    def collection_names(self, namespace: str, prefix: str, limit: int) -> list[tuple[int, str]]:
        """(id, name) of the namespace's collections whose name starts with `prefix`."""
        return suggestions.collection_names(self._conn(), namespace, prefix, limit)

    def text_fields(self, namespace: str, collection: str) -> list[str]:
        """The collection's text fields, in the order they first appeared (none if unknown)."""
        coll = self._known(namespace, collection)
        return list(coll.fields.text) if coll is not None else []

    def quick(self, namespace: str, collection: str) -> bool:
        return self.count(namespace, collection) <= INLINE_DOCUMENTS

    def count(self, namespace: str, collection: str) -> int:
        """How many documents the collection holds, as its index counts them (at once, where
        SQLite's count(*) reads every row)."""
        coll = self._known(namespace, collection)
        if coll is None:
            return 0
        return int(self.indexes.get(coll.index_name).searcher().num_docs)
