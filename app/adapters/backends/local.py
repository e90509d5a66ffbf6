"""The embedded engine as a backend: one input is the full-text query, the others filter."""

from __future__ import annotations

from typing import Any

from app.adapters.backends import Page, Query
from app.adapters.engine import Engine
from app.adapters.threads import in_thread
from app.errors import invalid
from app.schemas.retrievers import LocalBackendConfig

QUERY_INPUT = "query"


class LocalBackend:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def execute(self, query: Query) -> Page:
        return await in_thread(self._execute, query)

    def _execute(self, query: Query) -> Page:
        config: LocalBackendConfig = query.backend
        text = query.inputs.get(QUERY_INPUT) or ""
        filters = {
            name: _filter_value(name, value)
            for name, value in query.inputs.items()
            if name != QUERY_INPUT and _filters_on(value)
        }
        result = self.engine.search(
            query.namespace,
            config.collection,
            fields=config.search_fields,
            text=text if isinstance(text, str) else "",
            filters=filters,
            limit=query.page_size,
            offset=query.offset,
            tree=query.filters,
        )
        documents = [
            {**hit.body, "document_id": hit.document_id, "score": hit.score} for hit in result.hits
        ]
        return Page(documents=documents, total=result.total)


def _filter_value(name: str, value: Any) -> Any:
    """A value the engine can match a field against: a scalar, or a list of them (any of)."""
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str | int | float) for item in items):
        raise invalid(
            f"inputs.{name}",
            "a value or a list of values to match",
            f"inputs.{name} cannot filter the embedded engine: it matches a field against a "
            "value or a list of values, not an object.",
        )
    return value


def _filters_on(value: Any) -> bool:
    """An empty value (unset select, unticked box, blank text) filters nothing."""
    return value not in (None, "", [], False)
