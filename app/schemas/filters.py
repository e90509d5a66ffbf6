"""Mixpeek's logical filter tree (`LogicalOperator`, `FilterCondition`), parsed into a small typed
tree that every backend here can read.

A node is `{"AND": [...]}`, `{"OR": [...]}` or `{"NOT": [...]}` (all of them must be false),
optionally with `"case_sensitive": true`; a leaf is `{"field", "operator", "value"}`, or the
shorthand `{"field": value}` for equality. Fields must be exposed: a filter is a way to learn
about a document, so it may only look at what the page could show anyway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from app.errors import InvalidInput, invalid

Operator = Literal[
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "starts_with", "ends_with",
    "exists", "is_null",
]  # fmt: skip
OPERATORS: tuple[str, ...] = Operator.__args__  # type: ignore[attr-defined]
# Mixpeek's other operators need a text index, a regex engine or geometry that no backend
# here has: they are refused by name rather than quietly matching nothing.
UNSUPPORTED = ("regex", "text", "phrase", "words", "geo_radius", "geo_bounding_box", "geo_polygon")
MAX_DEPTH = 5
MAX_CONDITIONS = 50
MAX_LIST = 100
MAX_TEXT = 1000
_GROUPS = ("AND", "OR", "NOT")


@dataclass(frozen=True)
class Condition:
    field: str
    operator: Operator
    value: Any
    case_sensitive: bool = False


@dataclass(frozen=True)
class Group:
    kind: Literal["AND", "OR", "NOT"]
    children: tuple[Condition | Group, ...]


Filter = Condition | Group


def parse_filters(raw: Any, exposed: list[str]) -> Filter | None:
    """The tree, or a 422 naming the first part that is wrong (`filters.AND[1].field`...)."""
    if raw is None or raw == {}:
        return None
    counter = [0]
    return _node(raw, "filters", exposed, False, 1, counter)


def fields_of(node: Filter) -> set[str]:
    if isinstance(node, Condition):
        return {node.field}
    return set().union(*(fields_of(child) for child in node.children))


def _node(
    raw: Any, where: str, exposed: list[str], case: bool, depth: int, counter: list[int]
) -> Filter:
    if not isinstance(raw, dict):
        raise _must(where, "an object: a condition, or AND / OR / NOT of conditions")
    if depth > MAX_DEPTH:
        raise invalid(
            where,
            f"nested at most {MAX_DEPTH} deep",
            f"filters may be nested at most {MAX_DEPTH} deep.",
        )
    case = _case(raw, where, case)
    groups = [key for key in _GROUPS if key in raw]
    if groups:
        extra = sorted(set(raw) - {*_GROUPS, "case_sensitive"})
        if extra:
            raise invalid(
                f"{where}.{extra[0]}",
                "not a key of a logical operator",
                f"{where}.{extra[0]} is not a key of a logical operator "
                "(AND, OR, NOT, case_sensitive).",
            )
        children: list[Filter] = []
        for kind in groups:
            items = raw[kind]
            if not isinstance(items, list) or not items:
                raise _must(f"{where}.{kind}", "a non-empty list of conditions")
            parsed = tuple(
                _node(item, f"{where}.{kind}[{i}]", exposed, case, depth + 1, counter)
                for i, item in enumerate(items)
            )
            children.append(Group(kind, parsed))  # type: ignore[arg-type]
        return children[0] if len(children) == 1 else Group("AND", tuple(children))
    if "field" in raw and ("operator" in raw or "value" in raw):
        extra = sorted(set(raw) - {"field", "operator", "value", "case_sensitive"})
        if extra:
            raise invalid(
                f"{where}.{extra[0]}",
                "not a key of a condition",
                f"{where}.{extra[0]} is not a key of a condition "
                "(field, operator, value, case_sensitive).",
            )
        field = (raw["field"], f"{where}.field")
        return _condition(
            field, raw.get("operator", "eq"), raw.get("value"), where, exposed, case, counter
        )
    # The shorthand: {"brand": "Lumen", "in_stock": true} is brand = Lumen AND in_stock = true.
    conditions = tuple(
        _condition(
            (field, f"{where}.{field}"), "eq", value, f"{where}.{field}", exposed, case, counter
        )
        for field, value in raw.items()
        if field != "case_sensitive"
    )
    if not conditions:
        raise invalid(where, "at least one condition", f"{where} must hold at least one condition.")
    return conditions[0] if len(conditions) == 1 else Group("AND", conditions)


def _condition(
    named: tuple[Any, str],
    operator: Any,
    value: Any,
    where: str,
    exposed: list[str],
    case: bool,
    counter: list[int],
) -> Condition:
    field, field_where = named
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise invalid(
            "filters",
            f"at most {MAX_CONDITIONS} conditions",
            f"filters hold at most {MAX_CONDITIONS} conditions.",
        )
    if not isinstance(field, str) or field not in exposed:
        shown = repr(field)[:60]
        raise invalid(
            field_where,
            "an exposed field",
            f"filters: {shown} is not an exposed field; a filter may only use "
            f"{', '.join(exposed)}.",
        )
    if operator in UNSUPPORTED:
        raise invalid(
            f"{where}.operator",
            f"one of {', '.join(OPERATORS)}",
            f"filters: the operator {operator!r} is not supported by this server; the "
            f"operators are {', '.join(OPERATORS)}.",
        )
    if operator not in OPERATORS:
        raise _must(f"{where}.operator", f"one of {', '.join(OPERATORS)}")
    _check_value(operator, value, f"{where}.value")
    return Condition(field, operator, value, case)


def _check_value(operator: str, value: Any, where: str) -> None:
    if operator in ("in", "nin"):
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise _must(where, f"a list of 1 to {MAX_LIST} values")
        for item in value:
            _scalar(item, where)
    elif operator in ("exists", "is_null"):
        if not isinstance(value, bool):
            raise _must(where, "true or false")
    elif operator in ("contains", "starts_with", "ends_with"):
        if operator != "contains" and (not isinstance(value, str) or not value):
            raise _must(where, "text of at least one character")
        _scalar(value, where)
    elif operator in ("gt", "gte", "lt", "lte"):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise _must(where, "a number, or text such as an ISO date")
        _scalar(value, where)
    else:
        if value is not None:
            _scalar(value, where)


def _scalar(value: Any, where: str) -> None:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        raise _must(where, f"text of at most {MAX_TEXT} characters")
    if isinstance(value, float) and not math.isfinite(value):
        raise _must(where, "a finite number")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        raise _must(where, "a number that fits in 64 bits")
    if not isinstance(value, str | int | float | bool):
        raise _must(where, "a string, number or boolean")


def _must(where: str, allowed: str) -> InvalidInput:
    """A 422 naming the part of the tree and what it must be."""
    return invalid(where, allowed, f"{where} must be {allowed}.")


def _case(raw: dict[str, Any], where: str, inherited: bool) -> bool:
    if "case_sensitive" not in raw:
        return inherited
    value = raw["case_sensitive"]
    if not isinstance(value, bool):
        raise _must(f"{where}.case_sensitive", "true or false")
    return value


def as_mixpeek(node: Filter) -> dict[str, Any]:
    """The tree as Mixpeek's JSON, in its long form, for a backend that passes it on."""
    if isinstance(node, Group):
        return {node.kind: [as_mixpeek(child) for child in node.children]}
    written = {"field": node.field, "operator": node.operator, "value": node.value}
    return {**written, "case_sensitive": True} if node.case_sensitive else written
