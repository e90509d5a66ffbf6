"""Highlights: a field's text with every word the query matched wrapped in `<mark>`, and
everything else HTML-escaped, by the same rules the query matched with (folded words, the last
word as a prefix, typos as `words.typos` allows, counted as tantivy counts them: optimal
string alignment, where swapping two neighbours is one edit)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from app.adapters.engine.index import fold
from app.adapters.engine.words import near, typos

_TOKEN = re.compile(r"[^\W_]+")
MAX_HIGHLIGHT_CHARS = 20_000


def highlights(
    body: dict[str, Any], names: Sequence[str], words: tuple[str, ...]
) -> dict[str, str]:
    """The marked-up text of each of these fields that the words matched in."""
    marked = {name: highlight(body.get(name), words) for name in names} if words else {}
    return {name: text for name, text in marked.items() if text is not None}


def highlight(value: Any, words: tuple[str, ...]) -> str | None:
    """The marked-up text, or None when no word of it matched (or it is not text)."""
    if isinstance(value, list):
        value = ", ".join(item for item in value if isinstance(item, str))
    if not isinstance(value, str) or not value or not words:
        return None
    text = value[:MAX_HIGHLIGHT_CHARS]
    parts: list[str] = []
    done = 0
    for token in _TOKEN.finditer(text):
        if _matches(token.group(), words):
            parts.append(html.escape(text[done : token.start()]))
            parts.append(f"<mark>{html.escape(token.group())}</mark>")
            done = token.end()
    if not parts:
        return None
    parts.append(html.escape(text[done:]))
    return "".join(parts)


def words_in(body: dict[str, Any], names: Sequence[str], words: tuple[str, ...]) -> set[str]:
    """Which of the query's words these fields of a document hold, by the same rules."""
    found: set[str] = set()
    for name in names:
        value = body.get(name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str):
                for token in _TOKEN.findall(item[:MAX_HIGHLIGHT_CHARS]):
                    found.update(_matched(token, words))
    return found


def lacking(body: dict[str, Any], names: Sequence[str], words: tuple[str, ...]) -> tuple[str, ...]:
    """The words of a query that these fields of a document do not hold."""
    have = words_in(body, names, words)
    return tuple(word for word in words if word not in have)


def _matches(token: str, words: tuple[str, ...]) -> bool:
    return bool(_matched(token, words))


@lru_cache(maxsize=65_536)
def _matched(token: str, words: tuple[str, ...]) -> frozenset[str]:
    """The words that this token of a text stands for."""
    found = set()
    for piece in fold(token):
        for position, word in enumerate(words):
            last = position == len(words) - 1
            allowed = typos(word)
            if (
                piece == word
                or (last and piece.startswith(word))
                or (allowed and near(piece, word, allowed, last))
            ):
                found.add(word)
    return frozenset(found)
