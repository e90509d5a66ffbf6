"""The engine in a Typesense cluster, through Typesense's own client, which spreads requests
over the nodes and moves on to the next when one does not answer.

Each of the engine's collections is a Typesense collection named by a prefix, its namespace
and its name (`names.py`), created by its first write with a schema that takes any field
(`documents.py`). What Typesense does not keep, each collection's text fields in the order
they first appeared, is kept in one more collection, `{prefix}fields` (`textfields.py`).
Searches read a collection's schema at most once a second (`schemas.py`); synonyms go through
Typesense's own, under roots of the retriever's (`synonyms.py`); find similar and typeahead are
`similar.py` and `typeahead.py`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

from numpy.typing import ArrayLike
from typesense import exceptions

from app import jsonutil
from app.adapters import texts
from app.adapters.engine import relevance
from app.adapters.engine.protocol import SUBSTRING_FILTERS
from app.adapters.engine.results import Search, SearchResult, UpsertResult
from app.adapters.engine.typesense import health, meaning, query, similar, synonyms, typeahead
from app.adapters.engine.typesense.answers import MissingColumn
from app.adapters.engine.typesense.answers import answer as answered
from app.adapters.engine.typesense.connection import (
    CONNECT_SECONDS,
    LoopSearches,
    client,
    pool,
    reached,
)
from app.adapters.engine.typesense.documents import BODY, schema, to_typesense
from app.adapters.engine.typesense.names import (
    SEPARATOR,
    collection_name,
    escape,
    hexed,
    token,
    unescape,
)
from app.adapters.engine.typesense.onloop import TypesenseOnLoop
from app.adapters.engine.typesense.schemas import Held, Schemas
from app.adapters.engine.typesense.textfields import TextFields
from app.adapters.engine.typesense.vectors import (
    TypesenseVectors,
    columns_of,
    count_marked,
    with_vector,
)
from app.adapters.engine.typesense.wholewords import WholeWords, by_words
from app.errors import invalid
from app.typesense_address import TypesenseAddress

BATCH = 1000  # documents a request when importing
ID_BATCH = 200  # ids a lookup of which are already stored
MULTI = 50  # searches a `multi_search` request, at most (Typesense's `limit_multi_searches`)
MAX_COLLECTIONS = 1000  # the namespace's collections whose values are suggested together


class TypesenseEngine(TypesenseOnLoop, TypesenseVectors):
    def __init__(self, address: TypesenseAddress, prefix: str = "rp_") -> None:
        self.prefix = prefix
        self.address = address
        self.http = pool()
        # Reads and writes each by a client of their own, which keeps each node's health: while
        # the nodes elect a leader, each answers writes 500, and a client that wrote would take
        # every node for sick and send its searches to a dead one; reads go on meanwhile.
        self.client = client(address, self.http)
        self.writer = client(address, self.http)
        self.loop_searches = LoopSearches(address)
        self._reading: set[str] = set()  # for searches on the event loop (`onloop.py`)
        self.fields = TextFields(self.writer, f"{prefix}fields")
        self.schemas = Schemas()
        self.whole_words = WholeWords()

    def lacks(self) -> Mapping[str, str]:
        return {SUBSTRING_FILTERS: "the Typesense engine"}

    def _guard(self) -> AbstractContextManager[None]:
        return reached()

    def close(self) -> None:
        self.http.close()
        self.loop_searches.close()

    def nodes_state(self) -> dict[str, str]:
        """Each node (HOST:PORT), asked now: "ok", "unreachable" or "unhealthy" (`health.py`)."""
        return health.nodes_state(self.http, self.address, CONNECT_SECONDS)

    # Writing ------------------------------------------------------------------------------

    def upsert(
        self,
        namespace: str,
        collection: str,
        documents: Sequence[Mapping[str, Any]],
        vectors: Sequence[ArrayLike | None] | None = None,
        model: str | None = None,
    ) -> UpsertResult:
        """Insert or replace documents by `document_id` (one is made up where missing), in
        batches; the collection is made by the first write to it."""
        rows = [texts.split_id(doc) for doc in documents]
        latest = dict(rows)  # the last of a repeated id wins, as in order one after another
        rows_of = {document_id: n for n, (document_id, _) in enumerate(rows)}  # (the last)
        name = collection_name(self.prefix, namespace, collection)
        with reached():
            self._create(name)
            given = dict(zip([i for i, _ in rows], vectors, strict=True)) if vectors else {}
            settings = self._settings(name) if given else None
            # (Vectors by another model than the collection's are stale: the documents lack
            # theirs, to be made again.)
            same = settings is not None and settings.get("model") == model
            columns = columns_of(settings) if same else None
            ids = list(latest)
            stored = self._stored(name, ids)
            seq = time.time_ns() // 1000  # microseconds: later writes browse after earlier ones
            for start in range(0, len(ids), BATCH):
                batch = [
                    to_typesense(document_id, latest[document_id], seq + start + n)
                    for n, document_id in enumerate(ids[start : start + BATCH])
                ]
                for doc, document_id in zip(batch, ids[start : start + BATCH], strict=True):
                    if columns is not None and (vector := given.get(document_id)) is not None:
                        with_vector(doc, columns, vector)
                answers = self._written(name).import_(batch, {"action": "upsert"})
                for number, answer in enumerate(answers, start=start):
                    if not answer.get("success"):  # (those before it are written)
                        where = f"documents[{rows_of[ids[number]]}]"
                        raise invalid(where, "a document Typesense takes", f"{where}: Typesense "
                                      f"refused it: {answer.get('error')}")  # fmt: skip
            self.fields.learn(name, [doc for _, doc in rows])
        self.schemas.stale(name)  # (new columns, perhaps)
        self.whole_words.forget(name)
        inserted = len(latest) - len(stored)
        return UpsertResult(
            inserted=inserted,
            updated=len(rows) - inserted,
            document_ids=[document_id for document_id, _ in rows],
        )

    def delete(self, namespace: str, collection: str, document_id: str) -> bool:
        name = collection_name(self.prefix, namespace, collection)
        with reached():
            try:
                self._written(name)[hexed(document_id)].delete()
            except exceptions.ObjectNotFound:
                return False
            finally:
                self.whole_words.forget(name)
        return True

    def drop(self, namespace: str, collection: str) -> int | None:
        """Remove a whole collection; how many documents it held, or None if none was there."""
        name = collection_name(self.prefix, namespace, collection)
        with reached():
            try:
                held = int(self.writer.collections[name].delete()["num_documents"])
            except exceptions.ObjectNotFound:
                return None
            finally:
                self.schemas.forget(name)
                self.whole_words.forget(name)
            self.fields.forget(name)
            self._forget_settings(name)
        return held

    # Reading ------------------------------------------------------------------------------

    def search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        """As `SearchEngine.search`, the retriever's pins, hidden documents and boosts applied."""
        return relevance.search(partial(self._search, namespace, collection), search)

    def _search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        with reached():
            return self._search_in(collection_name(self.prefix, namespace, collection), search)

    def _search_in(self, name: str, search: Search) -> SearchResult:
        for attempt in (1, 2):
            held = self._held(name)
            if search.similar_to is not None:
                if held is None:
                    raise LookupError(search.similar_to)
                return self._similar(name, held, search)
            if search.vector is not None and held is not None and self._by_meaning(held, search):
                within = partial(self._search_in, name)
                return meaning.page(within, self._search_many, name, held, search)
            planned = query.parameters(search, held.columns) if held is not None else None
            if planned is None:
                return SearchResult(hits=[], total=0, facets={f: [] for f in search.facets})
            params, needed = planned
            assert held is not None
            self._put_synonyms(name, held, needed)
            try:
                answer, prefix = by_words(self._search_many, self.whole_words, name, search, params)
            except MissingColumn:
                if attempt == 2:
                    raise
                self.schemas.forget(name)  # (dropped and made again meanwhile: read again)
            else:
                if attempt == 2 or not needed or answer.get("found"):
                    return query.result(search, answer, prefix)
                # Nothing found through synonym roots: put them again (their collection may
                # have been dropped and made again through another server) and search again.
                held.synonyms.difference_update(needed)
        raise AssertionError("unreachable")

    def _similar(self, name: str, held: Held, search: Search) -> SearchResult:
        """The documents most like one (`similar.py`), within the search's filters: ranked by
        how alike, or by the search's sort."""
        assert search.similar_to is not None
        try:
            found = self._documents(name)[hexed(search.similar_to)].retrieve()
        except exceptions.ObjectNotFound:
            raise LookupError(search.similar_to) from None
        if self._by_meaning(held, search):
            within = partial(self._search_in, name)
            return meaning.similar(within, self._search_many, name, held, found, search)
        body = jsonutil.loads(found[BODY])
        return similar.search(partial(self._search_in, name), self._search_many, name, held, body,
                              search)  # fmt: skip

    @staticmethod
    def _by_meaning(held: Held, search: Search) -> bool:
        """Whether the collection's vectors rank this search: it has some, and may."""
        return search.meaning and held.vector is not None and held.vectors > 0

    def document(self, namespace: str, collection: str, document_id: str) -> Any:
        name = collection_name(self.prefix, namespace, collection)
        with reached():
            try:
                found = self._documents(name)[hexed(document_id)].retrieve()
            except exceptions.ObjectNotFound:
                return None
        return jsonutil.loads(found["_body"])

    def prefix_values(
        self, namespace: str, field: str, prefix: str, limit: int, collection: str | None = None
    ) -> list[tuple[str, int]]:
        """Text values of `field` that start with `prefix` (case-folded), in one collection or
        all of the namespace's, with how many documents carry each, most first."""
        names = (
            [collection] if collection is not None
            else [name for _, name in self.collection_names(namespace, "", MAX_COLLECTIONS)]
        )  # fmt: skip
        with reached():
            held = [
                (name, found.columns)
                for name in (collection_name(self.prefix, namespace, c) for c in names)
                if (found := self._held(name)) is not None
            ]
            try:
                return typeahead.values(self._search_many, held, field, prefix, limit)
            except MissingColumn:  # (a collection dropped meanwhile: none this once)
                self.schemas.forget_all()
                return []

    def prefix_terms(
        self, namespace: str, collection: str, fields: list[str], prefix: str, limit: int
    ) -> list[tuple[str, int]]:
        """Words of `fields` that start with `prefix`, with their document counts."""
        name = collection_name(self.prefix, namespace, collection)
        with reached():
            held = self._held(name)
            if held is None:
                return []
            try:
                return typeahead.terms(self._search_many, name, held.columns, fields, prefix, limit)
            except MissingColumn:  # (dropped, and perhaps made again, meanwhile)
                self.schemas.forget(name)
                return []

    def collection_names(self, namespace: str, prefix: str, limit: int) -> list[tuple[int, str]]:
        """(number, name) of the namespace's collections whose name starts with `prefix`, by
        name. The number is the same from every server for the collection's life (Typesense
        numbers none): from its name."""
        start = f"{self.prefix}{escape(namespace)}{SEPARATOR}"
        with reached():
            listed = self.client.collections.retrieve()
        found = sorted(
            unescape(entry["name"][len(start) :])
            for entry in listed
            if entry["name"].startswith(start)
        )
        named = [
            (int(token(collection_name(self.prefix, namespace, name))[:15], 16), name)
            for name in found
            if name.startswith(prefix)
        ]
        return named[:limit]

    def text_fields(self, namespace: str, collection: str) -> list[str]:
        """The collection's text fields, in the order they first appeared (none if unknown)."""
        with reached():
            return self.fields.of(collection_name(self.prefix, namespace, collection))

    def count(self, namespace: str, collection: str) -> int:
        name = collection_name(self.prefix, namespace, collection)
        with reached():
            try:
                return int(self.client.collections[name].retrieve()["num_documents"])
            except exceptions.ObjectNotFound:
                return 0

    def quick(self, namespace: str, collection: str) -> bool:
        return False  # every search waits on the network

    # Helpers ------------------------------------------------------------------------------

    def _documents(self, name: str) -> Any:
        return self.client.collections[name].documents

    def _written(self, name: str) -> Any:
        return self.writer.collections[name].documents

    def _create(self, name: str) -> None:
        with contextlib.suppress(exceptions.ObjectAlreadyExists):
            self.writer.collections.create(schema(name))

    def _held(self, name: str) -> Held | None:
        """The columns the collection's documents have made concrete and its embedding
        settings (read at most once a second, `schemas.py`); None: no such collection."""

        def read() -> dict[str, Any] | None:
            try:
                found = dict(self.client.collections[name].retrieve())
            except exceptions.ObjectNotFound:
                return None
            marks = [e["name"] for e in found["fields"] if e["name"].startswith("_vm_")]
            if marks:  # (how many have their vector: none, and the words alone search)
                found["_vectors"] = count_marked(self._search_many, name, marks[0])
            found["_embedding"] = self._settings(name)
            return found

        return self.schemas.get(name, read)

    def _put_synonyms(self, name: str, held: Held, needed: synonyms.Definitions) -> None:
        """Put on the collection the synonym roots this search needs (`synonyms.py`)."""
        for key, definition in needed.items():
            if key not in held.synonyms:
                path = f"/collections/{name}/synonyms/{key}"
                try:
                    self.writer.api_call.put(path, body=definition, entity_type=dict)
                except exceptions.ObjectNotFound as gone:  # (dropped meanwhile: read again)
                    raise MissingColumn(str(gone)) from None
                held.synonyms.add(key)

    def _stored(self, name: str, ids: list[str]) -> set[str]:
        """Which of these documents the collection holds already."""
        stored: set[str] = set()
        for start in range(0, len(ids), ID_BATCH):
            chunk = [hexed(i) for i in ids[start : start + ID_BATCH]]
            answer = self._search_one(name, {
                "q": "*", "filter_by": f"id:=[{','.join(chunk)}]", "include_fields": "id",
                "per_page": ID_BATCH,
            })  # fmt: skip
            stored.update(hit["document"]["id"] for hit in answer["hits"])
        return stored

    def _search_one(self, name: str, params: dict[str, Any]) -> dict[str, Any]:
        """One search, sent in the body (`multi_search`): as a query string, Typesense takes
        4,000 characters at most, which long ids or many filter values pass."""
        return self._search_many([{"collection": name, **params}])[0]

    def _search_many(self, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Searches in as few requests as Typesense takes them (`MULTI` a request)."""
        answers = []
        for start in range(0, len(searches), MULTI):
            chunk = {"searches": searches[start : start + MULTI]}
            answer = self.client.multi_search.perform(chunk)
            answers += [answered(dict(found)) for found in answer["results"]]
        return answers
