"""`POST /v1/public/pages/{slug}/search`: every tab's results and the merged list, or one tab
(Mixpeek's `tab_id` call); exposed fields only; each tab in its own limits and password."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import owner_headers
from tests.page_sites import PASSWORD, SECRET, build

URL = "/v1/public/pages/everything/search"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def ids(client: TestClient) -> dict[str, str]:
    return build(client)


def by_tab(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {tab["tab_id"]: tab for tab in body["tabs"]}


def test_every_tab_answers_and_the_lists_are_merged(
    client: TestClient, ids: dict[str, str]
) -> None:
    answer = client.post(URL, json={"query": "lamp", "page_size": 5})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    tabs = by_tab(body)
    assert list(tabs) == ["products", "help", "staff", "partners"]
    assert tabs["products"]["status"] == "ok"
    assert tabs["products"]["total"] == 2
    assert {d["document_id"] for d in tabs["help"]["documents"]} == {"a1", "a2"}
    assert tabs["staff"]["status"] == "error"
    assert tabs["staff"]["error"]["status"] == 401
    assert tabs["partners"]["status"] == "error"
    assert tabs["partners"]["error"]["status"] in (502, 503, 504)
    merged = [(m["tab_id"], m["document"]["document_id"]) for m in body["merged"]]
    assert merged == [("products", "p1"), ("help", "a1"), ("products", "p2"), ("help", "a2")]
    assert body["merged"][0]["rrf_score"] == round(1 / 61, 8)
    shown = {"document_id", "score", "highlights", "title", "description", "price"}
    assert set(body["merged"][0]["document"]) == shown


def test_a_password_opens_its_tab(client: TestClient, ids: dict[str, str]) -> None:
    answer = client.post(URL, json={"query": "lamp"}, headers={"X-Retriever-Password": PASSWORD})
    assert by_tab(answer.json())["staff"]["status"] == "ok"


def test_one_tab_with_its_own_inputs(client: TestClient, ids: dict[str, str]) -> None:
    answer = client.post(URL, json={"tab_id": "help", "inputs": {"query": "returns"}})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [t["tab_id"] for t in body["tabs"]] == ["help"]
    assert [d["document_id"] for d in body["tabs"][0]["documents"]] == ["a2"]
    assert [m["document"]["document_id"] for m in body["merged"]] == ["a2"]
    # Mixpeek's extra top-level fields are inputs too.
    flat = client.post(URL, json={"tab_id": "help", "query": "fixing"}).json()
    assert [d["document_id"] for d in flat["tabs"][0]["documents"]] == ["a1"]


def test_no_hidden_field_leaves_through_the_call(client: TestClient, ids: dict[str, str]) -> None:
    for body in ({"query": "lamp"}, {"tab_id": "products", "query": "lamp"}):
        answer = client.post(URL, json=body, headers={"X-Retriever-Password": PASSWORD})
        assert SECRET not in answer.text
        assert "supplier" not in json.dumps(answer.json())


def test_each_tab_counts_in_its_own_limits(client: TestClient, ids: dict[str, str]) -> None:
    client.patch(
        f"/v1/retrievers/{ids['shop']}/publish",
        headers=owner_headers(),
        json={"rate_limit_config": {"tier": "standard", "requests_per_minute": 1}},
    )
    assert by_tab(client.post(URL, json={"query": "lamp"}).json())["products"]["status"] == "ok"
    again = by_tab(client.post(URL, json={"query": "lamp"}).json())
    assert again["products"]["error"]["status"] == 429
    assert again["help"]["status"] == "ok"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tab_id": "nope", "query": "x"}, "tab_id"),
        ({}, "inputs.query"),
        ({"query": "x", "page_size": 0}, "page_size"),
    ],
)
def test_a_bad_search_is_a_422_naming_the_field(
    client: TestClient, ids: dict[str, str], body: dict[str, Any], field: str
) -> None:
    answer = client.post(URL, json=body)
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["error"]["details"]["errors"]] == [field]


def test_an_unknown_page_or_a_bare_body_is_refused(client: TestClient, ids: dict[str, str]) -> None:
    assert client.post("/v1/public/pages/nowhere/search", json={"query": "x"}).status_code == 404
    assert client.post(URL, content=b'{"query": "x"}').status_code == 415
    bad = client.post(URL, content=b"{", headers={"Content-Type": "application/json"})
    assert bad.status_code == 422
