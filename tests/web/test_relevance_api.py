"""The owner API of relevance rules: the whole set and one rule at a time, roles and
namespaces, bad rules refused by name, hostile values stored safely, on both stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    NAMESPACE,
    OTHER_KEY,
    OTHER_NAMESPACE,
    OWNER_KEY,
    browse_config,
    owner_headers,
    publish_local,
    publish_over_upstream,
)

VIEWER = "viewer-key-0123456789abcd"
EDITOR = "editor-key-0123456789abcd"
RULES: dict[str, Any] = {
    "synonyms": [
        {"id": "seats", "synonyms": ["sofa", "couch", "settee"]},
        {"root": "smartphone", "synonyms": ["smart phone", "iphone"]},
    ],
    "curations": [
        {
            "id": "lamp-deal",
            "rule": {"query": "Desk  Lamp", "match": "exact"},
            "includes": [{"id": "p12", "position": 1}],
            "excludes": [{"id": "p40"}],
        }
    ],
    "boosts": [{"field": "price", "weight": 0.5}],
    "stop_words": ["the", "a"],
}


@pytest.fixture
def client(make_settings: Callable[..., Settings], database_url: str) -> Iterator[TestClient]:
    keys = [
        f"{NAMESPACE}:{OWNER_KEY}",
        f"{OTHER_NAMESPACE}:{OTHER_KEY}",
        f"{NAMESPACE}:{VIEWER}@viewer",
        f"{NAMESPACE}:{EDITOR}@editor",
    ]
    settings = make_settings(database_url=database_url, api_keys=keys)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def retriever(client: TestClient) -> str:
    return publish_local(client, "home-search", ["title", "description", "price"])


def rules_url(retriever_id: str, rest: str = "") -> str:
    return f"/v1/retrievers/{retriever_id}/relevance{rest}"


def put(client: TestClient, retriever_id: str, body: Any, key: str = OWNER_KEY) -> Any:
    return client.put(rules_url(retriever_id), headers=owner_headers(key), json=body)


def stored(client: TestClient, retriever_id: str) -> dict[str, Any]:
    response = client.get(rules_url(retriever_id), headers=owner_headers())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def fields_named(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["error"]["details"]["errors"]]


def test_a_retriever_has_no_rules_at_first(client: TestClient, retriever: str) -> None:
    body = stored(client, retriever)
    assert body["synonyms"] == body["curations"] == body["boosts"] == body["stop_words"] == []
    assert body["version"] == 0


def test_rules_are_replaced_whole_and_read_back(client: TestClient, retriever: str) -> None:
    answer = put(client, retriever, RULES)
    assert answer.status_code == 200, answer.text
    body = stored(client, retriever)
    assert body == answer.json()
    assert body["version"] == 1
    seats = {"id": "seats", "synonyms": ["sofa", "couch", "settee"], "root": None}
    assert body["synonyms"][0] == seats
    # A rule sent without an id gets one, to edit it by later.
    assert body["synonyms"][1]["id"].startswith("syn_")
    assert body["synonyms"][1]["root"] == "smartphone"
    assert body["curations"][0]["rule"] == {"query": "Desk  Lamp", "match": "exact"}
    assert body["boosts"] == [{"field": "price", "weight": 0.5}]
    assert body["stop_words"] == ["the", "a"]
    assert put(client, retriever, {"stop_words": ["of"]}).status_code == 200
    after = stored(client, retriever)
    assert (after["synonyms"], after["stop_words"], after["version"]) == ([], ["of"], 2)


def test_one_synonym_set_is_put_and_deleted_by_its_id(client: TestClient, retriever: str) -> None:
    put(client, retriever, RULES)
    url = rules_url(retriever, "/synonyms/lights")
    answer = client.put(url, headers=owner_headers(), json={"synonyms": ["lamp", "light"]})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"id": "lights", "synonyms": ["lamp", "light"], "root": None}
    changed = client.put(url, headers=owner_headers(), json={"synonyms": ["lamp", "lantern"]})
    assert changed.status_code == 200
    synonyms = stored(client, retriever)["synonyms"]
    assert [rule["id"] for rule in synonyms][0::2] == ["seats", "lights"]
    assert synonyms[2]["synonyms"] == ["lamp", "lantern"]  # replaced in place, the others kept
    assert client.delete(url, headers=owner_headers()).json() == {"id": "lights", "deleted": True}
    assert client.delete(url, headers=owner_headers()).status_code == 404
    assert len(stored(client, retriever)["synonyms"]) == 2


def test_one_curation_is_put_and_deleted_by_its_id(client: TestClient, retriever: str) -> None:
    url = rules_url(retriever, "/curations/sale")
    curation = {"rule": {"query": "sale", "match": "contains"}, "excludes": [{"id": "p1"}]}
    answer = client.put(url, headers=owner_headers(), json=curation)
    assert answer.status_code == 200, answer.text
    assert stored(client, retriever)["curations"] == [
        {"id": "sale", "rule": {"query": "sale", "match": "contains"}, "includes": [],
         "excludes": [{"id": "p1"}]}
    ]  # fmt: skip
    assert client.delete(url, headers=owner_headers()).status_code == 200
    assert stored(client, retriever)["curations"] == []


def test_a_viewer_reads_and_cannot_change_rules(client: TestClient, retriever: str) -> None:
    put(client, retriever, RULES)
    viewer = owner_headers(VIEWER)
    assert client.get(rules_url(retriever), headers=viewer).status_code == 200
    assert put(client, retriever, {}, VIEWER).status_code == 403
    one = rules_url(retriever, "/synonyms/seats")
    assert client.put(one, headers=viewer, json={"synonyms": ["a1", "b1"]}).status_code == 403
    assert client.delete(one, headers=viewer).status_code == 403
    assert (
        client.delete(rules_url(retriever, "/curations/lamp-deal"), headers=viewer).status_code
        == 403
    )
    assert stored(client, retriever)["version"] == 1
    # An editor changes them.
    assert put(client, retriever, {"stop_words": ["of"]}, EDITOR).status_code == 200


def test_another_namespace_sees_nothing(client: TestClient, retriever: str) -> None:
    put(client, retriever, RULES)
    other = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
    assert client.get(rules_url(retriever), headers=other).status_code == 404
    assert client.put(rules_url(retriever), headers=other, json={}).status_code == 404
    one = rules_url(retriever, "/synonyms/seats")
    assert client.delete(one, headers=other).status_code == 404
    assert client.get(rules_url("ret_unknown"), headers=owner_headers()).status_code == 404
    assert stored(client, retriever)["version"] == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"synonyms": [{"synonyms": ["sofa"]}]}, "synonyms[0]"),
        ({"synonyms": [{"synonyms": ["sofa", "co\x00uch"]}]}, "synonyms[0].synonyms[1]"),
        ({"synonyms": [{"synonyms": ["x" * 10_000, "sofa"]}]}, "synonyms[0].synonyms[0]"),
        ({"synonyms": [{"synonyms": ["sofa", "!!!"]}]}, "synonyms[0].synonyms[1]"),
        ({"synonyms": [{"synonyms": ["sofa", "🛋️"]}]}, "synonyms[0].synonyms[1]"),
        ({"synonyms": [{"synonyms": ["a b c d e f", "sofa"]}]}, "synonyms[0].synonyms[0]"),
        ({"synonyms": [{"root": " ", "synonyms": ["sofa"]}]}, "synonyms[0].root"),
        ({"synonyms": [{"synonyms": [f"w{n}" for n in range(21)]}]}, "synonyms[0].synonyms"),
        ({"synonyms": [{"synonyms": ["a1", "b1"]}] * 501}, "synonyms"),
        ({"synonyms": [{"id": "x", "synonyms": ["a1", "b1"]}] * 2}, "body"),
        ({"synonyms": [{"id": "no/slash", "synonyms": ["a1", "b1"]}]}, "synonyms[0].id"),
        ({"stop_words": ["the end"]}, "stop_words[0]"),
        ({"stop_words": ["\x00"]}, "stop_words[0]"),
        ({"curations": [{"rule": {"query": "q"}}]}, "curations[0]"),
        ({"curations": [{"rule": {"query": "q", "match": "near"}, "excludes": [{"id": "a"}]}]},
         "curations[0].rule.match"),
        ({"curations": [{"rule": {"query": "q"}, "includes": [{"id": "a", "position": 0}]}]},
         "curations[0].includes[0].position"),
        ({"curations": [{"rule": {"query": "q"}, "includes": [
            {"id": "a", "position": 1}, {"id": "b", "position": 1}]}]}, "curations[0]"),
        ({"curations": [{"rule": {"query": "q"}, "includes": [{"id": "a", "position": 1}],
                         "excludes": [{"id": "a"}]}]}, "curations[0]"),
        ({"curations": [{"rule": {"query": "q" * 10_000}, "excludes": [{"id": "a"}]}]},
         "curations[0].rule.query"),
        ({"boosts": [{"field": "price", "weight": 0}]}, "boosts[0].weight"),
        ({"boosts": [{"field": "price", "weight": "2"}]}, "boosts[0].weight"),
        ({"boosts": [{"field": "secret_cost", "weight": 1}]}, "boosts[0].field"),
        ({"boosts": [{"field": "price"}, {"field": "price"}]}, "body"),
        ({"rules": []}, "rules"),
    ],
)  # fmt: skip
def test_a_bad_rule_is_refused_by_name_and_nothing_stored_is_lost(
    client: TestClient, retriever: str, body: dict[str, Any], field: str
) -> None:
    put(client, retriever, RULES)
    before = stored(client, retriever)
    assert field in fields_named(put(client, retriever, body))
    assert stored(client, retriever) == before


def test_a_bad_rule_by_its_id_is_refused_by_name(client: TestClient, retriever: str) -> None:
    put(client, retriever, RULES)
    before = stored(client, retriever)
    bad_id = client.put(
        rules_url(retriever, "/synonyms/no%20space"), headers=owner_headers(), json={}
    )
    assert fields_named(bad_id) == ["rule_id"]
    nul = client.put(
        rules_url(retriever, "/synonyms/x"), headers=owner_headers(), json={"synonyms": ["a\x00"]}
    )
    assert "synonyms[0]" in fields_named(nul)
    # 500 sets already, the next one is refused by the same limit as a whole set.
    many = {"synonyms": [{"synonyms": [f"a{n}", f"b{n}"]} for n in range(500)]}
    assert put(client, retriever, many).status_code == 200
    full = client.put(
        rules_url(retriever, "/synonyms/more"),
        headers=owner_headers(),
        json={"synonyms": ["c1", "d1"]},
    )
    assert fields_named(full) == ["synonyms"]
    assert stored(client, retriever)["version"] == before["version"] + 1


def test_emoji_and_accents_are_stored_as_sent(client: TestClient, retriever: str) -> None:
    rules = {
        "synonyms": [{"id": "seats", "synonyms": ["🛋️ sofa", "canapé", "Couch"]}],
        "curations": [
            {"rule": {"query": "sofa 🛋️", "match": "contains"}, "excludes": [{"id": "p🛋️1"}]}
        ],
        "stop_words": ["ünd"],
    }
    assert put(client, retriever, rules).status_code == 200
    body = stored(client, retriever)
    assert body["synonyms"][0]["synonyms"] == ["🛋️ sofa", "canapé", "Couch"]
    assert body["curations"][0]["rule"]["query"] == "sofa 🛋️"
    assert body["curations"][0]["excludes"] == [{"id": "p🛋️1"}]
    assert body["stop_words"] == ["ünd"]


def test_a_retriever_over_an_upstream_refuses_rules(client: TestClient) -> None:
    config = browse_config(exposed_fields=["title"], field_config={}, components={})
    retriever = publish_over_upstream(client, "upstream", "http://127.0.0.1:9", config, "k")
    answer = put(client, retriever, {"stop_words": ["the"]})
    assert fields_named(answer) == ["backend"]
    assert "local" in answer.json()["error"]["message"]
    assert stored(client, retriever)["version"] == 0
