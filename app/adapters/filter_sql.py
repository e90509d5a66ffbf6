"""The embedded engine's SQL pieces: the full-text match expression and its field weights,
the inputs' equality filters, and the filter tree (`app/schemas/filters.py`) as one SQLite
boolean over a document row `d`.

Each condition looks at the field's values through `json_each`, which yields an array's
items or a scalar itself, so `{"field": "tags", "operator": "eq", "value": "red"}` matches a
document tagged red among others, as Mixpeek's engines do. Text is compared case-folded
(`fold`, Python's `casefold`, registered on each connection: SQLite's own `lower` folds ASCII
only) unless the tree says `case_sensitive`. Ranges compare numbers with numbers and text with
text, never one with the other.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from app.schemas.filters import Condition, Filter, Group

FOLD = "fold"
MAX_QUERY_WORDS = 16
WORD = re.compile(r"\w+", re.UNICODE)


def register(conn: sqlite3.Connection) -> None:
    conn.create_function(FOLD, 1, _fold, deterministic=True)


def _fold(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def where_sql(node: Filter) -> tuple[str, list[Any]]:
    if isinstance(node, Group):
        parts = [where_sql(child) for child in node.children]
        params = [param for _, part_params in parts for param in part_params]
        if node.kind == "AND":
            return "(" + " AND ".join(sql for sql, _ in parts) + ")", params
        joined = "(" + " OR ".join(sql for sql, _ in parts) + ")"
        return (joined if node.kind == "OR" else f"NOT {joined}"), params
    return _condition(node)


def _condition(c: Condition) -> tuple[str, list[Any]]:
    path = json_path(c.field)
    value = _fold(c.value) if not c.case_sensitive else c.value
    column = "j.value" if c.case_sensitive else f"{FOLD}(j.value)"
    op = c.operator
    if op in ("eq", "ne") and c.value is None:
        return _condition(Condition(c.field, "is_null", op == "eq", c.case_sensitive))
    if op == "eq":
        return _any(path, f"{column} = ?", [value])
    if op == "ne":
        sql, params = _any(path, f"{column} = ?", [value])
        return f"NOT {sql}", params
    if op in ("in", "nin"):
        values = [_fold(v) if not c.case_sensitive else v for v in c.value]
        sql, params = _any(path, f"{column} IN ({', '.join('?' for _ in values)})", values)
        return (sql if op == "in" else f"NOT {sql}"), params
    if op in ("gt", "gte", "lt", "lte"):
        sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        kind = "j.type = 'text'" if isinstance(c.value, str) else "j.type IN ('integer', 'real')"
        return _any(path, f"{kind} AND j.value {sign} ?", [c.value])
    if op == "contains":
        if isinstance(c.value, str):
            return _any(path, f"j.type = 'text' AND instr({column}, ?) > 0", [value])
        return _any(path, "j.value = ?", [c.value])
    if op == "starts_with":
        return _any(path, f"j.type = 'text' AND substr({column}, 1, ?) = ?", [len(value), value])
    if op == "ends_with":
        return _any(path, f"j.type = 'text' AND substr({column}, ?) = ?", [-len(value), value])
    if op == "exists":
        return f"json_type(d.body, ?) IS {'NOT ' if c.value else ''}NULL", [path]
    # is_null: missing, or JSON null.
    sql = "coalesce(json_type(d.body, ?), 'null') = 'null'"
    return (sql if c.value else f"NOT {sql}"), [path]


def _any(path: str, predicate: str, params: list[Any]) -> tuple[str, list[Any]]:
    """Some value of the field (an array's items, or the scalar) meets the predicate."""
    sql = f"EXISTS (SELECT 1 FROM json_each(d.body, ?) j WHERE {predicate})"
    return sql, [path, *params]  # (the predicate is fixed text from above; values are bound)


def weight(field: str, ranked: Sequence[str]) -> float:
    """The first search field weighs 10, the second 5, the third 3.33...; others nothing."""
    return round(10.0 / (ranked.index(field) + 1), 3) if field in ranked else 0.0


def match_expression(text: str, columns: list[int]) -> str | None:
    words = WORD.findall(text.lower())[:MAX_QUERY_WORDS]
    if not words or not columns:
        return None
    terms = [f'"{word}"' for word in words]
    terms[-1] += "*"
    column_filter = " ".join(f"c{i}" for i in columns)
    return "{" + column_filter + "} : (" + " AND ".join(terms) + ")"


def input_filters(filters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for field, wanted in filters.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            continue
        marks = ", ".join("?" for _ in values)
        # json_each yields an array's items, or a scalar itself: one test covers both.
        clauses.append(
            f" AND EXISTS (SELECT 1 FROM json_each(d.body, ?) WHERE json_each.value IN ({marks}))"
        )
        params.append(json_path(field))
        params.extend(values)
    return "".join(clauses), params


def json_path(field: str) -> str:
    return '$."' + field.replace('"', "") + '"'
