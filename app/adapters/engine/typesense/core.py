"""The engine in a Typesense cluster, through Typesense's own client, which spreads requests
over the nodes and moves on to the next when one does not answer.

Each of the engine's collections is a Typesense collection named by a prefix, its namespace
and its name (`names.py`), created by its first write with a schema that takes any field
(`documents.py`). What Typesense does not keep is kept in one more collection, `{prefix}meta`:
a document a collection, with its text fields in the order they first appeared (Typesense lists
a collection's fields by name).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

import httpx
import typesense
from numpy.typing import ArrayLike
from typesense import exceptions

from app import jsonutil
from app.adapters import outages, texts
from app.adapters.engine import relevance
from app.adapters.engine.results import Search, SearchResult, UpsertResult
from app.adapters.engine.typesense import health, query
from app.adapters.engine.typesense.documents import schema, to_typesense
from app.adapters.engine.typesense.filters import refused
from app.adapters.engine.typesense.names import (
    SEPARATOR,
    collection_name,
    escape,
    hexed,
    token,
    unescape,
)
from app.errors import StoreUnavailable, invalid
from app.typesense_address import TypesenseAddress

BATCH = 1000  # documents a request when importing
ID_BATCH = 200  # ids a lookup of which are already stored
TIMEOUT_SECONDS = 5  # for an answer (an import of a batch takes longest)
# For a connection: a node that is down, not just refusing, costs this before the next is tried.
CONNECT_SECONDS = 1
# A node that failed is left alone this long, then tried again by the next request.
HEALTHCHECK_SECONDS = 15


class TypesenseEngine:
    def __init__(self, address: TypesenseAddress, prefix: str = "rp_") -> None:
        self.prefix = prefix
        self.address = address
        self.http = httpx.Client(timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_SECONDS))
        # Reads and writes each by a client of their own, which keeps each node's health: while
        # the nodes elect a leader, each answers writes 500, and a client that wrote would take
        # every node for sick and send its searches to a dead one; reads go on meanwhile.
        self.client = self._client(address)
        self.writer = self._client(address)
        self.meta = f"{prefix}meta"

    def _client(self, address: TypesenseAddress) -> typesense.Client:
        return typesense.Client({
            "api_key": address.api_key,
            "nodes": [
                {"host": host, "port": port, "protocol": "https" if address.tls else "http"}
                for host, port in address.nodes
            ],
            "connection_timeout_seconds": TIMEOUT_SECONDS,
            "num_retries": len(address.nodes),  # each node once more
            "retry_interval_seconds": 0.1,
            "healthcheck_interval_seconds": HEALTHCHECK_SECONDS,
        }, http_client=self.http)  # fmt: skip

    def close(self) -> None:
        self.http.close()

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
        if vectors is not None and any(vector is not None for vector in vectors):
            raise refused("vectors", "vectors")
        rows = [texts.split_id(doc) for doc in documents]
        latest = dict(rows)  # the last of a repeated id wins, as in order one after another
        rows_of = {document_id: n for n, (document_id, _) in enumerate(rows)}  # (the last)
        name = collection_name(self.prefix, namespace, collection)
        with _reached():
            self._create(name)
            ids = list(latest)
            stored = self._stored(name, ids)
            seq = time.time_ns() // 1000  # microseconds: later writes browse after earlier ones
            for start in range(0, len(ids), BATCH):
                batch = [
                    to_typesense(document_id, latest[document_id], seq + start + n)
                    for n, document_id in enumerate(ids[start : start + BATCH])
                ]
                answers = self._written(name).import_(batch, {"action": "upsert"})
                for number, answer in enumerate(answers, start=start):
                    if not answer.get("success"):  # (those before it are written)
                        where = f"documents[{rows_of[ids[number]]}]"
                        raise invalid(where, "a document Typesense takes", f"{where}: Typesense "
                                      f"refused it: {answer.get('error')}")  # fmt: skip
            self._learn(name, [doc for _, doc in rows])
        inserted = len(latest) - len(stored)
        return UpsertResult(
            inserted=inserted,
            updated=len(rows) - inserted,
            document_ids=[document_id for document_id, _ in rows],
        )

    def delete(self, namespace: str, collection: str, document_id: str) -> bool:
        name = collection_name(self.prefix, namespace, collection)
        with _reached():
            try:
                self._written(name)[hexed(document_id)].delete()
            except exceptions.ObjectNotFound:
                return False
        return True

    def drop(self, namespace: str, collection: str) -> int | None:
        """Remove a whole collection; how many documents it held, or None if none was there."""
        name = collection_name(self.prefix, namespace, collection)
        with _reached():
            try:
                held = int(self.writer.collections[name].delete()["num_documents"])
            except exceptions.ObjectNotFound:
                return None
            with contextlib.suppress(exceptions.ObjectNotFound):
                self._written(self.meta)[hexed(name)].delete()
        return held

    def set_embedding(
        self, namespace: str, collection: str, embedding: dict[str, Any] | None
    ) -> None:
        if embedding is not None:
            raise refused("search by meaning", "embedding")

    def embedding(self, namespace: str, collection: str) -> dict[str, Any] | None:
        return None  # (none is ever set: `set_embedding` refuses them)

    def vector_count(self, namespace: str, collection: str) -> int:
        return 0

    def without_vectors(
        self, namespace: str, collection: str, limit: int, after: int = 0
    ) -> tuple[str | None, list[tuple[int, dict[str, Any]]]]:
        return None, []  # no collection embeds

    def put_vectors(
        self, namespace: str, collection: str, model: str, vectors: Sequence[tuple[int, ArrayLike]]
    ) -> int:
        raise refused("vectors", "vectors")

    # Reading ------------------------------------------------------------------------------

    def search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        """As `SearchEngine.search`, the retriever's pins, hidden documents and boosts applied."""
        query.refuse_unsupported(search)
        return relevance.search(partial(self._search, namespace, collection), search)

    def _search(self, namespace: str, collection: str, search: Search) -> SearchResult:
        name = collection_name(self.prefix, namespace, collection)
        with _reached():
            columns = self._columns(name)
            params = query.parameters(search, columns) if columns is not None else None
            if params is None:
                return SearchResult(hits=[], total=0, facets={f: [] for f in search.facets})
            answer = self._search_one(name, params)
        return query.result(search, answer)

    def document(self, namespace: str, collection: str, document_id: str) -> Any:
        name = collection_name(self.prefix, namespace, collection)
        with _reached():
            try:
                found = self._documents(name)[hexed(document_id)].retrieve()
            except exceptions.ObjectNotFound:
                return None
        return jsonutil.loads(found["_body"])

    def prefix_values(
        self, namespace: str, field: str, prefix: str, limit: int, collection: str | None = None
    ) -> list[tuple[str, int]]:
        raise refused("typeahead over values", "typeahead")

    def prefix_terms(
        self, namespace: str, collection: str, fields: list[str], prefix: str, limit: int
    ) -> list[tuple[str, int]]:
        raise refused("typeahead over words", "typeahead")

    def collection_names(self, namespace: str, prefix: str, limit: int) -> list[tuple[int, str]]:
        """(number, name) of the namespace's collections whose name starts with `prefix`, by
        name. The number is the same from every server for the collection's life (Typesense
        numbers none): from its name."""
        start = f"{self.prefix}{escape(namespace)}{SEPARATOR}"
        with _reached():
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
        name = collection_name(self.prefix, namespace, collection)
        with _reached():
            try:
                found = self._documents(self.meta)[hexed(name)].retrieve()
            except exceptions.ObjectNotFound:
                return []
        return list(jsonutil.loads(found["text"]))

    def count(self, namespace: str, collection: str) -> int:
        name = collection_name(self.prefix, namespace, collection)
        with _reached():
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
            self.writer.collections.create(schema(name))  # type: ignore[arg-type]

    def _columns(self, name: str) -> set[str] | None:
        """The columns the collection's documents have made concrete; None: no collection."""
        try:
            found = self.client.collections[name].retrieve()
        except exceptions.ObjectNotFound:
            return None
        return {entry["name"] for entry in found["fields"] if ".*" not in entry["name"]}

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
        answer = self.client.multi_search.perform(
            {"searches": [{"collection": name, **params}]}  # type: ignore[typeddict-item]
        )
        found: dict[str, Any] = dict(answer["results"][0])
        if found.get("code") == 404 and found.get("error") == "Not found.":
            # No such collection on the node asked: made through another, not yet here.
            return {"found": 0, "hits": [], "facet_counts": []}
        if "error" in found:
            raise RuntimeError(f"Typesense refused a search: {found['error']}")
        return found

    def _learn(self, name: str, bodies: list[dict[str, Any]]) -> None:
        """Keep the collection's text fields, any new one after those known."""
        new = texts.text_fields_of(bodies)
        if not new:
            return
        self._create_meta()
        try:
            known = list(jsonutil.loads(self._documents(self.meta)[hexed(name)].retrieve()["text"]))
        except exceptions.ObjectNotFound:
            known = []
        added = [field for field in new if field not in known]
        if added:
            self._written(self.meta).upsert(
                {"id": hexed(name), "text": jsonutil.dumps(known + added).decode()}
            )

    def _create_meta(self) -> None:
        with contextlib.suppress(exceptions.ObjectAlreadyExists):
            self.writer.collections.create({
                "name": self.meta,
                "fields": [{"name": "text", "type": "string", "index": False, "optional": True}],
            })  # fmt: skip


@contextmanager
def _reached() -> Iterator[None]:
    """A cluster that does not answer (every node tried) is a 503 that says so, not a 500; so is
    one that answers 5xx, such as "Could not find a leader" while its nodes elect one. Logged
    once a minute, naming the node last tried (never the key, which only a header carries)."""
    try:
        yield
    except _UNAVAILABLE as exc:
        outages.report("engine", outages.NOT_ANSWERING, health.said(exc))
        raise StoreUnavailable(
            "The search engine (Typesense) is not answering; try again shortly.",
            reason=outages.NOT_ANSWERING,
            retry_after=5,
        ) from exc


_UNAVAILABLE = (
    exceptions.ServiceUnavailable,
    exceptions.ServerError,
    exceptions.HTTPStatus0Error,
    exceptions.Timeout,
    httpx.TransportError,
)
