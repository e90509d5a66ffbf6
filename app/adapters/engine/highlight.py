"""Highlights: a field's text with every word the query matched wrapped in `<mark>`, and
everything else HTML-escaped, by the same rules the query matched with (folded words, the last
word as a prefix, typos as `words.typos` allows)."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

from app.adapters.engine.index import fold
from app.adapters.engine.words import typos

_TOKEN = re.compile(r"[^\W_]+")
MAX_HIGHLIGHT_CHARS = 20_000


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


@lru_cache(maxsize=65_536)
def _matches(token: str, words: tuple[str, ...]) -> bool:
    for piece in fold(token):
        for position, word in enumerate(words):
            last = position == len(words) - 1
            if piece == word or (last and piece.startswith(word)):
                return True
            allowed = typos(word)
            if allowed and _near(piece, word, allowed, last):
                return True
    return False


def _near(piece: str, word: str, allowed: int, prefix: bool) -> bool:
    if prefix and len(piece) > len(word):
        # The word may be the start of this one, typed with typos: compare like lengths.
        return any(
            _distance(piece[:length], word, allowed) <= allowed
            for length in range(len(word) - allowed, len(word) + allowed + 1)
            if 0 < length <= len(piece)
        )
    return abs(len(piece) - len(word)) <= allowed and _distance(piece, word, allowed) <= allowed


def _distance(a: str, b: str, bound: int) -> int:
    """Edit distance where swapping two neighbours is one edit (optimal string alignment);
    anything above `bound` comes back as bound + 1."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > bound:
            return bound + 1
        previous2, previous = previous, current
    return min(previous[-1], bound + 1)
