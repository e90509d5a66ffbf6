"""The `typesense` backend: a page over a Typesense collection the publisher already has,
searched on a real Typesense node with a search-only key, through the owner API, the public
execute and the page. Only exposed fields ever leave (the collection has a hidden one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.adapters.conftest import Collection
from tests.helpers import OWNER_KEY, display_config, owner_headers
from tests.web.test_console import sign_in

pytestmark = pytest.mark.typesense

EXPOSED = ["title", "tags", "brand", "price", "stock"]
HIDDEN = "hidden-cost"  # every supplier_cost holds it; none may ever be shown
EXECUTE = "/v1/public/retrievers/lamps/execute"


def backend(shop: Collection, **overrides: Any) -> dict[str, Any]:
    return {
        "type": "typesense",
        "nodes": [shop.node],
        "collection": shop.name,
        "query_by": ["title", "tags"],
        "api_key_secret_name": "ts-key",
        **overrides,
    }


def page_config(**overrides: Any) -> dict[str, Any]:
    brand = {
        "field_name": "brand",
        "label": "Brand",
        "required": False,
        "field_schema": {"type": "string"},
    }
    query = {
        "field_name": "query",
        "label": "Q",
        "required": False,
        "field_schema": {"type": "string"},
    }
    config: dict[str, Any] = {
        "inputs": [query, brand],
        "exposed_fields": EXPOSED,
        "field_config": {},
        "components": {},
    }
    return display_config(**{**config, **overrides})


def publish(client: TestClient, collection: Collection, **overrides: Any) -> str:
    """The secret "ts-key" (the search-only key), a retriever over the collection, published
    as "lamps"; the retriever's id."""
    client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "ts-key", "secret_value": collection.search_key},
    )
    created = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "lamps", "backend": backend(collection, **overrides)},
    )
    assert created.status_code == 200, created.text
    retriever_id: str = created.json()["retriever_id"]
    response = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"public_name": "lamps", "display_config": page_config()},
    )
    assert response.status_code == 200, response.text
    return retriever_id


@pytest.fixture
def client(settings: Settings, typesense_collection: Collection) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        publish(test_client, typesense_collection)
        yield test_client


