"""The searches behind a search page (`services/browse.py`), asked directly: what the panel
and the sort menu offer, and a page of results with the panel's disjunctive counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from app.rendering.facets import RangeFacet, Selection, ValuesFacet, ValuesPick
from app.schemas.search import FacetCount
from app.services.access import Caller
from app.services.browse import Browse
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, local_backend, owner_headers, publish_backend

DOCUMENTS = [
    {"document_id": "1", "title": "Desk lamp", "brand": "Lumen", "price": 45, "tags": ["home"]},
    {"document_id": "2", "title": "Floor lamp", "brand": "Lumen", "price": 120, "tags": ["home"]},
    {"document_id": "3", "title": "Desk fan", "brand": "Kestrel", "price": 60, "tags": ["home"]},
    {"document_id": "4", "title": "Oak desk", "brand": "Fjord", "price": 300, "tags": ["office"]},
    {"document_id": "5", "title": "Lamp shade", "brand": "Fjord", "price": 15, "tags": []},
]
CALLER = Caller(ip="192.0.2.9")


@pytest.fixture
def browse(shop: tuple[Browse, Any, TestClient]) -> tuple[Browse, Any]:
    return shop[0], shop[1]


@pytest.fixture
def shop(settings: Settings) -> Iterator[tuple[Browse, Any, TestClient]]:
    with TestClient(create_app(settings)) as client:
        client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        config = browse_config(
            exposed_fields=["title", "brand", "price", "tags"],
            field_config={},
            components={"show_filters": True},
        )
        backend = {**local_backend(), "search_fields": ["title"]}
        publish_backend(client, "shop", backend, config)
        services = client.app.state.services  # type: ignore[attr-defined]
        retriever = anyio.run(services.catalog.lookup, "shop")
        yield services.browse, retriever, client


def test_the_panel_and_sort_menu_are_read_off_the_collection(browse: tuple[Browse, Any]) -> None:
    service, retriever = browse
    choices = anyio.run(service.choices, retriever)
    offered = {facet.name: facet for facet in choices.facets}
    assert set(offered) == {"brand", "price", "tags"}  # never the title
    brand, price = offered["brand"], offered["price"]
    assert isinstance(brand, ValuesFacet)
    assert set(brand.values) == {"Lumen", "Kestrel", "Fjord"}
    assert isinstance(price, RangeFacet)
    assert (price.low, price.high) == (15, 300)
    assert [option.key for option in choices.sorts] == ["price", "-price"]


def test_counts_of_a_picked_field_ignore_its_own_picks(browse: tuple[Browse, Any]) -> None:
    service, retriever = browse
    choices = anyio.run(service.choices, retriever)
    [brand] = [facet for facet in choices.facets if facet.name == "brand"]
    assert isinstance(brand, ValuesFacet)
    chosen = Selection({"brand": ValuesPick(brand, ("Lumen",))})

    async def search() -> Any:
        return await service.search(retriever, CALLER, {"query": "lamp"}, chosen, choices, 1, 20)

    result = anyio.run(search)
    assert [d["document_id"] for d in result.answer.results.documents] == ["1", "2"]
    # Brand counts as if no brand were picked (what ticking another would add), the other
    # fields' counts within the pick.
    assert _counts(result.counts["brand"]) == {"Lumen": 2, "Fjord": 1}
    assert _counts(result.counts["tags"]) == {"home": 2}


def test_a_similar_list_leaves_the_text_out(browse: tuple[Browse, Any]) -> None:
    service, retriever = browse
    choices = anyio.run(service.choices, retriever)
    chosen = Selection(similar_to="1")

    async def search() -> Any:
        return await service.search(retriever, CALLER, {"query": "oak"}, chosen, choices, 1, 20)

    found = [d["document_id"] for d in anyio.run(search).answer.results.documents]
    assert "4" not in found[:1]  # "oak" is not what the list is about: desk lamp's kin are
    assert found[0] in ("2", "3")


def test_a_minute_on_the_panel_kept_is_offered_while_it_is_counted_again(
    shop: tuple[Browse, Any, TestClient],
) -> None:
    service, retriever, client = shop
    now = [1000.0]
    service.monotonic = lambda: now[0]
    assert _brands(anyio.run(service.choices, retriever)) == {"Lumen", "Kestrel", "Fjord"}
    added = {"document_id": "6", "title": "Desk", "brand": "Birch", "price": 80, "tags": []}
    client.post("/v1/collections/products/documents", headers=owner_headers(),
                json={"documents": [added]})  # fmt: skip
    now[0] += 30
    assert "Birch" not in _brands(anyio.run(service.choices, retriever))  # kept a minute

    async def a_minute_on() -> tuple[set[Any], set[Any]]:
        now[0] += 31
        at_once = _brands(await service.choices(retriever))
        for _ in range(200):  # counted again meanwhile, off the event loop
            await anyio.sleep(0.01)
            if "Birch" in (then := _brands(await service.choices(retriever))):
                break
        return at_once, then

    at_once, then = anyio.run(a_minute_on)
    assert at_once == {"Lumen", "Kestrel", "Fjord"}  # no page waits for the count
    assert then == {"Lumen", "Kestrel", "Fjord", "Birch"}


def _brands(choices: Any) -> set[Any]:
    [brand] = [facet for facet in choices.facets if facet.name == "brand"]
    return set(brand.values)


def _counts(counted: list[FacetCount]) -> dict[Any, int]:
    return {c.value: c.count for c in counted}
