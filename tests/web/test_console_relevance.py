"""A retriever's relevance rules in the console over HTTP: each form's good and bad values
(every error beside its field, never a 500), editing and deleting, the token and the roles,
another namespace, and hostile values shown inert."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    OTHER_KEY,
    OWNER_KEY,
    browse_config,
    owner_headers,
    publish_local,
    publish_over_upstream,
)
from tests.web.test_console import SEATS, VIEWER_KEY, csrf, sign_in
from tests.web.test_console_pages import HOSTILE, inert

DOCUMENTS = [
    {"document_id": "p1", "title": "Linen sofa", "description": "Three seats", "rank": 3},
    {"document_id": "p2", "title": "Brass lamp", "description": "For a desk", "rank": 9},
]


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, str]]:
    settings = make_settings(api_keys=SEATS)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        ).raise_for_status()
        retriever_id = publish_local(client, "shop", ["title", "description", "rank"])
        sign_in(client, OWNER_KEY)
        yield client, retriever_id


def _post(client: TestClient, retriever_id: str, kind: str, **fields: str) -> Any:
    return client.post(
        f"/console/retrievers/{retriever_id}/relevance/{kind}",
        data={"csrf": csrf(client), **fields},
        follow_redirects=False,
    )


def _rules(client: TestClient, retriever_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/retrievers/{retriever_id}/relevance", headers=owner_headers())
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _titles(client: TestClient, query: str) -> list[str]:
    response = client.get("/r/shop", params={"query": query})
    assert response.status_code == 200
    return [d["document_id"] for d in DOCUMENTS if f"/r/shop/d/{d['document_id']}" in response.text]


def test_synonyms_are_added_edited_and_deleted(console: tuple[TestClient, str]) -> None:
    client, retriever_id = console
    assert _titles(client, "couch") == []
    added = _post(client, retriever_id, "synonyms", direction="multi-way", terms="sofa, couch")
    assert added.status_code == 303
    assert added.headers["location"].endswith("relevance?saved=synonyms#synonyms")
    assert "Saved the synonyms." in client.get(added.headers["location"]).text
    assert _titles(client, "couch") == ["p1"]
    (rule,) = _rules(client, retriever_id)["synonyms"]
    assert rule["synonyms"] == ["sofa", "couch"]
    edit = client.get(f"/console/retrievers/{retriever_id}/relevance", params={"edit": rule["id"]})
    assert f'name="rule_id" value="{rule["id"]}"' in edit.text
    assert ">sofa\ncouch</textarea>" in edit.text
    one_way = _post(
        client,
        retriever_id,
        "synonyms",
        rule_id=rule["id"],
        direction="one-way",
        root="settee",
        terms="sofa",
    )
    assert one_way.status_code == 303
    (rule,) = _rules(client, retriever_id)["synonyms"]
    assert (rule["root"], rule["synonyms"]) == ("settee", ["sofa"])
    assert _post(client, retriever_id, "synonyms-delete", rule_id=rule["id"]).status_code == 303
    assert _rules(client, retriever_id)["synonyms"] == []
    assert _post(client, retriever_id, "synonyms-delete", rule_id="nope").status_code == 404


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"direction": "multi-way", "terms": "sofa"}, "terms"),
        ({"direction": "multi-way", "terms": ""}, "terms"),
        ({"direction": "multi-way", "terms": "sofa, !!!"}, "terms"),
        ({"direction": "multi-way", "terms": "sofa, " + "x" * 101}, "terms"),
        ({"direction": "multi-way", "terms": "sofa, a b c d e f"}, "terms"),
        ({"direction": "multi-way", "terms": ",".join(f"w{n}" for n in range(21))}, "terms"),
        ({"direction": "multi-way", "terms": "sofa, tab\tbed"}, "terms"),
        ({"direction": "one-way", "root": "", "terms": "sofa"}, "root"),
        ({"direction": "one-way", "root": "nul\x00", "terms": "sofa"}, "root"),
        ({"direction": "one-way", "root": "???", "terms": "sofa"}, "root"),
        ({"direction": "multi-way", "terms": "a, b", "rule_id": "<script>"}, "form"),
    ],
)
def test_bad_synonyms_are_told_beside_their_field(
    console: tuple[TestClient, str], fields: dict[str, str], where: str
) -> None:
    client, retriever_id = console
    response = _post(client, retriever_id, "synonyms", **fields)
    assert response.status_code == 422, response.text
    if where == "form":
        assert "Nothing was changed: " in response.text
    else:
        assert f'id="{where}-error"' in response.text
    inert(response.text)
    assert _rules(client, retriever_id)["synonyms"] == []


def test_a_curation_pins_and_hides(console: tuple[TestClient, str]) -> None:
    client, retriever_id = console
    response = _post(
        client,
        retriever_id,
        "curations",
        query="Lamp",
        match="contains",
        pin_id_1="p1",
        pin_position_1="1",
        hidden="p2\n",
    )
    assert response.status_code == 303
    (rule,) = _rules(client, retriever_id)["curations"]
    assert rule["rule"] == {"query": "Lamp", "match": "contains"}
    assert rule["includes"] == [{"id": "p1", "position": 1}]
    assert rule["excludes"] == [{"id": "p2"}]
    assert _titles(client, "brass lamp") == ["p1"]
    page = client.get(f"/console/retrievers/{retriever_id}/relevance").text
    assert "<code>p1</code> at 1" in page
    assert _post(client, retriever_id, "curations-delete", rule_id=rule["id"]).status_code == 303
    assert _rules(client, retriever_id)["curations"] == []


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"query": "", "pin_id_0": "p1", "pin_position_0": "1"}, "query"),
        ({"query": "x" * 201, "pin_id_0": "p1", "pin_position_0": "1"}, "query"),
        ({"query": "lamp", "match": "fuzzy", "hidden": "p1"}, "match"),
        ({"query": "lamp"}, "pins"),
        ({"query": "lamp", "pin_id_2": "p1", "pin_position_2": "abc"}, "pin_position_2"),
        ({"query": "lamp", "pin_id_2": "p1", "pin_position_2": "0"}, "pin_position_2"),
        ({"query": "lamp", "pin_id_0": "p1", "pin_position_0": "9" * 5000}, "pin_position_0"),
        ({"query": "lamp", "pin_id_3": "", "pin_position_3": "2"}, "pin_id_3"),
        ({"query": "lamp", "pin_id_1": "p1", "pin_position_1": "1001"}, "pin_position_1"),
        (
            {"query": "lamp", "pin_id_0": "p1", "pin_position_0": "1", "pin_id_1": "p2"}
            | {"pin_position_1": "1"},
            "pins",
        ),
        ({"query": "lamp", "pin_id_0": "p1", "pin_position_0": "1", "hidden": "p1"}, "pins"),
        ({"query": "lamp", "hidden": "x" * 1001}, "hidden"),
        ({"query": "lamp\x00", "hidden": "p1"}, "query"),
    ],
)
def test_bad_curations_are_told_beside_their_field(
    console: tuple[TestClient, str], fields: dict[str, str], where: str
) -> None:
    client, retriever_id = console
    response = _post(client, retriever_id, "curations", **fields)
    assert response.status_code == 422, response.text
    assert f'id="{where}-error"' in response.text
    inert(response.text)
    assert _rules(client, retriever_id)["curations"] == []


def test_boosts_and_stop_words(console: tuple[TestClient, str]) -> None:
    client, retriever_id = console
    assert _post(client, retriever_id, "boosts", field="rank", weight="2.5").status_code == 303
    assert _post(client, retriever_id, "boosts", field="rank", weight="1").status_code == 303
    assert _rules(client, retriever_id)["boosts"] == [{"field": "rank", "weight": 1.0}]
    assert _post(client, retriever_id, "boosts-delete", field="rank").status_code == 303
    assert _rules(client, retriever_id)["boosts"] == []
    saved = _post(client, retriever_id, "stop-words", words="the, a\nfor  the")
    assert saved.status_code == 303
    assert _rules(client, retriever_id)["stop_words"] == ["the", "a", "for"]
    page = client.get(f"/console/retrievers/{retriever_id}/relevance").text
    assert ">the\na\nfor</textarea>" in page
    assert _post(client, retriever_id, "stop-words", words="").status_code == 303
    assert _rules(client, retriever_id)["stop_words"] == []


@pytest.mark.parametrize(
    ("kind", "fields", "where"),
    [
        ("boosts", {"field": "rank", "weight": "heavy"}, "weight"),
        ("boosts", {"field": "rank", "weight": "0"}, "weight"),
        ("boosts", {"field": "rank", "weight": "nan"}, "weight"),
        ("boosts", {"field": "rank", "weight": "1e400"}, "weight"),
        ("boosts", {"field": "rank", "weight": "101"}, "weight"),
        ("boosts", {"field": "bad field!", "weight": "1"}, "field"),
        ("boosts", {"field": "", "weight": "1"}, "field"),
        ("boosts", {"field": "price", "weight": "1"}, "field"),  # not exposed by the page
        ("stop-words", {"words": "!!!"}, "words"),
        ("stop-words", {"words": "x" * 51}, "words"),
        ("stop-words", {"words": " ".join(f"w{n}" for n in range(1001))}, "words"),
    ],
)
def test_bad_boosts_and_stop_words_are_told_beside_their_field(
    console: tuple[TestClient, str], kind: str, fields: dict[str, str], where: str
) -> None:
    client, retriever_id = console
    response = _post(client, retriever_id, kind, **fields)
    assert response.status_code == 422, response.text
    assert f'id="{where}-error"' in response.text
    inert(response.text)


def test_a_form_without_its_token_or_of_a_viewer_is_refused(
    console: tuple[TestClient, str],
) -> None:
    client, retriever_id = console
    path = f"/console/retrievers/{retriever_id}/relevance/synonyms"
    fields = {"direction": "multi-way", "terms": "sofa, couch"}
    assert client.post(path, data=fields).status_code == 403
    assert client.post(path, data={**fields, "csrf": "forged"}).status_code == 403
    sign_in(client, VIEWER_KEY)
    page = client.get(f"/console/retrievers/{retriever_id}/relevance")
    assert page.status_code == 200
    assert "an editor changes them" in page.text
    assert 'name="terms"' not in page.text
    assert _post(client, retriever_id, "synonyms", **fields).status_code == 403
    assert _post(client, retriever_id, "stop-words", words="the").status_code == 403
    assert _rules(client, retriever_id)["synonyms"] == []
    sign_in(client, OWNER_KEY)
    assert _post(client, retriever_id, "no-such-form").status_code == 404


def test_another_namespace_sees_nothing(console: tuple[TestClient, str]) -> None:
    client, retriever_id = console
    sign_in(client, OTHER_KEY)
    assert client.get(f"/console/retrievers/{retriever_id}/relevance").status_code == 404
    fields = {"direction": "multi-way", "terms": "sofa, couch"}
    assert _post(client, retriever_id, "synonyms", **fields).status_code == 404
    sign_in(client, OWNER_KEY)
    assert _rules(client, retriever_id)["synonyms"] == []


def test_hostile_values_are_stored_as_text_and_shown_inert(
    console: tuple[TestClient, str],
) -> None:
    client, retriever_id = console
    for value in HOSTILE:
        if "\x00" in value or len(value) > 100:
            continue
        fields = {"direction": "multi-way", "terms": f"sofa\n{value} x"}
        response = _post(client, retriever_id, "synonyms", **fields)
        assert response.status_code in (303, 422), value
        cured = _post(client, retriever_id, "curations", query=value, hidden=value)
        assert cured.status_code in (303, 422), value
    page = client.get(f"/console/retrievers/{retriever_id}/relevance").text
    assert "&lt;script&gt;" in page
    inert(page)


def test_editing_a_curation_keeps_every_pin(console: tuple[TestClient, str]) -> None:
    client, retriever_id = console
    pins = [{"id": f"d{n}", "position": n + 1} for n in range(6)]
    body = {"curations": [{"id": "many", "rule": {"query": "lamp"}, "includes": pins}]}
    client.put(
        f"/v1/retrievers/{retriever_id}/relevance", headers=owner_headers(), json=body
    ).raise_for_status()
    page = client.get(f"/console/retrievers/{retriever_id}/relevance", params={"edit": "many"})
    assert 'name="pin_id_5" value="d5"' in page.text
    fields = {f"pin_id_{n}": f"d{n}" for n in range(6)}
    fields |= {f"pin_position_{n}": str(n + 1) for n in range(6)}
    saved = _post(client, retriever_id, "curations", rule_id="many", query="desk lamp", **fields)
    assert saved.status_code == 303
    (rule,) = _rules(client, retriever_id)["curations"]
    assert rule["includes"] == pins
    assert rule["rule"]["query"] == "desk lamp"


def test_a_retriever_over_an_upstream_offers_no_form(console: tuple[TestClient, str]) -> None:
    client, _ = console
    config = browse_config(exposed_fields=["title"], field_config={}, components={})
    retriever = publish_over_upstream(client, "upstream", "http://127.0.0.1:9", config, "k")
    page = client.get(f"/console/retrievers/{retriever}/relevance")
    assert page.status_code == 200
    assert "Mixpeek upstream" in page.text
    assert "<textarea" not in page.text
    refused = _post(client, retriever, "stop-words", words="the")
    assert refused.status_code == 422
    assert "Nothing was changed: " in refused.text
