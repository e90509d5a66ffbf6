"""Search-box suggestions from the embedded engine (the SDK's `TypeaheadResponse`).

For a published retriever: the words of its search fields and the short values of its
exposed text fields that start with what was typed; only exposed fields are read, so a
suggestion never tells of a hidden one. For an owner: values of the fields asked for, and
collection names, across the namespace.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.adapters.engine import SearchEngine
from app.errors import invalid
from app.schemas.collections import TypeaheadCollection, TypeaheadResponse, TypeaheadValue
from app.services.catalog import PublicRetriever

MAX_VALUE_FIELDS = 5
MAX_VALUE_CHARS = 60  # longer values are sentences, not things to type
# Mixpeek names a source it could not consult: this server keeps no search history.
NO_HISTORY = "recent_searches: this server keeps no history of searches"


class Typeahead:
    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine

    def suggest(self, retriever: PublicRetriever, prefix: str, limit: int) -> TypeaheadResponse:
        backend = retriever.backend
        if backend.type != "local":
            raise invalid(
                "public_name",
                "a retriever over this server's engine",
                "Typeahead needs a retriever over this server's embedded engine; this one asks "
                "an upstream.",
            )
        namespace, collection = retriever.record.namespace, backend.collection
        exposed = retriever.display.exposed_fields
        searched = [f for f in backend.search_fields if f in exposed]
        words = self.engine.prefix_terms(namespace, collection, searched, prefix, limit)
        text_fields = self.engine.text_fields(namespace, collection)
        value_fields = [f for f in exposed if f in text_fields][:MAX_VALUE_FIELDS]
        values = [
            v
            for v in self._values(namespace, value_fields, prefix, limit, collection)
            if len(v.value) <= MAX_VALUE_CHARS
        ]
        texts = [word for word, _ in words] + [v.value for v in values]
        return _answer(prefix, texts, values[:limit], [], limit)

    def namespace(
        self, namespace: str, prefix: str, fields: list[str], limit: int
    ) -> TypeaheadResponse:
        """Values of `fields` and collection names that start with `prefix`, in the
        namespace; values first (most documents first), then collections."""
        values = self._values(namespace, fields, prefix, limit)
        collections = [
            TypeaheadCollection(collection_id=f"col_{number}", collection_name=name)
            for number, name in self.engine.collection_names(namespace, prefix, limit)
        ]
        texts = [v.value for v in values] + [c.collection_name for c in collections]
        return _answer(prefix, texts, values, collections)

    def _values(
        self,
        namespace: str,
        fields: Iterable[str],
        prefix: str,
        limit: int,
        collection: str | None = None,
    ) -> list[TypeaheadValue]:
        """Each field's values starting with `prefix`, most documents first."""
        values = [
            TypeaheadValue(field=field, value=value, count=count)
            for field in fields
            for value, count in self.engine.prefix_values(
                namespace, field, prefix, limit, collection
            )
        ]
        values.sort(key=lambda v: -v.count)
        return values


def _answer(
    prefix: str,
    texts: list[str],
    values: list[TypeaheadValue],
    collections: list[TypeaheadCollection],
    limit: int | None = None,
) -> TypeaheadResponse:
    return TypeaheadResponse(
        query=prefix,
        suggestions=list(dict.fromkeys(texts))[:limit],
        values=values,
        collections=collections,
        recent_searches=[],
        warnings=[NO_HISTORY],
    )
