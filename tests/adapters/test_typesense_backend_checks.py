"""The `typesense` backend's bad input and bad days, on a real Typesense node: a config refused
at create, patch and publish by a 422 naming its field; nodes under the upstream address
policy; a key that goes nowhere new; every node down, or the key refused, a 503 naming
Typesense that never shows the key or a node's address."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.adapters.conftest import Collection
from tests.adapters.test_typesense_backend import EXECUTE, backend, page_config, publish
from tests.helpers import owner_headers
from tests.servers import free_port

pytestmark = pytest.mark.typesense


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def dead_node() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def with_key(client: TestClient, value: str, name: str = "ts-key") -> None:
    response = client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": name, "secret_value": value},
    )
    assert response.status_code == 200, response.text


def create(client: TestClient, config: dict[str, Any], **body: Any) -> Any:
    return client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "lamps", "backend": config, **body},
    )


def publish_it(client: TestClient, retriever_id: str, **config: Any) -> Any:
    return client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"public_name": "lamps", "display_config": page_config(**config)},
    )


def refused(response: Any, field: str, *words: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert [e["field"] for e in error["details"]["errors"]] == [field], error
    for word in words:
        assert word in error["message"], error


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"nodes": []}, "backend.typesense.nodes"),
        ({"nodes": ["ftp://127.0.0.1:8108"]}, "backend.typesense.nodes[0]"),
        ({"nodes": ["http://127.0.0.1:1", "http://127.0.0.1:1/"]}, "backend.typesense.nodes"),
        ({"nodes": ["http://user:pw@127.0.0.1:8108"]}, "backend.nodes[0]"),
        ({"nodes": ["http://127.0.0.1:8108/?x=1"]}, "backend.nodes[0]"),
        ({"nodes": 8108}, "backend.typesense.nodes"),
        ({"collection": "a/b"}, "backend.typesense.collection"),
        ({"collection": ".."}, "backend.typesense.collection"),
        ({"query_by": []}, "backend.typesense.query_by"),
        ({"query_by": ["title", "title"]}, "backend.typesense.query_by"),
        ({"query_by": ["no spaces"]}, "backend.typesense.query_by[0]"),
        ({"api_key_secret_name": "nobody"}, "backend.api_key_secret_name"),
    ],
)
def test_a_bad_config_is_refused_at_create_by_its_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    with_key(client, "any")
    config = backend(Collection("shop", "http://127.0.0.1:8108", "", None), **change)  # type: ignore[arg-type]
    refused(create(client, config), field)
    assert client.get("/v1/retrievers", headers=owner_headers()).json()["total"] == 0


def test_one_node_may_be_given_as_a_url(
    client: TestClient, typesense_collection: Collection
) -> None:
    with_key(client, typesense_collection.search_key)
    response = create(client, backend(typesense_collection, nodes=typesense_collection.node))
    assert response.status_code == 200, response.text
    assert response.json()["backend"]["nodes"] == [typesense_collection.node]
    assert response.json()["stages"][0]["stage_name"] == "typesense_search"


def test_nodes_are_under_the_upstream_address_policy(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(upstream_allow=[])
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        with_key(client, "any")
        shop = Collection("shop", "http://8.8.8.8:8108", "", None)  # type: ignore[arg-type]
        for nodes, field in (
            (["http://127.0.0.1:8108"], "backend.nodes[0]"),
            (["http://8.8.8.8:8108", "http://10.0.0.7:8108"], "backend.nodes[1]"),
            (["http://169.254.169.254"], "backend.nodes[0]"),
            (["http://2130706433:8108"], "backend.nodes[0]"),
        ):
            response = create(client, backend(shop, nodes=nodes))
            refused(
                response, field, field, "RETRIEVER_PAGES_UPSTREAM_ALLOW" if "[1]" in field else ""
            )
        assert create(client, backend(shop)).status_code == 200


def test_query_by_must_be_exposed(client: TestClient, typesense_collection: Collection) -> None:
    with_key(client, typesense_collection.search_key)
    hidden = backend(typesense_collection, query_by=["title", "supplier_cost"])
    refused(
        create(client, hidden, display_config=page_config()),
        "backend.query_by",
        "supplier_cost",
        "exposed_fields",
    )
    retriever_id = create(client, hidden).json()["retriever_id"]
    refused(publish_it(client, retriever_id), "backend.query_by", "supplier_cost")
    refused(
        client.patch(
            f"/v1/retrievers/{retriever_id}",
            headers=owner_headers(),
            json={"display_config": page_config()},
        ),
        "backend.query_by",
    )


@pytest.mark.parametrize(
    ("change", "key", "field", "says"),
    [
        ({"collection": "no_such_shop"}, "admin", "backend.collection", "no_such_shop"),
        ({"collection": "no_such_shop"}, "search", "backend.api_key_secret_name", "refused"),
        ({}, "wrong", "backend.api_key_secret_name", "refused"),
        ({"query_by": ["title", "colour"]}, "search", "backend.query_by", "colour"),
        ({"query_by": ["price"]}, "search", "backend.query_by", "price"),
    ],
)
def test_publish_checks_the_collection_on_typesense(
    client: TestClient,
    typesense_collection: Collection,
    change: dict[str, Any],
    key: str,
    field: str,
    says: str,
) -> None:
    keys = {"admin": "typesense-test-key", "search": typesense_collection.search_key}
    with_key(client, keys.get(key, "not-a-key-0123"))
    config = backend(typesense_collection, **change)
    retriever_id = create(client, config).json()["retriever_id"]
    exposed = ["title", "tags", "brand", "price", "stock", "colour"]
    response = publish_it(client, retriever_id, exposed_fields=exposed)
    refused(response, field, says)
    assert "not-a-key" not in response.text
    assert typesense_collection.search_key not in response.text
    published = client.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers())
    assert published.status_code == 404


def test_a_key_is_sent_to_no_new_node(client: TestClient, typesense_collection: Collection) -> None:
    live, dead = typesense_collection.node, dead_node()
    with_key(client, typesense_collection.search_key)
    first = create(client, backend(typesense_collection, nodes=[live, dead]))
    assert first.status_code == 200, first.text
    fewer = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "fewer", "backend": backend(typesense_collection, nodes=[dead])},
    )
    assert fewer.status_code == 200, fewer.text
    elsewhere = backend(typesense_collection, nodes=[live, f"http://127.0.0.1:{free_port()}"])
    response = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "elsewhere", "backend": elsewhere},
    )
    refused(response, "backend.api_key_secret_name", "first used with")
    # A key is never a page's password.
    retriever_id = first.json()["retriever_id"]
    assert publish_it(client, retriever_id).status_code == 200
    password = client.patch(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"password_secret_name": "ts-key"},
    )
    refused(password, "password_secret_name", "key")


def test_every_node_down_is_a_503_naming_typesense(
    client: TestClient, typesense_collection: Collection, caplog: pytest.LogCaptureFixture
) -> None:
    dead = dead_node()
    retriever_id = publish(client, typesense_collection, nodes=[typesense_collection.node, dead])
    # Searches go to each node in turn; the dead one hands them to the live one.
    for _ in range(4):
        assert client.post(EXECUTE, json={"inputs": {"query": "lamp"}}).status_code == 200
    moved = client.patch(
        f"/v1/retrievers/{retriever_id}",
        headers=owner_headers(),
        json={"backend": backend(typesense_collection, nodes=[dead])},
    )
    assert moved.status_code == 200, moved.text
    with caplog.at_level(logging.DEBUG):
        response = client.post(EXECUTE, json={"inputs": {"query": "lamp"}})
        page = client.get("/r/lamps", params={"query": "lamp"})
    assert response.status_code == 503, response.text
    error = response.json()["error"]
    assert error["type"] == "upstream_unavailable"
    assert error["details"] == {"upstream": "typesense", "reason": "unreachable"}
    assert "Typesense" in error["message"]
    assert response.headers["retry-after"] == "5"
    assert page.status_code == 503
    for text in (response.text, page.text, caplog.text):
        assert typesense_collection.search_key not in text
        assert dead.split("//")[1] not in text


def test_a_refused_key_is_a_503_that_never_shows_it(
    client: TestClient, typesense_collection: Collection, caplog: pytest.LogCaptureFixture
) -> None:
    publish(client, typesense_collection)
    replaced = client.put(
        "/v1/organizations/secrets/ts-key",
        headers=owner_headers(),
        json={"secret_value": "revoked-key-0123456789"},
    )
    assert replaced.status_code == 200, replaced.text
    with caplog.at_level(logging.DEBUG):
        response = client.post(EXECUTE, json={"inputs": {"query": "lamp"}, "skip_cache": True})
    assert response.status_code == 503, response.text
    assert response.json()["error"]["details"]["reason"] == "key_refused"
    assert "Typesense" in response.json()["error"]["message"]
    for text in (response.text, caplog.text):
        assert "revoked-key" not in text
        assert typesense_collection.search_key not in text


def test_publish_while_typesense_is_down_is_a_503(
    client: TestClient, typesense_collection: Collection
) -> None:
    with_key(client, typesense_collection.search_key)
    retriever_id = create(client, backend(typesense_collection, nodes=[dead_node()])).json()[
        "retriever_id"
    ]
    response = publish_it(client, retriever_id)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["details"]["upstream"] == "typesense"


def test_what_needs_the_embedded_engine_is_refused_for_the_page(
    client: TestClient, typesense_collection: Collection
) -> None:
    with_key(client, typesense_collection.search_key)
    retriever_id = create(client, backend(typesense_collection)).json()["retriever_id"]
    panel = publish_it(client, retriever_id, components={"show_filters": True})
    refused(panel, "display_config.components.show_filters", "Typesense")
    rules = client.put(
        f"/v1/retrievers/{retriever_id}/relevance",
        headers=owner_headers(),
        json={"stop_words": ["the"]},
    )
    refused(rules, "backend", "typesense")


def test_the_sdk_stages_describe_the_same_backend(
    client: TestClient, typesense_collection: Collection
) -> None:
    with_key(client, typesense_collection.search_key)
    config = backend(typesense_collection)
    parameters = {key: value for key, value in config.items() if key != "type"}
    stage = {
        "stage_name": "s",
        "config": {"stage_id": "typesense_search", "parameters": parameters},
    }
    response = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "staged", "stages": [stage]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["backend"] == config
    bad = {**stage, "config": {**stage["config"], "parameters": {**parameters, "nodes": []}}}
    response = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "staged-2", "stages": [bad]},
    )
    assert response.status_code == 422, response.text
    assert "nodes" in response.text


def test_a_collection_changed_since_publishing_is_no_500(
    client: TestClient, typesense_collection: Collection
) -> None:
    publish(client, typesense_collection)
    fields = typesense_collection.admin.collections[typesense_collection.name]
    fields.update({"fields": [{"name": "tags", "drop": True}]})
    response = client.post(EXECUTE, json={"inputs": {"query": "lamp"}})
    assert response.status_code == 502, response.text
    assert "may have changed" in response.json()["error"]["message"]
    assert typesense_collection.name not in response.text
