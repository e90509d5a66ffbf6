"""Bad input on every surface of the pages of tabs, as a client sends it: the owner API
(/v1/pages), the public search of a page, the page at /p/{slug} and the console's Tabbed pages
screens. Each is a 422 that names the field and says what is allowed (a body over the limit a
413 naming it), and nothing is written."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OWNER_KEY, owner_headers
from tests.page_sites import build
from tests.web.test_console import csrf, sign_in

SEARCH = "/v1/public/pages/everything/search"
TABS = "products, help, staff, partners"


@pytest.fixture
def client(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings(api_keys=[f"{NAMESPACE}:{OWNER_KEY}"], upstream_allow=["127.0.0.1"])
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def ids(client: TestClient) -> dict[str, str]:
    return build(client)


def refused(response: Any) -> tuple[str, str, str]:
    """A 422: the field named, what is allowed there, and the whole message."""
    assert response.status_code == 422, response.text[:500]
    error = response.json()["error"]
    [item] = error["details"]["errors"]
    return item["field"], item["message"], error["message"]


@pytest.mark.parametrize(
    ("body", "field", "allowed", "message"),
    [
        (
            {"inputs": {"query": {"$gt": 1}}},
            "inputs.query",
            "text of at most 1000 characters",
            "inputs.query must be text of at most 1000 characters: the words to search every "
            "tab for.",
        ),
        ({"inputs": {"query": ["lamp"]}}, "inputs.query", "text of at most 1000 characters", None),
        ({"inputs": {"query": 5}}, "inputs.query", "text of at most 1000 characters", None),
        (
            {"inputs": {"query": "x" * 1001}},
            "inputs.query",
            "text of at most 1000 characters",
            None,
        ),
        (
            {"query": "   "},
            "inputs.query",
            "a text to search every tab for",
            "inputs.query: a text is needed to search every tab (or a tab_id to search one).",
        ),
        (
            {"tab_id": "nope", "query": "lamp"},
            "tab_id",
            f"one of this page's tabs: {TABS}",
            f"tab_id: 'nope' is not a tab of this page; one of this page's tabs: {TABS}.",
        ),
        (
            {"query": "lamp", "colour": "red"},
            "inputs.colour",
            "an input of one of this page's tabs (none besides the query)",
            "inputs.colour: no tab of this page takes this input; they take: none besides the "
            "query.",
        ),
        ({"query": "x" * 501}, "query", "String should have at most 500 characters", None),
        ({"query": 5}, "query", "Input should be a valid string", None),
        ({"tab_id": 5, "query": "lamp"}, "tab_id", "Input should be a valid string", None),
        ({"query": "lamp", "page_size": 10**30}, "page_size", None, None),
        ({"query": "lamp", "page_size": -1}, "page_size", None, None),
        ({"inputs": []}, "inputs", "Input should be an object", None),
        ([], "body", "Input should be an object", None),
    ],
)
def test_a_bad_page_search_names_the_field_and_what_it_takes(
    client: TestClient,
    ids: dict[str, str],
    body: Any,
    field: str,
    allowed: str | None,
    message: str | None,
) -> None:
    named, takes, said = refused(client.post(SEARCH, json=body))
    assert named == field
    if allowed is not None:
        assert takes == allowed
    if message is not None:
        assert said == message
    assert field in said


def test_a_page_search_body_that_is_not_json_or_too_large(
    client: TestClient, ids: dict[str, str]
) -> None:
    json_header = {"content-type": "application/json"}
    named, _, said = refused(client.post(SEARCH, content=b'{"query": ', headers=json_header))
    assert named == "body"
    assert said.startswith("The request body is not valid JSON")
    deep = b"[" * 100_000 + b"]" * 100_000
    assert refused(client.post(SEARCH, content=deep, headers=json_header))[0] == "body"
    huge = client.post(
        SEARCH, content=b'{"query": "' + b"x" * 3_000_000 + b'"}', headers=json_header
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["details"] == {"max_bytes": 2097152}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"stats": [{"label": "Docs", "tab_id": "blog"}]},
            "stats[0].tab_id",
            "stats[0].tab_id: 'blog' is not a tab of this page; one of the tabs' ids: "
            "products, help.",
        ),
        (
            {"featured_gallery": {"tab_id": "blog", "document_ids": ["p1"]}},
            "featured_gallery.tab_id",
            "featured_gallery.tab_id: 'blog' is not a tab of this page; one of the tabs' ids: "
            "products, help.",
        ),
        (
            {"sections": [{"type": "search-tabs"}, {"type": "search-tabs"}]},
            "sections",
            "sections: at most one search-tabs section (where the tabs go); this page has 2.",
        ),
        (
            {
                "sections": [
                    {"type": "search-tabs", "section_id": "main"},
                    {"type": "stats-bar", "section_id": "main"},
                ]
            },
            "sections[1].section_id",
            "sections[1].section_id: 'main' is used twice; each section's id is unique on the "
            "page.",
        ),
    ],
)
def test_rules_across_a_pages_fields_say_what_is_allowed(
    client: TestClient, ids: dict[str, str], change: dict[str, Any], field: str, message: str
) -> None:
    body = {
        "slug": "both",
        "meta": {"title": "Both"},
        "tabs": [
            {"tab_id": "products", "label": "Products", "retriever_id": ids["shop"]},
            {"tab_id": "help", "label": "Help", "retriever_id": ids["help-centre"]},
        ],
        **change,
    }
    named, _, said = refused(client.post("/v1/pages", headers=owner_headers(), json=body))
    assert (named, said) == (field, message)
    assert client.get("/p/both").status_code == 404  # nothing written


def test_the_merged_tabs_key_is_refused_as_a_tabs_own(
    client: TestClient, ids: dict[str, str]
) -> None:
    body = {
        "slug": "both",
        "meta": {"title": "Both"},
        "tabs": [{"tab_id": "all", "label": "All", "retriever_id": ids["shop"]}],
    }
    named, _, said = refused(client.post("/v1/pages", headers=owner_headers(), json=body))
    assert named == "tabs[0].tab_id"
    assert said == "tabs[0].tab_id: 'all' is the merged tab's key; choose another."


@pytest.mark.parametrize(
    ("query", "field", "allowed"),
    [
        ("limit=0", "limit", "integer 1..100"),
        ("limit=99999999999999999999", "limit", "integer 1..100"),
        ("offset=-1", "offset", "integer 0..10000000"),
        ("page=x", "page", "integer 1..100000"),
    ],
)
def test_a_bad_page_list_query_names_the_parameter_and_its_range(
    client: TestClient, query: str, field: str, allowed: str
) -> None:
    named, takes, said = refused(client.get(f"/v1/pages?{query}", headers=owner_headers()))
    assert (named, takes) == (field, allowed)
    assert f"Query parameter '{field}' must be a whole number" in said


@pytest.mark.parametrize(
    ("change", "field", "allowed"),
    [
        ({"slug": "ABC"}, "slug", "3 to 50 lowercase letters, digits and hyphens"),
        ({"slug": "a\x00b"}, "slug", "3 to 50 lowercase letters, digits and hyphens"),
        ({"slug": "a" * 51}, "slug", "at most 50 characters"),
        ({"tabs": None}, "tabs", "a value"),
        ({"meta": None}, "meta", "a value"),
        ({"meta": {"title": "x" * 101}}, "meta.title", "at most 100 characters"),
        ({"is_active": "yes"}, "is_active", "valid boolean"),
        ({"tabs": []}, "tabs", "at least 1 item"),
    ],
)
def test_a_bad_change_of_a_page_names_the_field_and_changes_nothing(
    client: TestClient, ids: dict[str, str], change: dict[str, Any], field: str, allowed: str
) -> None:
    answer = client.patch(f"/v1/pages/{ids['page']}", headers=owner_headers(), json=change)
    named, takes, said = refused(answer)
    assert named == field
    assert allowed in said
    assert takes
    stored = client.get(f"/v1/pages/{ids['page']}", headers=owner_headers()).json()
    assert (stored["slug"], stored["meta"]["title"]) == ("everything", "Everything we have")
    assert len(stored["tabs"]) == 4


def main_text(response: Any) -> str:
    found = re.search(r"<main.*?</main>", response.text, re.S)
    assert found, response.text[:300]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found[0]))).strip()


@pytest.mark.parametrize("path", ["/p/everything", "/p/everything?tab=help", "/p/everything/embed"])
def test_a_query_too_long_on_the_page_is_told_in_the_page(
    client: TestClient, ids: dict[str, str], path: str
) -> None:
    sep = "&" if "?" in path else "?"
    answer = client.get(f"{path}{sep}query={'x' * 1001}")
    assert answer.status_code == 422
    assert "inputs.query must be text of at most 1000 characters." in main_text(answer)
    assert 'name="query"' in answer.text  # the form is there to fix it


def test_an_unknown_or_hostile_tab_in_the_url_is_named_escaped(
    client: TestClient, ids: dict[str, str]
) -> None:
    answer = client.get("/p/everything", params={"tab": "<img src=x onerror=alert(1)>"})
    assert answer.status_code == 404
    assert "This page has no tab '<img src=x onerror=alert(1)>'." in main_text(answer)
    assert "<img src=x" not in answer.text


def test_the_console_refuses_a_pages_form_it_cannot_read_saying_why(
    client: TestClient, ids: dict[str, str]
) -> None:
    sign_in(client, OWNER_KEY)
    token = csrf(client)
    many = "&".join(f"f{n}=1" for n in range(2_001))
    answer = client.post(
        "/console/pages/new",
        content=f"csrf={token}&{many}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 422
    assert "Too many fields. Maximum number of fields is 2000." in main_text(answer)
    edited = client.post(
        f"/console/pages/{ids['page']}",
        content=b"abc",
        headers={"content-type": "multipart/form-data"},
    )
    assert edited.status_code == 422
    assert "This form could not be read: Missing boundary in multipart." in main_text(edited)
    listed = client.get("/v1/pages", headers=owner_headers()).json()
    assert [p["slug"] for p in listed["results"]] == ["everything"]
