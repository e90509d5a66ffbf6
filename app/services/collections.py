"""Owners' documents in the embedded engine's collections."""

from __future__ import annotations

from typing import Any

from app.adapters.engine import SearchEngine
from app.adapters.store import Store
from app.errors import Conflict, NotFound
from app.schemas.collections import (
    DeleteCollectionResponse,
    DeleteDocumentResponse,
    UpsertDocumentsResponse,
)


class Collections:
    def __init__(self, engine: SearchEngine, store: Store) -> None:
        self.engine = engine
        self.store = store

    def delete(self, namespace: str, collection: str, document_id: str) -> DeleteDocumentResponse:
        """One document out of the collection and its index; 404 if it is not there."""
        if not self.engine.delete(namespace, collection, document_id):
            raise NotFound(f"No document {document_id!r} in the collection {collection!r}.")
        return DeleteDocumentResponse(
            collection=collection,
            document_id=document_id,
            deleted=True,
            total_documents=self.engine.count(namespace, collection),
        )

    def drop(self, namespace: str, collection: str) -> DeleteCollectionResponse:
        """A whole collection, unless a retriever searches it (409 naming them)."""
        with self.store.read() as tx:
            records, _ = tx.list_retrievers(namespace, 10_000, 0)
        users = [
            r.retriever_name
            for r in records
            if r.backend.get("type") == "local" and r.backend.get("collection") == collection
        ]
        if users:
            raise Conflict(
                f"The collection {collection!r} is searched by retrievers "
                f"{', '.join(repr(u) for u in users)}; delete or change them first.",
                details={"used_by": users},
            )
        removed = self.engine.drop(namespace, collection)
        if removed is None:
            raise NotFound(f"No collection {collection!r} in this namespace.")
        return DeleteCollectionResponse(
            collection=collection, deleted=True, documents_deleted=removed
        )

    def upsert(
        self,
        namespace: str,
        collection: str,
        documents: list[dict[str, Any]],
        vectors: list[Any] | None = None,
        model: str | None = None,
    ) -> UpsertDocumentsResponse:
        """Add documents, replacing those whose `document_id` is there already; with their
        vectors, made by `model`, when the collection embeds."""
        result = self.engine.upsert(namespace, collection, documents, vectors, model)
        return UpsertDocumentsResponse(
            collection=collection,
            inserted=result.inserted,
            updated=result.updated,
            document_ids=result.document_ids,
            total_documents=self.engine.count(namespace, collection),
        )
