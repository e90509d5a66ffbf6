"""The display config the console's editor starts from for a retriever without one: every
field of the collection shown, each labelled from its name ("installed_size" is "Installed
size"), a short text field first so that it is the cards' headline (one named title or name
if there is one; a number never), and the longest text last, after the short ones.

The owner API's own defaults are untouched: this is the console's starting point only."""

from __future__ import annotations

import re
from typing import Any

from app.schemas.search import FULL_TEXT_INPUT

STARTER_FIELDS = 20
MAX_LABEL = 100
# The names the cards take as a headline wherever they are (see rendering.cards).
HEADLINES = ("title", "name", "headline", "label")
DESCRIPTIONS = ("description", "summary", "snippet", "body", "text", "content")


def humanized(name: str) -> str:
    """A field's name as a label: "installed_size" -> "Installed size", "pageCount" ->
    "Page count"."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", name)
    words = re.sub(r"[\s_.-]+", " ", words).strip()
    if not words:
        return name[:MAX_LABEL]
    return (words[:1].upper() + words[1:].lower())[:MAX_LABEL]


def _ordered(fields: list[str], kinds: dict[str, str], lengths: dict[str, float]) -> list[str]:
    """The headline first (a short text: one named for it, else the shortest), the longest
    text last; the rest as the collection holds them."""
    texts = [f for f in fields if kinds.get(f) == "text"]
    named = next((f for f in fields if f.lower() in HEADLINES and f in texts), None)
    headline = named or min(texts, key=lambda f: lengths.get(f, 0.0), default=None)
    rest = [f for f in texts if f != headline]
    # A field named for it is the cards' description line wherever it is.
    described = any(f.lower() in DESCRIPTIONS for f in fields)
    longest = None if described else max(rest, key=lambda f: lengths.get(f, 0.0), default=None)
    middle = [f for f in fields if f not in (headline, longest)]
    return [f for f in (headline, *middle, longest) if f is not None]


def starter(
    name: str,
    backend: dict[str, Any],
    fields: list[str],
    kinds: dict[str, str] | None = None,
    lengths: dict[str, float] | None = None,
) -> dict[str, Any]:
    """`fields`: the collection's (none for an upstream), `kinds` each one's kind of value,
    `lengths` each text field's mean length in the documents seen."""
    kinds, lengths = kinds or {}, lengths or {}
    # Every field of the collection to start with: a publisher unticks what stays private.
    shown = fields or list(backend.get("search_fields") or ["title"])[:STARTER_FIELDS]
    if kinds:
        shown = _ordered(shown, kinds, lengths)
    config: dict[str, Any] = {
        "title": name,
        "inputs": [
            {
                "field_name": FULL_TEXT_INPUT,
                "label": "Search",
                "input_type": "text",
                "field_schema": {"type": "text"},
                "required": False,  # an empty query lists everything, so the page shows cards
            }
        ],
        "exposed_fields": shown,
    }
    if fields:
        # Each field but the headline named on the cards.
        labels = {f: {"format_options": {"label": humanized(f)}} for f in shown[1:]}
        if labels:
            config["field_config"] = labels
    return config
