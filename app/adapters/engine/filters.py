"""Mixpeek's filter tree (`app/schemas/filters.py`) as one tantivy query over a collection's
columns (`fields.py`).

A condition on a field with several values (an array) holds when any value meets it, as in
Mixpeek's engines. Text is compared case-insensitively (`k` columns hold lower-cased values)
unless the tree says `case_sensitive` (`s` columns hold them as they are). Ranges compare
numbers with numbers, and text with text, by code point, never one with the other; a text
range over a field whose strings are all ISO dates compares them as dates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Query

from app.adapters.engine.fields import DATE, STRING, Fields, as_date
from app.adapters.engine.index import SCHEMA
from app.schemas.filters import Condition, Filter, Group

_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$#&\-~])")
_BOUNDS = {"gt": (False, None), "gte": (True, None), "lt": (None, False), "lte": (None, True)}


def matching(node: Filter, fields: Fields, searcher: tantivy.Searcher) -> Query:
    if isinstance(node, Group):
        children = [matching(child, fields, searcher) for child in node.children]
        if node.kind == "AND":
            return Query.boolean_query([(Occur.Must, child) for child in children])
        if node.kind == "OR":
            return Query.boolean_query([(Occur.Should, child) for child in children])
        return _none_of(children)
    return _condition(node, fields, searcher)


def equal_to_any(field: str, values: list[Any], fields: Fields) -> Query:
    """The inputs' filters: the field holds one of these values, exactly."""
    return _condition(Condition(field, "in", values, case_sensitive=True), fields, None)


def _condition(c: Condition, fields: Fields, searcher: tantivy.Searcher | None) -> Query:
    slot = fields.slots.get(c.field)
    op = c.operator
    if op in ("eq", "ne") and c.value is None:
        return _condition(Condition(c.field, "is_null", op == "eq"), fields, searcher)
    if op in ("exists", "is_null"):
        present = Query.term_query(SCHEMA, "has", c.field)
        if op == "is_null":
            null = Query.term_query(SCHEMA, "null", c.field)
            present = Query.boolean_query([(Occur.Must, present), (Occur.MustNot, null)])
            return _none_of([present]) if c.value else present
        return present if c.value else _none_of([present])
    if slot is None:  # no document has the field: only a negation holds
        return Query.all_query() if op in ("ne", "nin") else Query.empty_query()
    if op in ("eq", "ne"):
        query = _equal(slot, c.value, c.case_sensitive)
        return query if op == "eq" else _none_of([query])
    if op in ("in", "nin"):
        query = _any([_equal(slot, value, c.case_sensitive) for value in c.value])
        return query if op == "in" else _none_of([query])
    if op in _BOUNDS:
        return _range(c, slot, fields, searcher)
    if not isinstance(c.value, str):  # contains 5: an array holding 5, or the value 5
        return _equal(slot, c.value, c.case_sensitive)
    column = f"s{slot}" if c.case_sensitive else f"k{slot}"
    value = c.value if c.case_sensitive else c.value.lower()
    text = _REGEX_META.sub(r"\\\1", value)
    pattern = {"contains": f".*{text}.*", "starts_with": f"{text}.*"}.get(op, f".*{text}")
    try:
        return Query.regex_query(SCHEMA, column, pattern)
    except ValueError:  # a long value compiles past tantivy's automaton limit (1,000 states)
        test = {"contains": str.__contains__, "starts_with": str.startswith}.get(op, str.endswith)
        return _terms_where(column, lambda term: bool(test(term, value)), searcher)


def _equal(slot: int, value: Any, case_sensitive: bool) -> Query:
    if isinstance(value, bool):
        return Query.term_query(SCHEMA, f"b{slot}", value)
    if isinstance(value, int | float):
        return Query.term_query(SCHEMA, f"n{slot}", float(value))
    if case_sensitive:
        return Query.term_query(SCHEMA, f"s{slot}", value)
    return Query.term_query(SCHEMA, f"k{slot}", str(value).lower())


def _range(c: Condition, slot: int, fields: Fields, searcher: tantivy.Searcher | None) -> Query:
    lower, upper = _BOUNDS[c.operator]
    if not isinstance(c.value, str):
        return _between(f"n{slot}", FieldType.Float, float(c.value), lower, upper)
    date = as_date(c.value)
    if date is not None and fields.kinds.get(c.field, set()) & {DATE, STRING} == {DATE}:
        return _between(f"d{slot}", FieldType.Date, date, lower, upper)
    return _terms_where(f"s{slot}", lambda term: _in_range(term, c.operator, c.value), searcher)


def _terms_where(
    column: str, keep: Callable[[str], bool], searcher: tantivy.Searcher | None
) -> Query:
    """The values of a column that `keep` accepts, read off its dictionary: for what no
    tantivy query expresses (a text range, a substring too long for a regex)."""
    values = [term for term, _ in searcher.terms_with_prefix(column, "")] if searcher else []
    wanted = [value for value in values if keep(value)]
    return Query.term_set_query(SCHEMA, column, wanted) if wanted else Query.empty_query()


def _between(
    column: str, kind: FieldType, value: Any, lower: bool | None, upper: bool | None
) -> Query:
    """A one-sided range: `lower` says whether a lower bound at `value` is inclusive (None:
    no lower bound), `upper` the same above."""
    return Query.range_query(
        SCHEMA,
        column,
        kind,
        lower_bound=value if lower is not None else None,
        upper_bound=value if upper is not None else None,
        include_lower=lower is not False,
        include_upper=upper is not False,
    )


def _in_range(value: str, operator: str, bound: str) -> bool:
    if operator == "gt":
        return value > bound
    if operator == "gte":
        return value >= bound
    if operator == "lt":
        return value < bound
    return value <= bound


def _any(queries: list[Query]) -> Query:
    return Query.boolean_query([(Occur.Should, query) for query in queries])


def _none_of(queries: list[Query]) -> Query:
    return Query.boolean_query(
        [(Occur.Must, Query.all_query()), *((Occur.MustNot, query) for query in queries)]
    )
