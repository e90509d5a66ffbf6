"""The one gate every result passes: only `exposed_fields` (plus id, score, the highlights of
exposed fields, and whether it was found by meaning alone) leave."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.schemas.search import BY_MEANING

# Mixpeek documents keep their fields at the top level, under `payload`, or under `metadata`.
_CONTAINERS = ("payload", "metadata")
_MISSING = object()


def expose(document: dict[str, Any], exposed_fields: Iterable[str]) -> dict[str, Any]:
    # Kept cheap, this runs for every result: no comprehension (a call each), and each field
    # looked up once in the common case, where the document has it at the top level.
    score: Any = document.get("score")
    kind = type(score)  # a float or an int as JSON gives them
    identifier = document.get("document_id") or document.get("id") or ""
    result: dict[str, Any] = {
        "document_id": identifier if type(identifier) is str else str(identifier),
        "score": score if kind is float else float(score) if kind is int else _score(score),
    }
    highlights = document.get("highlights")
    if highlights and type(highlights) is dict:  # (an upstream's other shapes: not shown)
        marked = {}
        for field in exposed_fields:
            text = highlights.get(field)
            if type(text) is str:
                marked[field] = text
        if marked:
            result["highlights"] = marked
    if document.get(BY_MEANING) is True:
        result[BY_MEANING] = True
    for field in exposed_fields:
        value = document.get(field, _MISSING)
        if value is _MISSING:
            value = _lookup(document, field)
            if value is _MISSING:
                continue
        result[field] = value
    return result


def _score(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return float(value)


def _lookup(document: dict[str, Any], field: str) -> Any:
    for source in (document, *(document.get(c) for c in _CONTAINERS)):
        if not isinstance(source, dict):
            continue
        if field in source:
            return source[field]
        if "." in field:
            value = _path(source, field.split("."))
            if value is not _MISSING:
                return value
    return _MISSING


def _path(source: dict[str, Any], parts: list[str]) -> Any:
    current: Any = source
    for part in parts:
        if not isinstance(current, dict) or part not in current:
            return _MISSING
        current = current[part]
    return current
