"""A collection's fields, each given a slot of the index the first time it is seen, and a
document as the index holds it.

The index has the same fixed set of columns for every collection (`index.py`): slot `i` is
`t{i}` (words, for full-text search), `s{i}` (each string value as it is, for exact filters),
`k{i}` (the same case-folded), `f{i}` (short strings in a column, for facet counts), `n{i}`
(numbers), `b{i}` (booleans) and `d{i}` (strings that are ISO dates). A field keeps its slot
for the collection's life, so a new field never rebuilds the index: older documents simply do
not have it. `has` and `null` list which fields a document carries, and which of them are
null, for `exists` and `is_null`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app import jsonutil
from app.adapters import texts

MAX_FIELDS = 64
# Longer strings are still searched word by word, but are not values to filter on or count.
MAX_VALUE_CHARS = 1000
MAX_FACET_CHARS = 100
# The kinds of value a field has held; a string is a DATE when it is an ISO date, else a STRING.
NUMBER, BOOL, DATE, STRING = "number", "bool", "date", "string"
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?"
)


def as_date(value: str) -> datetime | None:
    """An ISO date or date-time as an aware datetime (UTC when no offset is given)."""
    if len(value) > 40 or not _ISO_DATE.fullmatch(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Fields:
    slots: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, set[str]] = field(default_factory=dict)
    text: list[str] = field(default_factory=list)  # searchable words, in the order first seen

    @classmethod
    def load(cls, raw: str | None, text: str | None) -> Fields:
        stored: dict[str, list[Any]] = jsonutil.loads(raw) if raw else {}
        return cls(
            slots={name: int(entry[0]) for name, entry in stored.items()},
            kinds={name: set(entry[1:]) for name, entry in stored.items()},
            text=list(jsonutil.loads(text)) if text else [],
        )

    def dump(self) -> tuple[str, str]:
        stored = {name: [slot, *sorted(self.kinds[name])] for name, slot in self.slots.items()}
        return jsonutil.dumps(stored).decode(), jsonutil.dumps(self.text).decode()

    def learn(self, bodies: Iterable[dict[str, Any]]) -> bool:
        """Give new fields a slot (while there are slots) and note the kinds of values seen;
        True when anything changed."""
        changed = False
        for body in bodies:
            for name, value in body.items():
                slot = self.slots.get(name)
                if slot is None:
                    if len(self.slots) >= MAX_FIELDS:
                        continue
                    slot = self.slots[name] = len(self.slots)
                    self.kinds[name] = set()
                    changed = True
                kinds = _kinds(value)
                if not kinds <= self.kinds[name]:
                    self.kinds[name] |= kinds
                    changed = True
                if name not in self.text and texts.is_text(value):
                    self.text.append(name)
                    changed = True
        return changed

    def sort_column(self, name: str) -> str | None:
        """The column a field sorts by: its numbers, else its dates; None if it has neither."""
        slot = self.slots.get(name)
        if slot is None:
            return None
        if NUMBER in self.kinds[name]:
            return f"n{slot}"
        return f"d{slot}" if DATE in self.kinds[name] else None

    def document(self, rowid: int, body: dict[str, Any]) -> dict[str, Any]:
        """The body as the index's columns (see the module's docstring)."""
        doc: dict[str, Any] = {"rowid": rowid}
        present: list[str] = []
        nulls: list[str] = []
        for name, value in body.items():
            slot = self.slots.get(name)
            if slot is None:
                continue
            present.append(name)
            if value is None:
                nulls.append(name)
                continue
            if name in self.text:
                words = [item for item in _items(value) if isinstance(item, str)]
                if words:
                    doc[f"t{slot}"] = words
            _values(doc, slot, _items(value))
        doc["has"] = present
        if nulls:
            doc["null"] = nulls
        return doc


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _values(doc: dict[str, Any], slot: int, items: list[Any]) -> None:
    strings: list[str] = []
    numbers: list[float] = []
    bools: list[bool] = []
    dates: list[datetime] = []
    for item in items:
        if isinstance(item, bool):
            bools.append(item)
        elif isinstance(item, int | float):
            numbers.append(float(item))
        elif isinstance(item, str) and len(item) <= MAX_VALUE_CHARS:
            strings.append(item)
            date = as_date(item)
            if date is not None:
                dates.append(date)
    if strings:
        doc[f"s{slot}"] = strings
        doc[f"k{slot}"] = [item.casefold() for item in strings]
        facets = [item for item in strings if len(item) <= MAX_FACET_CHARS]
        if facets:
            doc[f"f{slot}"] = facets
    if numbers:
        doc[f"n{slot}"] = numbers
    if bools:
        doc[f"b{slot}"] = bools
    if dates:
        doc[f"d{slot}"] = dates


def _kinds(value: Any) -> set[str]:
    kinds: set[str] = set()
    for item in _items(value):
        if isinstance(item, bool):
            kinds.add(BOOL)
        elif isinstance(item, int | float):
            kinds.add(NUMBER)
        elif isinstance(item, str):
            kinds.add(DATE if as_date(item) is not None else STRING)
    return kinds
