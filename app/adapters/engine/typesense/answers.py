"""Typesense's answer to one search of a `multi_search`, as the engine takes it."""

from __future__ import annotations

from typing import Any


class MissingColumn(RuntimeError):
    """A search named a column the collection no longer has (dropped and made again)."""


def answer(found: dict[str, Any]) -> dict[str, Any]:
    if found.get("code") == 404 and found.get("error") == "Not found.":
        # No such collection on the node asked: made through another, not yet here.
        return {"found": 0, "hits": [], "facet_counts": []}
    if "error" in found:
        if found.get("code") == 404 or "Could not find a field" in str(found["error"]):
            raise MissingColumn(found["error"])
        raise RuntimeError(f"Typesense refused a search: {found['error']}")
    return found
