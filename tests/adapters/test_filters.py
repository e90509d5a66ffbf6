"""Mixpeek's filter tree in both engines, by words and with vectors (`new_engine`): each
operator, the logic, case folding, and a property check against a plain Python reading of the
same tree."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.adapters.engine import Search, SearchEngine
from app.errors import InvalidInput
from app.schemas.filters import Condition, Filter, Group, parse_filters
from tests.with_vectors import hybrid

EXPOSED = ["title", "brand", "price", "tags", "in_stock", "released", "note"]
DOCUMENTS: list[dict[str, Any]] = [
    {
        "document_id": "a",
        "title": "Desk lamp",
        "brand": "Lumen",
        "price": 30,
        "tags": ["home", "light"],
        "in_stock": True,
        "released": "2025-01-10",
    },
    {
        "document_id": "b",
        "title": "Floor lamp",
        "brand": "lumen",
        "price": 89.5,
        "tags": ["home"],
        "in_stock": False,
        "released": "2024-06-01",
    },
    {
        "document_id": "c",
        "title": "Espresso machine",
        "brand": "Crema",
        "price": 240,
        "tags": ["kitchen"],
        "in_stock": True,
        "released": "2025-03-02",
        "note": None,
    },
    {
        "document_id": "d",
        "title": "Café grinder",
        "brand": "ÉCLAIR",
        "price": 55,
        "tags": [],
        "in_stock": True,
        "released": "2023-11-20",
    },
    {
        "document_id": "e",
        "title": "Hiking boots",
        "brand": "Trail",
        "price": "unknown",
        "in_stock": False,
    },
]


@pytest.fixture
def engine(new_engine: SearchEngine) -> SearchEngine:
    engine = new_engine
    engine.upsert("ns", "products", DOCUMENTS)
    return engine


def ids(engine: SearchEngine, filters: Any, text: str = "") -> list[str]:
    tree = parse_filters(filters, EXPOSED)
    result = engine.search(
        "ns",
        "products",
        Search(fields=["title"], text=text, filters={}, limit=50, offset=0, tree=tree),
    )
    return sorted(hit.document_id for hit in result.hits)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"brand": "lumen"}, ["a", "b"]),  # shorthand, case-folded by default
        ({"brand": "LUMEN", "case_sensitive": True}, []),
        ({"field": "brand", "operator": "eq", "value": "Lumen", "case_sensitive": True}, ["a"]),
        ({"field": "brand", "operator": "eq", "value": "éclair"}, ["d"]),  # not only ASCII
        ({"field": "tags", "operator": "eq", "value": "home"}, ["a", "b"]),  # any item
        ({"field": "brand", "operator": "ne", "value": "lumen"}, ["c", "d", "e"]),
        ({"field": "price", "operator": "gt", "value": 55}, ["b", "c"]),
        ({"field": "price", "operator": "gte", "value": 55}, ["b", "c", "d"]),
        ({"field": "price", "operator": "lt", "value": 55}, ["a"]),  # "unknown" is not a number
        ({"field": "price", "operator": "lte", "value": 30}, ["a"]),
        ({"field": "released", "operator": "gte", "value": "2025-01-01"}, ["a", "c"]),
        ({"field": "brand", "operator": "in", "value": ["crema", "Trail"]}, ["c", "e"]),
        ({"field": "tags", "operator": "nin", "value": ["home", "kitchen"]}, ["d", "e"]),
        ({"field": "title", "operator": "contains", "value": "LAMP"}, ["a", "b"]),
        ({"field": "tags", "operator": "contains", "value": "ligh"}, ["a"]),
        ({"field": "title", "operator": "starts_with", "value": "caf"}, ["d"]),
        ({"field": "title", "operator": "ends_with", "value": "boots"}, ["e"]),
        ({"field": "tags", "operator": "exists", "value": False}, ["e"]),
        ({"field": "note", "operator": "exists", "value": True}, ["c"]),
        ({"field": "note", "operator": "is_null", "value": True}, ["a", "b", "c", "d", "e"]),
        ({"field": "in_stock", "operator": "eq", "value": True}, ["a", "c", "d"]),
        ({"AND": [{"brand": "lumen"}, {"field": "price", "operator": "lt", "value": 50}]}, ["a"]),
        ({"OR": [{"brand": "crema"}, {"brand": "trail"}]}, ["c", "e"]),
        ({"NOT": [{"brand": "lumen"}, {"in_stock": False}]}, ["c", "d"]),
        (
            {
                "AND": [
                    {"OR": [{"brand": "lumen"}, {"brand": "crema"}]},
                    {"NOT": [{"tags": "light"}]},
                ]
            },
            ["b", "c"],
        ),
    ],
)
def test_each_operator_and_the_logic(
    engine: SearchEngine, filters: Any, expected: list[str]
) -> None:
    assert ids(engine, filters) == expected


def test_filters_narrow_a_ranked_search(engine: SearchEngine) -> None:
    assert ids(engine, {"brand": "lumen"}, text="lamp") == ["a", "b"]
    # With vectors, the documents near in meaning come too: every one the filter keeps.
    expected = ["b", "c", "d"] if hybrid(engine) else ["b"]
    assert ids(engine, {"field": "price", "operator": "gt", "value": 50}, text="lamp") == expected


@pytest.mark.parametrize(
    ("filters", "named"),
    [
        ({"cost": 3}, "filters.cost"),  # not exposed
        ({"field": "cost", "operator": "eq", "value": 3}, "filters.field"),
        (
            {"AND": [{"brand": "x"}, {"field": "secret", "operator": "eq", "value": 1}]},
            "filters.AND[1].field",
        ),
        ({"field": "brand", "operator": "regex", "value": ".*"}, "filters.operator"),
        ({"field": "brand", "operator": "like", "value": "x"}, "filters.operator"),
        ({"field": "brand", "operator": "in", "value": "x"}, "filters.value"),
        ({"field": "price", "operator": "gt", "value": True}, "filters.value"),
        ({"field": "price", "operator": "gt", "value": float("inf")}, "filters.value"),
        ({"field": "brand", "operator": "starts_with", "value": ""}, "filters.value"),
        ({"field": "brand", "operator": "eq", "value": {"$ne": 1}}, "filters.value"),
        ({"AND": []}, "filters.AND"),
        ({"AND": "brand"}, "filters.AND"),
        ({"AND": [{"brand": "x"}], "extra": 1}, "filters.extra"),
        ({"brand": "x", "case_sensitive": "yes"}, "filters.case_sensitive"),
        ([{"brand": "x"}], "filters"),
        ({"AND": [{"AND": [{"AND": [{"AND": [{"AND": [{"brand": "x"}]}]}]}]}]}, "filters"),
        ({"field": "brand", "operator": "in", "value": list(range(101))}, "filters.value"),
    ],
)
def test_bad_filters_name_what_is_wrong(filters: Any, named: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_filters(filters, EXPOSED)
    assert raised.value.details["errors"][0]["field"].startswith(named)


def test_too_many_conditions() -> None:
    with pytest.raises(InvalidInput):
        parse_filters({"OR": [{"brand": str(n)} for n in range(51)]}, EXPOSED)


# The same tree, read in plain Python: what the SQL must agree with.
def _values(document: dict[str, Any], field: str) -> list[Any]:
    if field not in document:
        return []
    value = document[field]
    return value if isinstance(value, list) else [value]


def _fold(value: Any, case: bool) -> Any:
    return value.casefold() if isinstance(value, str) and not case else value


def _same(a: Any, b: Any) -> bool:
    """SQLite's `=`: text equals text only; numbers (and JSON true/false as 1/0) by value."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return bool(a == b)


