"""The All tab's shared inputs without JavaScript and in the federated API call: an input
that several tabs have is shown once and passed to each of them, one that only some have
applies to those and the page says so, the state stays in the URL, and hidden fields never
leave."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.page_shared_sites import SECRET, build
from tests.web.test_tab_pages import tabs_of, titles


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        build(test_client)
        yield test_client


def group_titles(html: str) -> dict[str, list[str]]:
    groups = re.findall(r'<h2 id="group-([^"]+)">(.*?)</section>', html, re.S)
    return {key: titles(body) for key, body in groups}


def test_a_shared_input_is_shown_once_and_passed_to_every_tab(client: TestClient) -> None:
    page = client.get("/p/shared?tab=all&query=lamp&kind=lamp")
    assert page.status_code == 200, page.text
    # One Kind list, with every tab's choices; the box only the shop has says so.
    assert page.text.count('name="kind"') == 1
    options = re.findall(r'<option value="([^"]*)"( selected)?>', page.text)
    assert options == [("", ""), ("lamp", " selected"), ("mug", ""), ("returns", "")]
    assert "In stock: Applies to Products only." in page.text
    assert 'aria-describedby="in-in_stock-help"' in page.text
    assert "Kind: Applies" not in page.text
    assert group_titles(page.text) == {
        "products": ["Desk lamp", "Floor lamp"],
        "help": ["Fixing a lamp"],
    }
    # Each tab's link carries the inputs that tab takes, so the state is a link.
    tabs = {label: href for label, href, _ in tabs_of(page.text)}
    assert tabs["Products"] == "/p/shared?tab=products&query=lamp&kind=lamp"
    assert tabs["Help"] == "/p/shared?tab=help&query=lamp&kind=lamp"
    assert SECRET not in page.text


def test_an_input_some_tabs_lack_applies_to_the_others_only(client: TestClient) -> None:
    page = client.get("/p/shared?tab=all&query=lamp&in_stock=true")
    assert page.status_code == 200, page.text
    assert group_titles(page.text) == {
        "products": ["Desk lamp", "Lamp mug"],
        "help": ["Fixing a lamp", "Returning a lamp"],
    }
    tabs = {label: href for label, href, _ in tabs_of(page.text)}
    assert tabs["Products"] == "/p/shared?tab=products&query=lamp&in_stock=true"
    assert tabs["Help"] == "/p/shared?tab=help&query=lamp"
    # Following the link, the shop's own form has the box ticked.
    products = client.get(tabs["Products"])
    assert titles(products.text) == ["Desk lamp", "Lamp mug"]
    assert re.search(r'name="in_stock" value="true" checked', products.text)


def test_a_choice_one_tab_lacks_finds_nothing_there(client: TestClient) -> None:
    page = client.get("/p/shared?tab=all&query=lamp&kind=mug")
    assert group_titles(page.text) == {"products": ["Lamp mug"], "help": []}
    assert "No results in Help." in page.text


def test_a_choice_that_is_no_tabs_finds_nothing(client: TestClient) -> None:
    page = client.get("/p/shared?tab=all&query=lamp&kind=chair")
    assert page.status_code == 200
    assert group_titles(page.text) == {"products": [], "help": []}


def test_the_federated_call_passes_shared_inputs(client: TestClient) -> None:
    answer = client.post(
        "/v1/public/pages/shared/search",
        json={"inputs": {"query": "lamp", "kind": "lamp", "in_stock": True}},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    tabs = {t["tab_id"]: t for t in body["tabs"]}
    assert sorted(tabs["products"]["inputs"]) == ["in_stock", "kind", "query"]
    assert sorted(tabs["help"]["inputs"]) == ["kind", "query"]
    assert [d["title"] for d in tabs["products"]["documents"]] == ["Desk lamp"]
    assert [d["title"] for d in tabs["help"]["documents"]] == ["Fixing a lamp"]
    assert [m["document"]["title"] for m in body["merged"]] == ["Desk lamp", "Fixing a lamp"]
    assert SECRET not in answer.text
    assert "supplier" not in answer.text


@pytest.mark.parametrize(
    ("inputs", "field", "allowed"),
    [
        ({"query": "lamp", "colour": "red"}, "inputs.colour", "in_stock, kind"),
        ({"query": "lamp", "kind": "chair"}, "inputs.kind", "'lamp', 'mug', 'returns'"),
        ({"query": "lamp", "in_stock": "yes"}, "inputs.in_stock", "true or false"),
    ],
)
def test_the_federated_call_refuses_an_input_no_tab_takes(
    client: TestClient, inputs: dict[str, object], field: str, allowed: str
) -> None:
    answer = client.post("/v1/public/pages/shared/search", json={"inputs": inputs})
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert allowed in answer.text
