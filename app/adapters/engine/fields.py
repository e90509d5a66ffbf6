"""A collection's fields, each given a slot of the index the first time it is seen, and a
document as the index holds it.

The index has the same fixed set of columns for every collection (`index.py`): slot `i` is
`t{i}` (words, for full-text search), `s{i}` (each string value as it is, indexed for exact
filters and in a column for facet counts), `k{i}` (the same, lower-cased by the index's
`lower` tokenizer), `n{i}` (numbers), `b{i}` (booleans) and `d{i}` (strings that are ISO
dates). A field keeps its slot for the collection's life, so a new field never rebuilds the
index: older documents simply do not have it. `has` and `null` list which fields a document
carries, and which of them are null, for `exists` and `is_null`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app import jsonutil
from app.adapters import texts

MAX_FIELDS = 64
# Longer strings are still searched word by word, but are not values to filter on or count.
MAX_VALUE_CHARS = 1000
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

    def sort_column(self, name: str) -> str | None:
        """The column a field sorts by: its numbers, else its dates; None if it has neither."""
        slot = self.slots.get(name)
        if slot is None:
            return None
        if NUMBER in self.kinds[name]:
            return f"n{slot}"
        return f"d{slot}" if DATE in self.kinds[name] else None

    def document(self, rowid: int, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The body as the index's columns (see the module's docstring), and whether the
        fields learnt something from it: a new field, a new kind of value, a new text field.
        One pass over the body, since an import spends most of its Python time here."""
        changed = False
        doc: dict[str, Any] = {"rowid": rowid, "has": list(body)}
        nulls: list[str] = []
        slots, text = self.slots, self.text
        for name, value in body.items():
            slot = slots.get(name)
            if slot is None:
                if len(slots) >= MAX_FIELDS:
                    continue
                slot = slots[name] = len(slots)
                self.kinds[name] = set()
                changed = True
            seen = self.kinds[name]
            if type(value) is str:  # the common case, kept to a few checks
                date = as_date(value) if value[:1].isdigit() else None
                kind = STRING if date is None else DATE
                if kind not in seen:
                    seen.add(kind)
                    changed = True
                if name not in text and texts.is_text(value):
                    text.append(name)
                    changed = True
                if name in text:
                    doc[f"t{slot}"] = value
                if len(value) <= MAX_VALUE_CHARS:
                    doc[f"s{slot}"] = doc[f"k{slot}"] = value
                    if date is not None:
                        doc[f"d{slot}"] = date
            elif value is None:
                nulls.append(name)
            else:
                kinds = _kinds(value)
                if not kinds <= seen:
                    seen |= kinds
                    changed = True
                if name not in text and texts.is_text(value):
                    text.append(name)
                    changed = True
                items = value if isinstance(value, list) else [value]
                if name in text:
                    words = [item for item in items if isinstance(item, str)]
                    if words:
                        doc[f"t{slot}"] = words
                _values(doc, slot, items)
        if nulls:
            doc["null"] = nulls
        return doc, changed


def items_of(value: Any) -> list[Any]:
    """An array's items, or a scalar alone."""
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
            if item[:1].isdigit() and (date := as_date(item)) is not None:
                dates.append(date)
    if strings:
        doc[f"s{slot}"] = doc[f"k{slot}"] = strings
    if numbers:
        doc[f"n{slot}"] = numbers
    if bools:
        doc[f"b{slot}"] = bools
    if dates:
        doc[f"d{slot}"] = dates


def _kinds(value: Any) -> set[str]:
    kinds: set[str] = set()
    for item in items_of(value):
        if isinstance(item, bool):
            kinds.add(BOOL)
        elif isinstance(item, int | float):
            kinds.add(NUMBER)
        elif isinstance(item, str):
            kinds.add(DATE if item[:1].isdigit() and as_date(item) is not None else STRING)
    return kinds
