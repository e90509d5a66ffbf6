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
    score: Any = document.get("score")
    kind = type(
        score
    )  # a float or an int as JSON gives them, kept cheap: this runs for every result
    result: dict[str, Any] = {
        "document_id": str(document.get("document_id") or document.get("id") or ""),
        "score": score if kind is float else float(score) if kind is int else _score(score),
    }
    highlights = document.get("highlights")
    if highlights:
        marked = {f: highlights[f] for f in exposed_fields if f in highlights}
        if marked:
            result["highlights"] = marked
    if document.get(BY_MEANING) is True:
        result[BY_MEANING] = True
    for field in exposed_fields:
        if field in document:  # the common case, kept cheap: this runs for every result
            result[field] = document[field]
            continue
        value = _lookup(document, field)
        if value is not _MISSING:
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