def search(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post(EXECUTE, json=body)
    assert response.status_code == 200, response.text
    assert HIDDEN not in response.text
    assert "supplier_cost" not in response.text
    answer: dict[str, Any] = response.json()
    return answer


def titles(answer: dict[str, Any]) -> list[str]:
    return [document["title"] for document in answer["documents"]]


def test_words_find_documents_with_exposed_fields_only(client: TestClient) -> None:
    answer = search(client, inputs={"query": "lamp"})
    assert set(titles(answer)) == {
        "Brass desk lamp",
        "Reading lamp <b>bright</b>",
        "Floor lamp",
        "Lamp shade",
    }
    assert answer["pagination"]["total"] == 4
    for document in answer["documents"]:
        assert set(document) <= {*EXPOSED, "document_id", "score", "highlights"}
        assert document["score"] > 0


def test_highlights_mark_the_words_and_escape_the_text(client: TestClient) -> None:
    answer = search(client, inputs={"query": "reading"})
    [document] = answer["documents"]
    assert document["document_id"] == "p2"
    assert document["highlights"]["title"] == (
        "<mark>Reading</mark> lamp &lt;b&gt;bright&lt;/b&gt;"
    )
    # A list's items joined, the matched ones marked.
    answer = search(client, inputs={"query": "garden"})
    [document] = answer["documents"]
    assert document["highlights"] == {
        "title": "<mark>Garden</mark> hose",
        "tags": "<mark>garden</mark>, home",
    }


def test_typos_and_a_prefix_as_the_other_engines_forgive_them(client: TestClient) -> None:
    assert titles(search(client, inputs={"query": "garden hoes"})) == ["Garden hose"]
    assert titles(search(client, inputs={"query": "gard"})) == ["Garden hose"]
    # Typesense's own query syntax is only words here: "-lamp" still finds lamps.
    assert len(titles(search(client, inputs={"query": '-lamp "shade'}))) >= 1


def test_another_input_filters_on_its_field(client: TestClient) -> None:
    answer = search(client, inputs={"query": "lamp", "brand": "Aqua"})
    assert titles(answer) == ["Floor lamp"]
    assert titles(search(client, inputs={"brand": "Shade & Co"})) == ["Lamp shade"]
    # An empty value filters nothing.
    assert search(client, inputs={"brand": ""})["pagination"]["total"] == 5


def test_the_filter_tree(client: TestClient) -> None:
    cheap_lights = {
        "AND": [
            {"field": "tags", "operator": "in", "value": ["light"]},
            {"field": "price", "operator": "lt", "value": 30},
        ]
    }
    answer = search(client, inputs={}, filters=cheap_lights)
    assert sorted(titles(answer)) == ["Lamp shade", "Reading lamp <b>bright</b>"]
    not_lumen = {"NOT": [{"field": "brand", "operator": "eq", "value": "lumen"}]}
    assert sorted(titles(search(client, inputs={}, filters=not_lumen))) == [
        "Floor lamp",
        "Garden hose",
        "Lamp shade",
    ]
    either = {"OR": [{"field": "stock", "operator": "gte", "value": 12}, {"brand": "Lumen"}]}
    assert len(titles(search(client, inputs={}, filters=either))) == 3
    # Numbers as Typesense reads them, whatever their size; a fraction is no int32's value.
    huge = {"field": "price", "operator": "lt", "value": 1e21}
    assert search(client, inputs={}, filters=huge)["pagination"]["total"] == 5
    tiny = {"field": "price", "operator": "gt", "value": 1e-7}
    assert search(client, inputs={}, filters=tiny)["pagination"]["total"] == 5
    response = client.post(EXECUTE, json={"inputs": {}, "filters": {"stock": 1e-7}})
    assert response.status_code == 422, response.text
    assert "stock" in response.json()["error"]["message"]


def test_facets_sort_and_paging(client: TestClient) -> None:
    answer = search(
        client,
        inputs={"query": "lamp"},
        facets=["brand", "stock"],
        sort=[{"field": "price", "direction": "asc"}],
        pagination={"method": "offset", "page_number": 2, "page_size": 2},
    )
    assert titles(answer) == ["Brass desk lamp", "Floor lamp"]
    assert answer["pagination"] | {"total": 4, "has_next": False} == answer["pagination"]
    brands = {c["value"]: c["count"] for c in answer["facets"]["brand"]}
    assert brands == {"Lumen": 2, "Aqua": 1, "Shade & Co": 1}
    stock = {c["value"]: c["count"] for c in answer["facets"]["stock"]}
    assert stock == {3: 1, 0: 1, 1: 1, 7: 1}  # numbers as numbers


def test_a_page_larger_than_typesense_answers_is_refused(client: TestClient) -> None:
    [retriever] = client.get("/v1/retrievers", headers=owner_headers()).json()["results"]
    raised = client.patch(
        f"/v1/retrievers/{retriever['retriever_id']}/publish",
        headers=owner_headers(),
        json={"rate_limit_config": {"max_results_per_query": 1000}},
    )
    assert raised.status_code == 200, raised.text
    paging = {"method": "offset", "page_number": 1, "page_size": 300}
    response = client.post(EXECUTE, json={"inputs": {}, "pagination": paging})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["errors"][0]["field"] == "pagination.page_size"
    assert "250" in response.json()["error"]["message"]
    paging["page_size"] = 250
    assert search(client, inputs={}, pagination=paging)["pagination"]["total"] == 5


def test_the_page_and_a_result_of_its_own(client: TestClient) -> None:
    page = client.get("/r/lamps", params={"query": "lamp", "brand": "Lumen"})
    assert page.status_code == 200, page.text
    assert "Brass desk <mark>lamp</mark>" in page.text
    assert "Floor" not in page.text
    assert "Reading <mark>lamp</mark> &lt;b&gt;bright&lt;/b&gt;" in page.text
    assert HIDDEN not in page.text
    detail = client.get("/r/lamps/d/p%205%2Fx")
    assert detail.status_code == 200, detail.text
    assert "Lamp shade" in detail.text
    assert HIDDEN not in detail.text
    assert client.get("/r/lamps/d/nothing").status_code == 404
    assert client.get("/r/lamps/d/a%60b").status_code == 404  # no filter can name it


def test_no_hidden_field_can_be_asked_for(client: TestClient) -> None:
    for body in (
        {"inputs": {}, "facets": ["supplier_cost"]},
        {"inputs": {}, "sort": [{"field": "supplier_cost", "direction": "asc"}]},
        {"inputs": {}, "filters": {"supplier_cost": "hidden-cost-11"}},
    ):
        response = client.post(EXECUTE, json=body)
        assert response.status_code == 422, response.text
        assert "supplier_cost" in response.text
        assert HIDDEN not in response.text


def where(field: str, operator: str, value: Any) -> dict[str, Any]:
    return {"field": field, "operator": operator, "value": value}


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"facets": ["title"]}, "facets[0]", "facet"),
        ({"sort": [{"field": "title", "direction": "asc"}]}, "sort[0].field", "sort"),
        ({"filters": where("price", "eq", "cheap")}, "filters", "price"),
        ({"filters": where("brand", "exists", True)}, "filters", "exists"),
        ({"filters": where("brand", "contains", "um")}, "filters", "contains"),
        ({"filters": where("brand", "eq", None)}, "filters", "null"),
        ({"filters": {"brand": "Lu`men"}}, "filters", "backtick"),
        ({"filters": {"NOT": [where("price", "gt", 1)]}}, "filters", "NOT"),
        ({"filters": where("brand", "gt", "A")}, "filters", "numbers"),
        ({"filters": {"case_sensitive": True, "AND": [{"brand": "Lumen"}]}}, "filters", "case"),
        ({"inputs": {"brand": "Lu`men"}}, "inputs.brand", "backtick"),
        ({"similar_to": "p1"}, "similar_to", "Typesense"),
    ],
)  # fmt: skip
def test_what_typesense_cannot_carry_is_refused_by_name(
    client: TestClient, body: dict[str, Any], field: str, says: str
) -> None:
    response = client.post(EXECUTE, json={"inputs": {}, **body})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in [e["field"] for e in error["details"]["errors"]], error
    assert says in error["message"], error


def test_the_console_lists_it_as_a_typesense_collection(
    client: TestClient, typesense_collection: Collection
) -> None:
    assert sign_in(client, OWNER_KEY).status_code == 303
    listing = client.get("/console/retrievers")
    assert listing.status_code == 200
    assert f"Typesense: {typesense_collection.name}" in listing.text
    assert "title, tags" in listing.text
    assert typesense_collection.search_key not in listing.text
