"""A collection's embedding and vectors on Typesense (the search by them is `meaning.py`).

Its settings are kept in one more collection, `{prefix}embeddings`, a document a collection.
Its vectors are a `float[]` column of the settings' dimensions (`_vec_` and a hash of the
model and dimensions), added to the collection by a schema change when it starts embedding,
beside a `_vm_` column of the same hash that marks which documents have theirs (Typesense
filters no vector). Another model or dimensions makes new columns and drops the old: every
vector is made again, as in the other engines. A document written again without its vector
loses it (a write replaces the whole document), to be made again.

The embedding's documents are numbered by their `_seq` (the order written), which Typesense
sorts and filters by: what `without_vectors` pages through and `put_vectors` names.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from typesense import exceptions

from app import jsonutil
from app.adapters.engine.typesense.documents import BODY, SEQ
from app.adapters.engine.typesense.names import collection_name, token
from app.adapters.engine.typesense.schemas import Held, Schemas

PER_PAGE = 250
MARKED = "y"  # a `_vm_` column's one value


def columns_of(embedding: dict[str, Any] | None) -> tuple[str, str] | None:
    """The vector column and its mark column, for these settings (None: no vectors)."""
    if embedding is None or not isinstance(embedding.get("dimensions"), int):
        return None
    key = token(f"{embedding.get('model')}\x00{embedding['dimensions']}")[:16]
    return f"_vec_{key}", f"_vm_{key}"


def with_vector(doc: dict[str, Any], columns: tuple[str, str], vector: ArrayLike) -> None:
    """The document with its vector; one of zeros (a document with no text to embed) has no
    direction and is never near anything: it is marked made, and not searched."""
    numbers = np.asarray(vector, dtype=np.float64)
    if numbers.any():
        doc[columns[0]] = numbers.tolist()
    doc[columns[1]] = MARKED


class TypesenseVectors:
    """The part of `TypesenseEngine` that keeps collections' embeddings and vectors."""

    client: Any  # for reads
    writer: Any  # for writes (`core.py`: each client keeps its own view of the nodes' health)
    prefix: str
    schemas: Schemas

    def _guard(self) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _create(self, name: str) -> None:
        raise NotImplementedError

    def _search_many(self, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _held(self, name: str) -> Held | None:
        raise NotImplementedError

    def set_embedding(
        self, namespace: str, collection: str, embedding: dict[str, Any] | None
    ) -> None:
        """Keep the collection's embedding settings (None: none). Another model or
        dimensions than before drops its vectors, for them to be made again."""
        name = collection_name(self.prefix, namespace, collection)
        with self._guard():
            self._create(name)
            before = self._settings(name)
            old, new = columns_of(before), columns_of(embedding)
            self._make_embeddings()
            settings = self.writer.collections[self._embeddings()].documents
            if embedding is None:
                with contextlib.suppress(exceptions.ObjectNotFound):
                    settings[token(name)].delete()
            else:
                encoded = jsonutil.dumps(embedding).decode()
                settings.upsert({"id": token(name), "embedding": encoded})
            if old != new:
                fields = self.client.collections[name].retrieve()["fields"]
                present = {entry["name"] for entry in fields}
                dropped = [{"name": c, "drop": True} for c in old or () if c in present]
                if dropped:
                    self.writer.collections[name].update({"fields": dropped})
                if new is not None and embedding is not None:
                    self.writer.collections[name].update({"fields": [
                        {"name": new[0], "type": "float[]", "num_dim": embedding["dimensions"],
                         "optional": True},
                        {"name": new[1], "type": "string", "optional": True},
                    ]})  # fmt: skip
        self.schemas.forget(name)

    def embedding(self, namespace: str, collection: str) -> dict[str, Any] | None:
        """The collection's settings as a search reads them (with its schema, at most once a
        second: `schemas.py`); set through another server, seen within that second."""
        with self._guard():
            held = self._held(collection_name(self.prefix, namespace, collection))
            return None if held is None else held.embedding

    def vector_count(self, namespace: str, collection: str) -> int:
        name = collection_name(self.prefix, namespace, collection)
        with self._guard():
            columns = columns_of(self._settings(name))
            if columns is None:
                return 0
            return count_marked(self._search_many, name, columns[1])

    def without_vectors(
        self, namespace: str, collection: str, limit: int, after: int = 0
    ) -> tuple[str | None, list[tuple[int, dict[str, Any]]]]:
        """The collection's embedding model and up to `limit` (number, body) of its documents
        that have no vector yet, numbered past `after`."""
        name = collection_name(self.prefix, namespace, collection)
        with self._guard():
            embedding = self._settings(name)
            columns = columns_of(embedding)
            if embedding is None or columns is None:
                return None, []
            found: list[tuple[int, dict[str, Any]]] = []
            while len(found) < limit:
                answer = self._search_many([{
                    "collection": name, "q": "*", "per_page": min(PER_PAGE, limit - len(found)),
                    "filter_by": f"{columns[1]}:!=[{MARKED}] && {SEQ}:>{after}",
                    "sort_by": f"{SEQ}:asc", "include_fields": f"{SEQ},{BODY}",
                }])[0]  # fmt: skip
                hits = [h["document"] for h in answer["hits"]]
                found += [(int(doc[SEQ]), jsonutil.loads(doc[BODY])) for doc in hits]
                if len(hits) < PER_PAGE:
                    break
                after = found[-1][0]
            return embedding.get("model"), found

    def put_vectors(
        self, namespace: str, collection: str, model: str, vectors: Sequence[tuple[int, ArrayLike]]
    ) -> int:
        """Set vectors made by `model` for documents that still have none and whose
        collection still embeds with `model`; how many were set."""
        name = collection_name(self.prefix, namespace, collection)
        with self._guard():
            embedding = self._settings(name)
            columns = columns_of(embedding)
            if embedding is None or columns is None or embedding.get("model") != model:
                return 0
            by_seq = dict(vectors)
            rows = []
            for start in range(0, len(by_seq), PER_PAGE):
                chunk = list(by_seq)[start : start + PER_PAGE]
                answer = self._search_many([{
                    "collection": name, "q": "*", "per_page": PER_PAGE,
                    "filter_by": f"{SEQ}:=[{','.join(map(str, chunk))}] && "
                                 f"{columns[1]}:!=[{MARKED}]",
                    "include_fields": f"id,{SEQ}",
                }])[0]  # fmt: skip
                for hit in answer["hits"]:
                    row = {"id": hit["document"]["id"]}
                    with_vector(row, columns, by_seq[int(hit["document"][SEQ])])
                    rows.append(row)
            if rows:
                answers = self.writer.collections[name].documents.import_(
                    rows, {"action": "update"}
                )
                rows = [row for row, a in zip(rows, answers, strict=True) if a.get("success")]
        self.schemas.stale(name)
        return len(rows)

    def _forget_settings(self, name: str) -> None:
        """The collection is gone: so are its settings."""
        with contextlib.suppress(exceptions.ObjectNotFound):
            self.writer.collections[self._embeddings()].documents[token(name)].delete()

    def _settings(self, name: str) -> dict[str, Any] | None:
        try:
            found = self.client.collections[self._embeddings()].documents[token(name)].retrieve()
        except exceptions.ObjectNotFound:
            return None
        settings: dict[str, Any] = jsonutil.loads(found["embedding"])
        return settings

    def _embeddings(self) -> str:
        return f"{self.prefix}embeddings"

    def _make_embeddings(self) -> None:
        """The collection of embedding settings, made the first time one is set."""
        with contextlib.suppress(exceptions.ObjectAlreadyExists):
            self.writer.collections.create({
                "name": self._embeddings(),
                "fields": [{"name": "embedding", "type": "string", "index": False,
                            "optional": True}],
            })  # fmt: skip


def count_marked(run: Any, name: str, mark: str) -> int:
    """How many of the collection's documents have their vector."""
    answer = run(
        [{"collection": name, "q": "*", "per_page": 0, "filter_by": f"{mark}:=[{MARKED}]"}]
    )
    return int(answer[0].get("found", 0))
