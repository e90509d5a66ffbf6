"""Search-box suggestions for a published retriever, from the embedded engine: the words of
its search fields and the short values of its exposed text fields that start with what was
typed. Only exposed fields are read, so a suggestion never tells of a hidden one."""

from __future__ import annotations

from app.adapters.engine import Engine
from app.errors import invalid
from app.schemas.collections import TypeaheadResponse, TypeaheadValue
from app.services.catalog import PublicRetriever

MAX_VALUE_FIELDS = 5
MAX_VALUE_CHARS = 60  # longer values are sentences, not things to type


class Typeahead:
    def __init__(self, engine: Engine) -> None:
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
            TypeaheadValue(field=field, value=value, count=count)
            for field in value_fields
            for value, count in self.engine.prefix_values(
                namespace, field, prefix, limit, collection
            )
            if len(value) <= MAX_VALUE_CHARS
        ]
        values.sort(key=lambda v: -v.count)
        texts = [word for word, _ in words] + [v.value for v in values]
        return TypeaheadResponse(
            query=prefix,
            suggestions=list(dict.fromkeys(texts))[:limit],
            values=values[:limit],
            collections=[],
            recent_searches=[],
            warnings=["recent_searches: this server keeps no history of searches"],
        )
