"""Highlights: a field's text with every word the query matched wrapped in `<mark>`, and
everything else HTML-escaped, by the same rules the query matched with (folded words, the last
word as a prefix unless the search took it whole (`words.as_prefix`), typos as `words.typos`
allows, counted as tantivy counts them: optimal string alignment, where swapping two neighbours
is one edit)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from app.adapters.engine.index import fold
from app.adapters.engine.words import near, typos
from app.kept import Kept

_TOKEN = re.compile(r"[^\W_]+")
MAX_HIGHLIGHT_CHARS = 20_000
# Texts whose words are kept split (`_spans`): a few pages of results' highlighted fields.
TEXTS_KEPT = 4096
# `highlight`'s answers kept, by text and query (the oldest dropped first): the same query
# finds the same documents again (a popular query, the next page, the page after its own
# execute), and marking them anew each time was a fifth of a JSON execute's CPU on the Debian
# catalog. Short texts only, so that what is kept stays a few megabytes; a plain dictionary,
# which the collector walks as one object where an `lru_cache` has one an entry.
MARKED_KEPT = 8192
MARKED_CHARS = 1000
_kept: Kept[tuple[str, tuple[str, ...], bool], str | None] = Kept(MARKED_KEPT)
_NONE = object()


def highlights(
    body: dict[str, Any],
    names: Sequence[str],
    words: tuple[str, ...],
    prefix: bool = True,
) -> dict[str, str]:
    """The marked-up text of each of these fields that the words matched in (the last word as
    a prefix, with `prefix`)."""
    if not words:
        return {}
    marked: dict[str, str] = {}
    for name in names:
        value = body.get(name)
        # A text marked for these words before, looked up here: 20 hits of 3 fields each.
        text: object = _kept.get((value, words, prefix), _NONE) if type(value) is str else _NONE
        if text is _NONE:
            text = highlight(value, words, prefix)
        if isinstance(text, str):
            marked[name] = text
    return marked


def highlight(value: Any, words: tuple[str, ...], prefix: bool = True) -> str | None:
    """The marked-up text, or None when no word of it matched (or it is not text)."""
    if isinstance(value, list):
        value = ", ".join(item for item in value if isinstance(item, str))
    if not isinstance(value, str) or not value or not words:
        return None
    text = value[:MAX_HIGHLIGHT_CHARS]
    if len(text) > MARKED_CHARS:
        return _marked(text, words, prefix)
    key = (text, words, prefix)
    marked = _kept.get(key, _NONE)
    if marked is _NONE:
        marked = _marked(text, words, prefix)
        _kept.put(key, marked)  # (from worker threads too: `Kept` takes that)
    return cast(str | None, marked)


def _marked(text: str, words: tuple[str, ...], prefix: bool) -> str | None:
    split = _split(text)
    memo = {token: bool(_matched(token, words, prefix)) for token in split.distinct}
    if not any(memo.values()):
        return None
    parts: list[str] = []
    for token, before, escaped in split.pieces:
        parts.append(before)
        parts.append(f"<mark>{escaped}</mark>" if memo[token] else escaped)
    parts.append(split.tail)
    return "".join(parts)


@dataclass(frozen=True)
class _Split:
    """A text cut at its words, each piece escaped already (escaping a whole text and its
    pieces one by one give the same): marking it joins them."""

    distinct: tuple[str, ...]  # its words, each once
    pieces: tuple[tuple[str, str, str], ...]  # each word: as written, the text before it, itself
    tail: str  # the text after the last word


@lru_cache(maxsize=TEXTS_KEPT)
def _split(text: str) -> _Split:
    """A text split and escaped once, not for each search that finds it (the engine keeps
    the bodies it reads, so the same strings come back, their hashes kept by Python)."""
    pieces = []
    done = 0
    for token in _TOKEN.finditer(text):
        word = token.group()
        pieces.append((word, html.escape(text[done : token.start()]), html.escape(word)))
        done = token.end()
    distinct = tuple(dict.fromkeys(word for word, _, _ in pieces))
    return _Split(distinct, tuple(pieces), html.escape(text[done:]))


def words_in(
    body: dict[str, Any], names: Sequence[str], words: tuple[str, ...], prefix: bool = True
) -> set[str]:
    """Which of the query's words these fields of a document hold, by the same rules."""
    found: set[str] = set()
    for name in names:
        value = body.get(name)
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, str):
                for token in _TOKEN.findall(item[:MAX_HIGHLIGHT_CHARS]):
                    found.update(_matched(token, words, prefix))
    return found


def lacking(
    body: dict[str, Any], names: Sequence[str], words: tuple[str, ...], prefix: bool = True
) -> tuple[str, ...]:
    """The words of a query that these fields of a document do not hold."""
    have = words_in(body, names, words, prefix)
    return tuple(word for word in words if word not in have)


def _matches(token: str, words: tuple[str, ...]) -> bool:
    return bool(_matched(token, words))


@lru_cache(maxsize=65_536)
def _matched(token: str, words: tuple[str, ...], prefix: bool = True) -> frozenset[str]:
    """The words that this token of a text stands for (the last word as a prefix, with
    `prefix`)."""
    found = set()
    for piece in fold(token):
        for position, word in enumerate(words):
            last = prefix and position == len(words) - 1
            allowed = typos(word)
            if (
                piece == word
                or (last and piece.startswith(word))
                or (allowed and near(piece, word, allowed, last))
            ):
                found.add(word)
    return frozenset(found)