def reference(node: Filter, document: dict[str, Any]) -> bool:
    if isinstance(node, Group):
        results = [reference(child, document) for child in node.children]
        return (
            all(results)
            if node.kind == "AND"
            else any(results)
            if node.kind == "OR"
            else not any(results)
        )
    values = [_fold(v, node.case_sensitive) for v in _values(document, node.field)]
    wanted = _fold(node.value, node.case_sensitive)
    if node.operator == "eq":
        return any(_same(v, wanted) for v in values)
    if node.operator == "ne":
        return not any(_same(v, wanted) for v in values)
    if node.operator in ("gt", "lt"):  # ranges compare like with like, never folded
        text = isinstance(node.value, str)
        kept = [
            v
            for v in _values(document, node.field)
            if (
                isinstance(v, str)
                if text
                else isinstance(v, int | float) and not isinstance(v, bool)
            )
        ]
        return any(v > node.value if node.operator == "gt" else v < node.value for v in kept)
    raise AssertionError(node.operator)


condition = st.builds(
    Condition,
    field=st.sampled_from(["brand", "price", "tags"]),
    operator=st.sampled_from(["eq", "ne", "gt", "lt"]),
    value=st.one_of(st.sampled_from(["lumen", "Lumen", "home", "crema"]), st.integers(0, 300)),
    case_sensitive=st.booleans(),
)
trees = st.recursive(
    condition,
    lambda children: st.builds(
        Group,
        kind=st.sampled_from(["AND", "OR", "NOT"]),
        children=st.lists(children, min_size=1, max_size=3).map(tuple),
    ),
    max_leaves=6,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=trees)
def test_the_engine_agrees_with_a_plain_reading(engine: SearchEngine, tree: Filter) -> None:
    result = engine.search(
        "ns",
        "products",
        Search(fields=["title"], text="", filters={}, limit=50, offset=0, tree=tree),
    )
    found = sorted(hit.document_id for hit in result.hits)
    expected = sorted(d["document_id"] for d in DOCUMENTS if reference(tree, d))
    assert found == expected
