"""A document as PostgreSQL holds it for search: the same columns as the tantivy index
(`fields.py`), laid out for PostgreSQL's own indexes.

- `words`, a `tsvector` (GIN): each word of a searchable field as the lexeme `{slot}.{word}`,
  folded as the index folds it (`index.fold`), with its positions; a query asks for a word in
  a field by naming the lexeme, and for a prefix with `:*`.
- `terms`, a `text[]` (GIN): each exact value tagged with its column, `s{slot}:Value`,
  `k{slot}:value` (lower-cased), `n{slot}:12.5`, `b{slot}:true`, and `has:{field}`,
  `null:{field}`: what equality filters, `exists`, `is_null` and facet counts read.
- `numbers`, a `jsonb` object from `n{slot}` (numbers) and `d{slot}` (ISO dates as epoch
  seconds) to their values: what ranges and sorting read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.adapters.engine.fields import Fields, items_of
from app.adapters.engine.index import fold

# PostgreSQL keeps at most 256 positions of a lexeme, none past 16,383, and a tsvector under
# 1 MB: a longer text is still found by every word it has, up to these bounds.
MAX_POSITIONS = 256
LAST_POSITION = 16_383
MAX_WORDS_BYTES = 900_000


@dataclass
class Row:
    words: str  # a tsvector literal
    terms: list[str]
    numbers: dict[str, list[float]]
    vocabulary: set[tuple[int, str]] = field(default_factory=set)  # (slot, word), once each


def row_of(fields: Fields, body: dict[str, Any]) -> tuple[Row, bool]:
    """The row of a document, and whether `fields` learnt something from it."""
    doc, changed = fields.document(0, body)
    terms = [f"has:{without_nul(name)}" for name in doc.pop("has")]
    terms += [f"null:{without_nul(name)}" for name in doc.pop("null", [])]
    numbers: dict[str, list[float]] = {}
    positions: dict[str, list[int]] = {}
    vocabulary: set[tuple[int, str]] = set()
    doc.pop("rowid")
    for column, value in doc.items():
        kind, slot = column[0], column[1:]
        items = items_of(value)
        if kind == "t":
            _words(int(slot), items, positions, vocabulary)
        elif kind in "snb":  # (`k`, the lower-cased values, comes with `s`)
            terms += [term(int(slot), item, True) for item in items]
            if kind == "s":
                terms += [term(int(slot), item, False) for item in items]
            if kind == "n":
                numbers[column] = [float(item) for item in items]
        elif kind == "d":
            numbers[column] = [item.timestamp() for item in items if isinstance(item, datetime)]
    return Row(_tsvector(positions), terms, numbers, vocabulary), changed


def term(slot: int, value: Any, case_sensitive: bool) -> str:
    """A value as a row's `terms` tag it (`k` lower-cased unless `case_sensitive`)."""
    if isinstance(value, bool):
        return f"b{slot}:{'true' if value else 'false'}"
    if isinstance(value, int | float):
        return f"n{slot}:{float(value)!r}"
    text = without_nul(str(value))
    return f"s{slot}:{text}" if case_sensitive else f"k{slot}:{text.lower()}"


def without_nul(text: str) -> str:
    """PostgreSQL's text holds no NUL: a value with one is stored, and matched, without it."""
    return text.replace("\x00", "")


def _words(
    slot: int, texts: list[Any], positions: dict[str, list[int]], vocabulary: set[tuple[int, str]]
) -> None:
    position = 0
    for text in texts:
        for word in fold(text):
            position = min(position + 1, LAST_POSITION)
            places = positions.setdefault(f"{slot}.{word}", [])
            if len(places) < MAX_POSITIONS:
                places.append(position)
            vocabulary.add((slot, word))


def _tsvector(positions: dict[str, list[int]]) -> str:
    parts: list[str] = []
    size = 0
    for lexeme, places in positions.items():
        part = f"{quote(lexeme)}:{','.join(map(str, sorted(set(places))))}"
        size += len(part.encode())
        if size > MAX_WORDS_BYTES:
            break
        parts.append(part)
    return " ".join(parts)


def quote(lexeme: str) -> str:
    """A lexeme as tsvector and tsquery literals spell it: quoted, so that no character of it
    is syntax."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
