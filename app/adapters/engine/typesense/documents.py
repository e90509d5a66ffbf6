"""A document as Typesense holds it (see `names.py` for its columns), and the collection schema
that takes any field: each kind of column is a Typesense field pattern, made concrete the first
time a document carries it. `_body` keeps the document as it came (JSON, key order kept, never
indexed); `_seq` the order of writing, for browsing without words and among equal matches;
`_key` the id as a token (Typesense filters its `id` by `=` but not by `!=`); `_has` and `_null` the
fields a document carries, and which of them are null, for `exists` and `is_null`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from app import jsonutil
from app.adapters import texts
from app.adapters.engine.fields import MAX_VALUE_CHARS, as_date
from app.adapters.engine.index import fold
from app.adapters.engine.typesense.names import column, hexed, token

BODY, SEQ, HAS, NULL, KEY = "_body", "_seq", "_has", "_null", "_key"


def schema(name: str) -> dict[str, Any]:
    def pattern(kind: str, kind_type: str, **extra: Any) -> dict[str, Any]:
        return {"name": f"{kind}_.*", "type": kind_type, "optional": True, **extra}

    return {
        "name": name,
        "fields": [
            pattern("t", "string[]"),
            pattern("w", "string[]", facet=True),
            pattern("s", "string[]", facet=True),
            pattern("x", "string[]"),
            pattern("l", "string[]"),
            pattern("v", "string[]"),
            pattern("n", "float[]", facet=True),
            pattern("b", "bool[]", facet=True),
            pattern("d", "float[]"),
            pattern("o", "float", sort=True),
            {"name": BODY, "type": "string", "index": False, "optional": True},
            {"name": SEQ, "type": "int64"},
            {"name": HAS, "type": "string[]"},
            {"name": NULL, "type": "string[]"},
            {"name": KEY, "type": "string"},
        ],
    }


def to_typesense(document_id: str, body: dict[str, Any], seq: int) -> dict[str, Any]:
    """The document's columns (see `names.py`); its id in hex, as every id is kept."""
    doc: dict[str, Any] = {
        "id": hexed(document_id),
        BODY: jsonutil.dumps(body).decode(),
        SEQ: seq,
        KEY: token(document_id),
        HAS: [hexed(name) for name in body],
        NULL: [hexed(name) for name, value in body.items() if value is None],
    }
    for name, value in body.items():
        columns: dict[str, list[Any]] = {}
        for item in _values(value):
            for kind, cell in _cells(item):
                columns.setdefault(kind, []).append(cell)
        for kind, cells in columns.items():  # (each value once: facets count documents)
            doc[column(kind, name)] = list(dict.fromkeys(cells))
        if "t" in columns:  # its words as the other engines index them, for typeahead
            doc[column("w", name)] = sorted({word for text in columns["t"] for word in fold(text)})
        sortable = columns.get("n") or columns.get("d")
        if not isinstance(value, list) and sortable:
            doc[column("o", name)] = sortable[0]
    return doc


def exact(value: bool | int | float) -> str:
    """A number or boolean as an exact value to filter on, as text: Typesense 0.24 compares
    numbers by `=` and ranges but not by `!=`, and lists of text by both."""
    return token(f"b{value}" if isinstance(value, bool) else repr(float(value)))


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, list):
        yield from (item for item in value if not isinstance(item, list | dict))
    elif not isinstance(value, dict):
        yield value


def _cells(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, bool | int | float):
        yield "v", exact(value)
    if isinstance(value, bool):
        yield "b", value
    elif isinstance(value, int | float):
        yield "n", float(value)
    elif isinstance(value, str):
        if texts.is_text(value):
            yield "t", value
        if len(value) <= MAX_VALUE_CHARS:
            yield "s", value
            yield "x", token(value)
            yield "l", token(value.lower())
        date = as_date(value)
        if date is not None:
            yield "d", date.timestamp()
