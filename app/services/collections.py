"""Owners' documents in the embedded engine's collections."""

from __future__ import annotations

from typing import Any

from app.adapters.engine import Engine
from app.schemas.collections import (
    TypeaheadCollection,
    TypeaheadResponse,
    TypeaheadValue,
    UpsertDocumentsResponse,
)


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

    def typeahead(
        self, namespace: str, prefix: str, fields: list[str], limit: int
    ) -> TypeaheadResponse:
        """Values of `fields` and collection names that start with `prefix`, in the
        namespace; values first (most documents first), then collections."""
        values = [
            TypeaheadValue(field=field, value=value, count=count)
            for field in fields
            for value, count in self.engine.prefix_values(namespace, field, prefix, limit)
        ]
        values.sort(key=lambda v: -v.count)
        collections = [
            TypeaheadCollection(collection_id=f"col_{number}", collection_name=name)
            for number, name in self.engine.collection_names(namespace, prefix, limit)
        ]
        suggestions = list(
            dict.fromkeys([v.value for v in values] + [c.collection_name for c in collections])
        )
        return TypeaheadResponse(
            query=prefix,
            suggestions=suggestions,
            values=values,
            collections=collections,
            recent_searches=[],
            # Mixpeek names a source it could not consult: this server keeps no search history.
            warnings=["recent_searches: this server keeps no history of searches"],
        )
