"""Owners' documents in the embedded engine's collections."""

from __future__ import annotations

from typing import Any

from app.adapters.engine import Engine
from app.schemas.collections import UpsertDocumentsResponse


class Collections:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def upsert(
        self, namespace: str, collection: str, documents: list[dict[str, Any]]
    ) -> UpsertDocumentsResponse:
        """Add documents, replacing those whose `document_id` is there already."""
        result = self.engine.upsert(namespace, collection, documents)
        return UpsertDocumentsResponse(
            collection=collection,
            inserted=result.inserted,
            updated=result.updated,
            document_ids=result.document_ids,
            total_documents=self.engine.count(namespace, collection),
        )
