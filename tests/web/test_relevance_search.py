"""Relevance rules through the public surfaces, end to end: execute and the page search with
them on both stores (and so both engines), a change takes effect on the next search (the
answer cache too), and pinned or hidden documents still obey the filters and the exposure."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, owner_headers, publish_backend

DOCUMENTS: list[dict[str, Any]] = [
    {"document_id": "sofa", "title": "Linen sofa", "category": "Living", "popularity": 10,
     "cost": 1},
    {"document_id": "couch", "title": "Leather couch", "category": "Living", "popularity": 90,
     "cost": 2},
    {"document_id": "lamp", "title": "Desk lamp", "category": "Light", "popularity": 70,
     "cost": 3},
    {"document_id": "lamp2", "title": "Desk lamp, brass", "category": "Light", "popularity": 20,
     "cost": 4},
    {"document_id": "mug", "title": "The travel mug", "category": "Kitchen", "popularity": 30,
     "cost": 5},
]  # fmt: skip
EXPOSED = ["title", "category", "popularity"]  # never `cost`


@pytest.fixture
def client(make_settings: Callable[..., Settings], database_url: str) -> Iterator[TestClient]:
    settings = make_settings(database_url=database_url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        answer = test_client.post(
            "/v1/collections/home/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        assert answer.status_code == 200, answer.text
        yield test_client


def publish(client: TestClient, name: str, mode: str = "keyword", **extra: Any) -> str:
    config = browse_config(exposed_fields=EXPOSED, field_config={}, components={}, **extra)
    backend = {"type": "local", "collection": "home", "search_fields": ["title"], "mode": mode}
    return publish_backend(client, name, backend, config)


def set_rules(client: TestClient, retriever_id: str, rules: dict[str, Any]) -> None:
    url = f"/v1/retrievers/{retriever_id}/relevance"
    answer = client.put(url, headers=owner_headers(), json=rules)
    assert answer.status_code == 200, answer.text


def execute(client: TestClient, name: str, query: str, **body: Any) -> dict[str, Any]:
    answer = client.post(
        f"/v1/public/retrievers/{name}/execute", json={"inputs": {"query": query}, **body}
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def ids(answer: dict[str, Any]) -> list[str]:
    return [document["document_id"] for document in answer["documents"]]


def test_synonyms_take_effect_on_the_next_search(client: TestClient) -> None:
    retriever = publish(client, "home")
    assert ids(execute(client, "home", "sofa")) == ["sofa"]
    assert "couch" not in client.get("/r/home", params={"query": "sofa"}).text.lower()
    set_rules(client, retriever, {"synonyms": [{"synonyms": ["sofa", "couch"]}]})
    assert set(ids(execute(client, "home", "sofa"))) == {"sofa", "couch"}
    # And through the page, which searches the same way.
    page = client.get("/r/home", params={"query": "sofa"})
    assert "Leather <mark>couch</mark>" in page.text
    set_rules(client, retriever, {})
    assert ids(execute(client, "home", "sofa")) == ["sofa"]


def test_a_change_of_rules_is_not_hidden_by_the_answer_cache(client: TestClient) -> None:
    retriever = publish(client, "cached", extensions={"query_cache_seconds": 300})
    assert ids(execute(client, "cached", "sofa")) == ["sofa"]
    assert ids(execute(client, "cached", "sofa")) == ["sofa"]  # (from the cache now)
    set_rules(client, retriever, {"synonyms": [{"root": "sofa", "synonyms": ["couch"]}]})
    assert set(ids(execute(client, "cached", "sofa"))) == {"sofa", "couch"}
    url = f"/v1/retrievers/{retriever}/relevance/synonyms"
    [rule] = client.get(f"/v1/retrievers/{retriever}/relevance", headers=owner_headers()).json()[
        "synonyms"
    ]
    assert client.delete(f"{url}/{rule['id']}", headers=owner_headers()).status_code == 200
    assert ids(execute(client, "cached", "sofa")) == ["sofa"]


@pytest.mark.parametrize("mode", ["keyword", "hybrid"])
def test_a_curation_pins_and_hides_within_the_filters(client: TestClient, mode: str) -> None:
    retriever = publish(client, "home", mode)
    curation = {
        "rule": {"query": "desk lamp", "match": "exact"},
        "includes": [{"id": "mug", "position": 1}],
        "excludes": [{"id": "lamp"}],
    }
    set_rules(client, retriever, {"curations": [curation]})
    # The query is folded for case and spacing before it is matched.
    answer = execute(client, "home", "  Desk   LAMP ")
    assert ids(answer)[0] == "mug"
    assert "lamp" not in ids(answer)
    assert "lamp2" in ids(answer)
    # A pinned document shows only exposed fields, like any other.
    assert set(answer["documents"][0]) <= {*EXPOSED, "document_id", "score", "highlights"}
    # The pinned document is in the Kitchen: a filter on Light leaves it out.
    light = {"AND": [{"field": "category", "operator": "eq", "value": "Light"}]}
    filtered = execute(client, "home", "desk lamp", filters=light)
    assert ids(filtered) == ["lamp2"]
    assert filtered["pagination"]["total"] == 1
    # Another query is not curated.
    assert "lamp" in ids(execute(client, "home", "lamp"))


def test_a_contains_curation_matches_the_words_within_a_query(client: TestClient) -> None:
    retriever = publish(client, "home")
    curation = {"rule": {"query": "lamp", "match": "contains"}, "excludes": [{"id": "lamp2"}]}
    set_rules(client, retriever, {"curations": [curation]})
    assert ids(execute(client, "home", "desk lamp")) == ["lamp"]
    assert set(ids(execute(client, "home", "lamps"))) == {"lamp", "lamp2"}  # not the word


def test_a_boost_by_an_exposed_number_reorders(client: TestClient) -> None:
    retriever = publish(client, "home")
    set_rules(
        client,
        retriever,
        {
            "synonyms": [{"synonyms": ["sofa", "couch"]}],
            "boosts": [{"field": "popularity", "weight": 10}],
        },
    )
    assert ids(execute(client, "home", "sofa")) == ["couch", "sofa"]
    # Sorted by a field, the sort decides.
    by_sort = execute(client, "home", "sofa", sort=[{"field": "popularity", "direction": "asc"}])
    assert ids(by_sort) == ["sofa", "couch"]


def test_a_boost_by_a_field_the_page_hides_is_refused(client: TestClient) -> None:
    retriever = publish(client, "home")
    url = f"/v1/retrievers/{retriever}/relevance"
    answer = client.put(url, headers=owner_headers(), json={"boosts": [{"field": "cost"}]})
    assert answer.status_code == 422
    assert answer.json()["error"]["details"]["errors"][0]["field"] == "boosts[0].field"


def test_stop_words_leave_a_query_its_telling_words(client: TestClient) -> None:
    retriever = publish(client, "home")
    assert execute(client, "home", "the desk lamp")["words_left_out"] == ["the"]
    set_rules(client, retriever, {"stop_words": ["the"]})
    answer = execute(client, "home", "the desk lamp")
    assert "words_left_out" not in answer
    assert set(ids(answer)) == {"lamp", "lamp2"}
    assert ids(execute(client, "home", "the")) == ["mug"]  # stop words only: still a search
