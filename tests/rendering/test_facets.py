"""The facets of a search page, asked directly: what a URL picks, the filter tree the picks
make, the links that drop them, and the panel as drawn."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams

from app.rendering.facets import (
    Choices,
    RangeFacet,
    RangePick,
    ValuesFacet,
    ValuesPick,
    classify,
    select,
    sort_options,
)
from app.rendering.filters import canonical, chips, clear_url, panel
from app.schemas.filters import Condition, Group
from app.schemas.search import FacetCount, Sort

BRAND = ValuesFacet("brand", "Brand", ("Lumen", "Kestrel", "Fjord"))
STOCK = ValuesFacet("in_stock", "In stock", (True, False))
PRICE = RangeFacet("price", "Price", low=15, high=300)
CHOICES = Choices((BRAND, STOCK, PRICE), sort_options([("price", "Price")], []))


def _label(name: str, value: Any) -> str:
    return ("Yes" if value else "No") if isinstance(value, bool) else str(value)


def test_only_offered_values_are_picked_each_once() -> None:
    chosen = select(
        QueryParams("f.brand=Lumen&f.brand=Nobody&f.brand=Lumen&f.brand=Fjord"), CHOICES
    )
    assert chosen.picks == {"brand": ValuesPick(BRAND, ("Lumen", "Fjord"))}


def test_a_picked_boolean_filters_by_the_stored_value() -> None:
    chosen = select(QueryParams("f.in_stock=true"), CHOICES)
    assert chosen.tree() == Condition("in_stock", "in", [True])


def test_a_range_reads_either_end_and_puts_them_in_order() -> None:
    assert select(QueryParams("f.price.min=50"), CHOICES).tree() == Condition("price", "gte", 50)
    both = select(QueryParams("f.price.min=80&f.price.max=20.5"), CHOICES)
    assert both.picks["price"] == RangePick(PRICE, 20.5, 80)
    assert both.tree() == Group(
        "AND", (Condition("price", "gte", 20.5), Condition("price", "lte", 80))
    )


def test_a_bound_that_is_not_a_number_is_named_and_left_out() -> None:
    chosen = select(QueryParams("f.price.min=cheap&f.price.max=1e99"), CHOICES)
    assert chosen.picks == {}
    assert chosen.errors == {
        "f.price.min": "must be a number",
        "f.price.max": "must be a number between -10^15 and 10^15",
    }


def test_the_picks_make_one_tree_and_leave_one_field_out_for_its_counts() -> None:
    chosen = select(QueryParams("f.brand=Kestrel&f.price.max=100"), CHOICES)
    brand = Condition("brand", "in", ["Kestrel"])
    price = Condition("price", "lte", 100)
    assert chosen.tree() == Group("AND", (brand, price))
    assert chosen.tree(without="brand") == price
    assert select(QueryParams(""), CHOICES).tree() is None


def test_sort_and_similar_to_are_read_from_the_url() -> None:
    chosen = select(QueryParams("sort=-price&similar_to=%20d7%20"), CHOICES)
    assert chosen.sort is not None
    assert chosen.sort.sort == Sort("price", "desc")
    assert chosen.similar_to == "d7"
    assert select(QueryParams("sort=brand"), CHOICES).sort is None  # not on the menu


def test_links_keep_what_means_something_and_drop_one_filter_at_a_time() -> None:
    items = [
        ("query", "lamp"),
        ("f.brand", "Lumen"),
        ("f.brand", "Lumen"),
        ("f.brand", "Kestrel"),
        ("f.colour", "red"),  # not offered
        ("f.price.min", "10"),
        ("utm_source", "mail"),
        ("page", "3"),
    ]
    chosen = select(QueryParams(items), CHOICES)
    kept = canonical(items, ["query"], chosen)
    assert kept == [
        ("query", "lamp"),
        ("f.brand", "Lumen"),
        ("f.brand", "Kestrel"),
        ("f.price.min", "10"),
        ("page", "3"),
    ]
    drawn = {chip.label: chip.remove_url for chip in chips("/r/shop", kept, chosen, _label)}
    assert drawn == {
        "Brand: Lumen": "/r/shop?query=lamp&f.brand=Kestrel&f.price.min=10",
        "Brand: Kestrel": "/r/shop?query=lamp&f.brand=Lumen&f.price.min=10",
        "Price: 10 or more": "/r/shop?query=lamp&f.brand=Lumen&f.brand=Kestrel",
    }
    assert clear_url("/r/shop", kept, chosen) == "/r/shop?query=lamp"


def test_the_panel_lists_picked_values_first_and_keeps_one_that_matches_nothing() -> None:
    chosen = select(QueryParams("f.brand=Fjord&f.price.max=99"), CHOICES)
    counts = {
        "brand": [FacetCount("Lumen", 7), FacetCount("Kestrel", 2)],
        "in_stock": [FacetCount(True, 5), FacetCount(False, 4)],
    }
    brand, stock, price = panel(CHOICES, chosen, counts, _label)
    assert [(o.token, o.count, o.checked) for o in brand.options] == [
        ("Fjord", 0, True),
        ("Lumen", 7, False),
        ("Kestrel", 2, False),
    ]
    assert [(o.token, o.label) for o in stock.options] == [("true", "Yes"), ("false", "No")]
    assert (price.facet, price.low, price.high) == (PRICE, "", "99")


def test_a_values_facet_with_nothing_counted_is_not_drawn() -> None:
    drawn = panel(CHOICES, select(QueryParams(""), CHOICES), {"brand": []}, _label)
    assert [field.facet.name for field in drawn] == ["price"]


def test_fields_are_offered_by_what_they_hold() -> None:
    def kind(values: list[tuple[Any, int]], chosen: bool = False) -> str | None:
        facet, _, _ = classify("f", "F", [FacetCount(v, c) for v, c in values], 100, chosen)
        return None if facet is None else facet.kind

    assert kind([("Lumen", 40), ("Fjord", 60)]) == "values"
    assert kind([(True, 30), (False, 70)]) == "values"
    assert kind([(1, 50), (2, 50)]) == "values"  # few whole numbers: boxes
    assert kind([(n + 0.5, 1) for n in range(40)]) == "range"
    assert kind([(f"name {n}", 1) for n in range(100)]) is None  # every value its own
    assert kind([(f"name {n}", 1) for n in range(100)], chosen=True) == "values"
    assert kind([("2024-01-02", 10)]) is None  # dates sort, they do not filter
    assert kind([]) is None
