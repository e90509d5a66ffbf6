"""What the embedded engine reads from a document: its id, and its text fields and values."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def split_id(document: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    body = dict(document)
    document_id = body.pop("document_id", None)
    return (str(document_id) if document_id not in (None, "") else uuid.uuid4().hex), body


def is_text(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value) and not value.startswith(("http://", "https://", "data:", "/"))
    if isinstance(value, list):
        return any(isinstance(item, str) and is_text(item) for item in value)
    return False


def text_fields_of(bodies: Iterable[dict[str, Any]]) -> list[str]:
    seen: dict[str, None] = {}
    for body in bodies:
        for key, value in body.items():
            if key not in seen and is_text(value):
                seen[key] = None
    return list(seen)


def text_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(item for item in value if isinstance(item, str))
    return None


def joined(body: Mapping[str, Any], fields: Sequence[str]) -> str:
    """The text of these fields of a document, in order, as one passage (what is embedded)."""
    parts = (text_of(body.get(name)) for name in fields)
    return ". ".join(part for part in parts if part)
