"""Mixpeek's filter tree (`app/schemas/filters.py`) as one PostgreSQL boolean over a document
row `d` (`rows.py`), with the semantics of the tantivy engine's `filters.py`: a field with
several values meets a condition when any value does; text compares case-insensitively (the
`k` terms, lower-cased) unless the tree says `case_sensitive` (the `s` terms); ranges compare
numbers with numbers and text with text by code point, and ISO dates as dates where a field
holds nothing else. Every value is a bound parameter; the SQL around them is fixed text."""

from __future__ import annotations

from typing import Any

from app.adapters.engine.fields import DATE, STRING, Fields, as_date
from app.adapters.engine.pg.rows import term, without_nul
from app.schemas.filters import Condition, Filter, Group

Sql = tuple[str, list[Any]]
_SIGNS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
TRUE: Sql = ("TRUE", [])
FALSE: Sql = ("FALSE", [])


def matching(node: Filter, fields: Fields) -> Sql:
    if isinstance(node, Group):
        parts = [matching(child, fields) for child in node.children]
        params = [param for _, part_params in parts for param in part_params]
        joined = f" {'AND' if node.kind == 'AND' else 'OR'} ".join(sql for sql, _ in parts)
        return (f"NOT ({joined})" if node.kind == "NOT" else f"({joined})"), params
    return _condition(node, fields)


def equal_to_any(field: str, values: list[Any], fields: Fields) -> Sql:
    """The inputs' filters: the field holds one of these values, exactly."""
    return _condition(Condition(field, "in", values, case_sensitive=True), fields)


def _condition(c: Condition, fields: Fields) -> Sql:
    slot = fields.slots.get(c.field)
    op = c.operator
    if op in ("eq", "ne") and c.value is None:
        return _condition(Condition(c.field, "is_null", op == "eq"), fields)
    if op == "exists":
        return _negated(_holds([f"has:{without_nul(c.field)}"]), not c.value)
    if op == "is_null":
        sql, params = _holds([f"has:{without_nul(c.field)}"])
        present = (
            f"({sql} AND NOT d.terms && %s::text[])",
            [*params, [f"null:{without_nul(c.field)}"]],
        )
        return _negated(present, bool(c.value))
    if slot is None:  # no document has the field: only a negation holds
        return TRUE if op in ("ne", "nin") else FALSE
    if op in ("eq", "ne"):
        return _negated(_holds([term(slot, c.value, c.case_sensitive)]), op == "ne")
    if op in ("in", "nin"):
        terms = [term(slot, value, c.case_sensitive) for value in c.value]
        return _negated(_holds(terms), op == "nin")
    if op in _SIGNS:
        return _range(c, slot, fields)
    if not isinstance(c.value, str):  # contains 5: an array holding 5, or the value 5
        return _holds([term(slot, c.value, c.case_sensitive)])
    tag = f"s{slot}:" if c.case_sensitive else f"k{slot}:"
    value = without_nul(c.value if c.case_sensitive else c.value.lower())
    if op == "starts_with":
        return _some_term("starts_with(t, %s)", [tag + value])
    if op == "contains":
        return _some_term(
            "starts_with(t, %s) AND strpos(substr(t, %s), %s) > 0", [tag, len(tag) + 1, value]
        )
    return _some_term(
        "starts_with(t, %s) AND length(t) >= %s AND right(t, %s) = %s",
        [tag, len(tag) + len(value), len(value), value],
    )


def _range(c: Condition, slot: int, fields: Fields) -> Sql:
    sign = _SIGNS[c.operator]
    if not isinstance(c.value, str):
        return _some_number(f"n{slot}", sign, float(c.value))
    date = as_date(c.value)
    if date is not None and fields.kinds.get(c.field, set()) & {DATE, STRING} == {DATE}:
        return _some_number(f"d{slot}", sign, date.timestamp())
    tag = f"s{slot}:"
    return _some_term(
        f'starts_with(t, %s) AND substr(t, %s) COLLATE "C" {sign} %s COLLATE "C"',
        [tag, len(tag) + 1, without_nul(c.value)],
    )


def _holds(terms: list[str]) -> Sql:
    return "d.terms && %s::text[]", [terms]  # any of them: the GIN index answers it


def _some_term(predicate: str, params: list[Any]) -> Sql:
    return f"EXISTS (SELECT 1 FROM unnest(d.terms) t WHERE {predicate})", params


def _some_number(column: str, sign: str, value: float) -> Sql:
    sql = (
        "EXISTS (SELECT 1 FROM jsonb_array_elements_text(d.numbers -> %s) v "
        f"WHERE v::float8 {sign} %s)"
    )
    return sql, [column, value]


def _negated(part: Sql, negate: bool) -> Sql:
    return (f"NOT ({part[0]})", part[1]) if negate else part
