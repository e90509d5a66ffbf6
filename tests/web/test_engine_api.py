"""The engine's search features through the public execute: highlights, facets, sorting and
similar documents, each only over exposed fields, and refused by name where they cannot work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, owner_headers, publish_local, publish_over_upstream

EXPOSED = ["title", "description", "brand", "price", "tags"]
DOCUMENTS = [
    {
        "document_id": "h1",
        "title": "Travel headphones",
        "description": "Fold-flat <i>headphones</i> for trains",
        "brand": "Lumen",
        "price": 129,
        "tags": ["travel", "audio"],
        "supplier": "Acme secret supplier",
    },
    {
        "document_id": "h2",
        "title": "Studio headphones",
        "description": "Open-back headphones for mixing",
        "brand": "Crema",
        "price": 249,
        "tags": ["audio"],
        "supplier": "Acme secret supplier",
    },
    {
        "document_id": "s1",
        "title": "Travel speaker",
        "description": "Waterproof, for the beach",
        "brand": "Lumen",
        "price": 59,
        "tags": ["travel", "audio"],
        "supplier": "Acme secret supplier",
    },
    {
        "document_id": "m1",
        "title": "Travel mug",
        "description": "Keeps coffee hot",
        "brand": "Crema",
        "tags": ["travel", "kitchen"],
        "supplier": "Acme secret supplier",
    },
]


@pytest.fixture
def client(make_settings: Callable[..., Settings], database_url: str) -> Iterator[TestClient]:
    """A server on each store: with PostgreSQL, its collections are in PostgreSQL too."""
    settings = make_settings(database_url=database_url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    added = client.post(
        "/v1/collections/products/documents",
        headers=owner_headers(),
        json={"documents": DOCUMENTS},
    )
    assert added.status_code == 200, added.text
    publish_local(client, "shop", EXPOSED)
    return client


def execute(client: TestClient, **body: Any) -> Any:
    body.setdefault("inputs", {})
    return client.post("/v1/public/retrievers/shop/execute", json=body)


def ids(answer: Any) -> list[str]:
    return [d["document_id"] for d in answer.json()["documents"]]


def test_highlights_mark_matches_and_escape_the_rest(shop: TestClient) -> None:
    answer = execute(shop, inputs={"query": "headphones"})
    assert answer.status_code == 200, answer.text
    first = answer.json()["documents"][0]
    assert first["highlights"]["title"].endswith("<mark>headphones</mark>")
    if first["document_id"] == "h1":
        assert first["highlights"]["description"] == (
            "Fold-flat &lt;i&gt;<mark>headphones</mark>&lt;/i&gt; for trains"
        )
    for document in answer.json()["documents"]:  # the hidden field, nowhere
        assert "supplier" not in document
        assert "Acme" not in str(document)
    assert execute(shop, inputs={"query": "acme"}).json()["documents"] == []  # nor searched


def test_facets_count_every_match(shop: TestClient) -> None:
    answer = execute(shop, inputs={"query": "travel"}, facets=["brand", "tags"], limit=1)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["pagination"]["total"] == 3
    assert body["facets"]["brand"] == [
        {"value": "Lumen", "count": 2},
        {"value": "Crema", "count": 1},
    ]
    assert body["facets"]["tags"][0] == {"value": "travel", "count": 3}
    assert "facets" not in execute(shop, inputs={"query": "travel"}).json()


def test_sorting_by_price_both_ways(shop: TestClient) -> None:
    up = execute(shop, sort=[{"field": "price", "direction": "asc"}])
    assert ids(up) == ["s1", "h1", "h2", "m1"]  # the mug has no price: last
    down = execute(shop, sort=[{"field": "price"}])
    assert ids(down) == ["h2", "h1", "s1", "m1"]


def test_similar_documents(shop: TestClient) -> None:
    answer = execute(shop, similar_to="h1")
    assert answer.status_code == 200, answer.text
    assert "h1" not in ids(answer)
    assert ids(answer)[0] == "h2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"facets": ["supplier"]}, "facets[0]"),  # hidden: counting it would leak it
        ({"facets": ["brand", "supplier"]}, "facets[1]"),
        ({"facets": ["x"] * 11}, "facets"),
        ({"facets": "brand"}, "facets"),
        ({"sort": [{"field": "supplier"}]}, "sort[0]"),
        ({"sort": [{"field": "title"}]}, "sort[0].field"),  # no numbers or dates
        ({"sort": [{"field": "price", "direction": "up"}]}, "sort[0].direction"),
        ({"sort": [{"field": "price"}, {"field": "price"}]}, "sort"),
        ({"sort": {"field": "price"}}, "sort"),
        ({"similar_to": "nope"}, "similar_to"),
        ({"similar_to": ""}, "similar_to"),
        ({"similar_to": "x" * 501}, "similar_to"),
    ],
)
def test_bad_options_are_refused_by_name(shop: TestClient, body: Any, field: str) -> None:
    answer = execute(shop, **body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert field in str(error), error


@pytest.mark.parametrize(
    "body", [{"facets": ["title"]}, {"sort": [{"field": "title"}]}, {"similar_to": "a"}]
)
def test_an_upstream_retriever_refuses_engine_only_options(client: TestClient, body: Any) -> None:
    publish_over_upstream(client, "remote", "http://127.0.0.1:9", browse_config(), "sk_up")
    answer = client.post(
        "/v1/public/retrievers/remote/execute", json={"inputs": {}, **body}
    )  # refused before any call upstream
    assert answer.status_code == 422, answer.text
    assert next(iter(body)) in answer.json()["error"]["message"]


@pytest.mark.postgres
def test_servers_on_one_postgresql_store_share_collections(
    make_settings: Callable[..., Settings], postgres_database: str, tmp_path: Path
) -> None:
    """Documents posted to one server are found through another on the same store: nothing
    lives in either one's data directory."""
    first = make_settings(database_url=postgres_database, data_dir=tmp_path / "one")
    second = make_settings(database_url=postgres_database, data_dir=tmp_path / "two")
    with (
        TestClient(create_app(first), raise_server_exceptions=False) as one,
        TestClient(create_app(second), raise_server_exceptions=False) as two,
    ):
        added = one.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        assert added.status_code == 200, added.text
        publish_local(two, "shop", EXPOSED)
        assert set(ids(execute(two, inputs={"query": "travel"}))) == {"h1", "s1", "m1"}
        gone = one.delete("/v1/collections/products/documents/s1", headers=owner_headers())
        assert gone.status_code in (200, 204), gone.text
        assert set(ids(execute(two, inputs={"query": "travel"}))) == {"h1", "m1"}
        assert ids(execute(two, inputs={"query": "hedphones"}))[:1] in (["h1"], ["h2"])
    assert not (tmp_path / "one" / "engine.db").exists()
