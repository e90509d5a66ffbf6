"""Mixpeek's filter tree (`app/schemas/filters.py`) and the inputs' exact filters as one
Typesense `filter_by` expression over a collection's columns (`names.py`).

As in the other engines: a condition on an array holds when any value meets it; text compares
case-insensitively unless `case_sensitive` (by the token columns, since Typesense's own string
filters fold case); ranges compare numbers, or ISO dates over a field of dates. A field that no
document has makes a condition false, and its negation true. NOT is pushed down to the
conditions (Typesense has none). What Typesense cannot express yet (NOT over a range,
substrings, ranges of text) is refused by name, never dropped.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace
from typing import Any

from app.adapters.engine.fields import as_date
from app.adapters.engine.typesense.documents import HAS, NULL, SEQ, exact
from app.adapters.engine.typesense.names import column, hexed, token
from app.errors import InvalidInput, invalid
from app.schemas.filters import Condition, Filter, Group, Operator

TRUE, FALSE = f"{SEQ}:>=0", f"{SEQ}:<0"  # every document has a `_seq` of 0 or more
_BOUNDS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def refused(what: str, where: str = "filters") -> InvalidInput:
    """A feature this engine does not carry yet, refused by name."""
    return invalid(where, "a feature the Typesense engine has", f"{where}: {what} is not "
                   "supported by the Typesense engine yet.")  # fmt: skip


def filter_by(
    tree: Filter | None, exact: Mapping[str, Any], columns: Collection[str]
) -> str | None:
    """The expression for the tree and the exact filters together; None when there is none."""
    parts = [
        _condition(Condition(name, "in" if isinstance(value, list) else "eq", value, True), columns)
        for name, value in exact.items()
    ]
    if tree is not None:
        parts.append(_node(tree, columns))
    return " && ".join(f"({part})" for part in parts) or None


def _node(node: Filter, columns: Collection[str]) -> str:
    if isinstance(node, Group):
        if node.kind == "NOT":  # none of them: Typesense has no NOT, so it is pushed down
            return _node(Group("AND", tuple(_negated(child) for child in node.children)), columns)
        joined = f" {'&&' if node.kind == 'AND' else '||'} "
        return joined.join(f"({_node(child, columns)})" for child in node.children)
    return _condition(node, columns)


_OPPOSITE: dict[str, Operator] = {"eq": "ne", "ne": "eq", "in": "nin", "nin": "in"}


def _negated(node: Filter) -> Filter:
    """The node's negation without NOT (De Morgan; each condition its opposite). A range has
    none that Typesense can say of an array ("no value above"), so it is refused."""
    if isinstance(node, Group):
        if node.kind == "NOT":
            return Group("OR", node.children)
        negated = tuple(_negated(child) for child in node.children)
        return Group("OR", negated) if node.kind == "AND" else Group("AND", negated)
    if node.operator in _OPPOSITE:
        return replace(node, operator=_OPPOSITE[node.operator])
    if node.operator in ("exists", "is_null"):
        return replace(node, value=not node.value)
    raise refused(f"NOT over the operator {node.operator!r}")


def _condition(c: Condition, columns: Collection[str]) -> str:
    op, name = c.operator, hexed(c.field)
    if op in ("eq", "ne") and c.value is None:
        return _condition(Condition(c.field, "is_null", op == "eq"), columns)
    if op == "exists":
        return f"{HAS}:{'=' if c.value else '!='}[{name}]"
    if op == "is_null":  # missing or null, as in the other engines; or present and not null
        if c.value:
            return f"{HAS}:!=[{name}] || {NULL}:=[{name}]"
        return f"{HAS}:=[{name}] && {NULL}:!=[{name}]"
    if op in ("eq", "in", "ne", "nin"):
        values = c.value if op in ("in", "nin") else [c.value]
        lists = _lists(c.field, values, c.case_sensitive, columns)
        if op in ("eq", "in"):
            return " || ".join(f"{name}:=[{cells}]" for name, cells in lists) or FALSE
        # None of them: Typesense's `!=` holds on documents without the column too, as a
        # negation should.
        return " && ".join(f"{name}:!=[{cells}]" for name, cells in lists) or TRUE
    if op in _BOUNDS:
        return _range(c, columns)
    raise refused(f"the operator {op!r}")


def _lists(
    field: str, values: list[Any], case_sensitive: bool, columns: Collection[str]
) -> list[tuple[str, str]]:
    """The values by the column that holds their kind, each column's as one list (one clause a
    column: Typesense refuses an expression of many clauses), columns no document has left out."""
    cells: dict[str, list[str]] = {}
    for value in values:
        kind, cell = _cell(value, case_sensitive)
        cells.setdefault(column(kind, field), []).append(cell)
    return [(name, ",".join(items)) for name, items in cells.items() if name in columns]


def _cell(value: Any, case_sensitive: bool) -> tuple[str, str]:
    if isinstance(value, bool | int | float):
        return "v", exact(value)
    text = str(value)
    return ("x", token(text)) if case_sensitive else ("l", token(text.lower()))


def _range(c: Condition, columns: Collection[str]) -> str:
    sign = _BOUNDS[c.operator]
    if not isinstance(c.value, str):
        name = column("n", c.field)
        return f"{name}:{sign}{float(c.value)!r}" if name in columns else FALSE
    date = as_date(c.value)
    if date is None:
        raise refused("a range over text")
    name = column("d", c.field)
    return f"{name}:{sign}{date.timestamp()!r}" if name in columns else FALSE
