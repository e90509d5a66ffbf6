"""The filters panel counted again on a thread (`services/browse.py`) while PostgreSQL, under
the store and the engine, is stopped: the panel kept from before is still offered (no page
waits, nothing is lost), a recount that failed is not kept, and the next one, once the store
is back, counts what is there; the page says the store is down meanwhile (503, never a 500)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.services.browse import CHOICES_SECONDS, Browse
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, local_backend, owner_headers, publish_backend
from tests.servers import PostgresServer
from tests.services.test_browse import DOCUMENTS

BIRCH = {"document_id": "6", "title": "Desk", "brand": "Birch", "price": 80, "tags": []}
BRANDS = {"Lumen", "Kestrel", "Fjord"}
WITHIN_SECONDS = 10.0
Shop = tuple[Browse, Any, TestClient, list[float]]


@pytest.fixture
def shop(make_settings: Callable[..., Settings], postgres_server: PostgresServer) -> Iterator[Shop]:
    """The page "shop" over DOCUMENTS with its filters panel, on PostgreSQL; the browse
    service on a clock of the test's (`now[0]`)."""
    settings = make_settings(database_url=postgres_server.url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        _upload(client, DOCUMENTS)
        config = browse_config(
            exposed_fields=["title", "brand", "price", "tags"],
            field_config={},
            components={"show_filters": True},
        )
        publish_backend(client, "shop", {**local_backend(), "search_fields": ["title"]}, config)
        services = client.app.state.services  # type: ignore[attr-defined]
        retriever = client.portal.call(services.catalog.lookup, "shop")
        now = [1000.0]
        services.browse.monotonic = lambda: now[0]
        yield services.browse, retriever, client, now


def _upload(client: TestClient, documents: list[dict[str, Any]]) -> None:
    answer = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": documents}
    )
    assert answer.status_code == 200, answer.text


def _brands(shop: Shop) -> set[Any]:
    """The brands the panel offers now, asked on the app's own event loop."""
    service, retriever, client, _ = shop
    choices = client.portal.call(service.choices, retriever)
    return {value for facet in choices.facets if facet.name == "brand" for value in facet.values}


def _until(shop: Shop, brands: set[str]) -> None:
    deadline = time.monotonic() + WITHIN_SECONDS
    while (offered := _brands(shop)) != brands:
        assert time.monotonic() < deadline, offered
        time.sleep(0.05)


def test_the_store_down_during_a_recount_the_kept_panel_stays_and_the_next_one_counts(
    shop: Shop, postgres_server: PostgresServer
) -> None:
    client, now = shop[2], shop[3]
    assert _brands(shop) == BRANDS
    _upload(client, [BIRCH])
    now[0] += CHOICES_SECONDS + 1  # the panel is due to be counted again
    postgres_server.stop()
    try:
        # Each ask offers the kept panel at once and starts a recount on a thread, which
        # fails; a failed one is not kept in its place.
        for _ in range(5):
            began = time.monotonic()
            assert _brands(shop) == BRANDS
            assert time.monotonic() - began < 1.0
            time.sleep(0.2)
        page = client.get("/r/shop", params={"query": "desk"})
        assert page.status_code == 503, page.text[:300]
        assert "not answering" in page.text
    finally:
        postgres_server.start()
    _until(shop, BRANDS | {"Birch"})  # the next recount counts what is stored
    page = client.get("/r/shop", params={"query": "desk"})
    assert page.status_code == 200
    assert "layout--filters" in page.text
    assert "Birch" in page.text


def test_no_panel_kept_and_the_store_down_the_panel_comes_back_with_the_store(
    shop: Shop, postgres_server: PostgresServer
) -> None:
    postgres_server.stop()
    try:
        assert _brands(shop) == set()  # nothing to offer, and nothing kept
        assert _brands(shop) == set()
    finally:
        postgres_server.start()
    assert _brands(shop) == BRANDS  # at once, not a minute later
    page = shop[2].get("/r/shop", params={"query": "desk"})
    assert page.status_code == 200
    assert "layout--filters" in page.text
