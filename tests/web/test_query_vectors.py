"""A query that brings its own vector, through the public execute API: searched where the
collection's documents bring theirs, checked by name, refused by name everywhere else; and the
vector a document brings never leaves as a field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, local_backend, owner_headers, publish_backend

# Four numbers a vector: the first for seating, the second for light, the third for garden.
DOCUMENTS = [
    {"document_id": "sofa", "title": "Three-seat sofa", "vec": [1.0, 0.0, 0.0, 0.0]},
    {"document_id": "armchair", "title": "Armchair", "vec": [0.8, 0.3, 0.0, 0.0]},
    {"document_id": "lamp", "title": "Desk lamp", "vec": [0.0, 1.0, 0.0, 0.0]},
    {"document_id": "hose", "title": "Garden hose", "vec": [0.0, 0.0, 1.0, 0.2]},
]
PROVIDED = {"type": "provided", "field": "vec", "dimensions": 4}
NEAR_THE_SOFA = [0.9, 0.1, 0.0, 0.0]


def _collection(client: TestClient, name: str, embedding: dict[str, Any] | None) -> None:
    base = f"/v1/collections/{name}"
    if embedding is not None:
        response = client.put(f"{base}/embedding", headers=owner_headers(), json=embedding)
        assert response.status_code == 200, response.text
    documents = [{k: v for k, v in d.items() if embedding or k != "vec"} for d in DOCUMENTS]
    response = client.post(
        f"{base}/documents", headers=owner_headers(), json={"documents": documents}
    )
    assert response.status_code == 200, response.text


def _publish(client: TestClient, name: str, collection: str = "rooms", **backend: Any) -> None:
    # The page exposes the vector's field on purpose: even so, it is never shown.
    config = browse_config(exposed_fields=["title", "vec"], field_config={}, components={})
    search = {**local_backend(collection), "search_fields": ["title"], **backend}
    publish_backend(client, name, search, config)


@pytest.fixture
def client(engine_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(engine_settings), raise_server_exceptions=False) as client:
        _collection(client, "rooms", {"fields": ["title"], "embedder": PROVIDED})
        _publish(client, "rooms")
        yield client


def execute(client: TestClient, name: str, inputs: dict[str, Any], **body: Any) -> Any:
    return client.post(f"/v1/public/retrievers/{name}/execute", json={"inputs": inputs, **body})


def found(client: TestClient, name: str, inputs: dict[str, Any]) -> list[dict[str, Any]]:
    response = execute(client, name, inputs)
    assert response.status_code == 200, response.text
    documents: list[dict[str, Any]] = response.json()["documents"]
    return documents


def test_a_query_vector_finds_the_nearest_documents(client: TestClient) -> None:
    documents = found(client, "rooms", {"embedding": NEAR_THE_SOFA})
    assert [d["document_id"] for d in documents[:2]] == ["sofa", "armchair"]
    # No words to share: each was found by meaning alone, and says so.
    assert all(d["matched_by_meaning"] is True for d in documents)


def test_in_hybrid_the_words_still_count_beside_the_vector(client: TestClient) -> None:
    documents = found(client, "rooms", {"query": "lamp", "embedding": NEAR_THE_SOFA})
    by_id = {d["document_id"]: d for d in documents}
    assert {"lamp", "sofa", "armchair"} <= set(by_id)
    assert by_id["lamp"]["highlights"] == {"title": "Desk <mark>lamp</mark>"}
    assert "matched_by_meaning" not in by_id["lamp"]
    assert by_id["sofa"]["matched_by_meaning"] is True
    assert "highlights" not in by_id["sofa"]


def test_in_semantic_mode_the_vector_alone_ranks(client: TestClient) -> None:
    _publish(client, "rooms-near", mode="semantic")
    documents = found(client, "rooms-near", {"query": "lamp", "embedding": NEAR_THE_SOFA})
    assert [d["document_id"] for d in documents[:2]] == ["sofa", "armchair"]


def test_a_query_vector_keeps_to_the_filters(client: TestClient) -> None:
    response = execute(
        client,
        "rooms",
        {"embedding": NEAR_THE_SOFA},
        filters={"field": "title", "operator": "eq", "value": "desk lamp"},
    )
    assert [d["document_id"] for d in response.json()["documents"]] == ["lamp"]


@pytest.mark.parametrize(
    ("vector", "problem"),
    [
        ([1.0, 0.0], "a list of 4 numbers, not 2"),
        ([1.0, 0.0, 0.0, "0"], "finite numbers"),
        ([True, False, False, False], "finite numbers"),
        ([0, 0, 0, 0], "not all zeros"),
        ([1e39, 0, 0, 0], "float32"),
        ([10**400, 0, 0, 0], "finite numbers"),
        ("0.9, 0.1, 0, 0", "finite numbers"),
        ({"vector": NEAR_THE_SOFA}, "finite numbers"),
        ([0.0] * 5000, "at most 4,096"),
    ],
)
def test_a_bad_query_vector_is_refused_by_name(
    client: TestClient, vector: Any, problem: str
) -> None:
    response = execute(client, "rooms", {"embedding": vector})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"]["errors"][0]["field"] == "inputs.embedding"
    assert problem in error["message"]


def test_a_vector_that_is_not_a_number_is_refused_by_name(client: TestClient) -> None:
    for raw in (b"NaN", b"Infinity"):
        response = client.post(
            "/v1/public/retrievers/rooms/execute",
            content=b'{"inputs": {"embedding": [0.5, 0.5, 0.5, ' + raw + b"]}}",
            headers={"Content-Type": "application/json"},
        )
        assert response.status_code == 422, response.text
        assert "inputs.embedding" in response.json()["error"]["message"]


def test_a_query_vector_is_refused_where_it_cannot_be_searched(client: TestClient) -> None:
    _collection(client, "words", {"fields": ["title"]})  # the built-in model embeds the text
    _collection(client, "plain", None)  # no vectors at all
    _publish(client, "rooms-words", mode="keyword")
    _publish(client, "by-text", "words")
    _publish(client, "no-vectors", "plain")
    reasons = {
        "rooms-words": "searches by words only",
        "by-text": "makes its vectors from text",
        "no-vectors": "has no vectors",
    }
    for name, reason in reasons.items():
        response = execute(client, name, {"query": "sofa", "embedding": NEAR_THE_SOFA})
        assert response.status_code == 422, (name, response.text)
        error = response.json()["error"]
        assert error["details"]["errors"][0]["field"] == "inputs.embedding"
        assert reason in error["message"]
    alike = execute(client, "rooms", {"embedding": NEAR_THE_SOFA}, similar_to="lamp")
    assert alike.status_code == 422, alike.text
    assert "similar_to" in alike.json()["error"]["message"]


def test_an_upstream_retriever_refuses_a_query_vector_before_calling_it(
    client: TestClient,
) -> None:
    from tests.helpers import publish_over_upstream

    publish_over_upstream(client, "remote", "http://127.0.0.1:9", browse_config(), "sk_up")
    response = execute(client, "remote", {"query": "sofa", "embedding": NEAR_THE_SOFA})
    assert response.status_code == 422, response.text
    assert "inputs.embedding is answered by the embedded engine only" in response.text


def test_an_input_the_page_names_embedding_is_that_input(client: TestClient) -> None:
    config = browse_config(exposed_fields=["title"], field_config={}, components={})
    config["inputs"].append(
        {
            "field_name": "embedding",
            "label": "E",
            "required": False,
            "field_schema": {"type": "string"},
        }
    )
    publish_backend(client, "named", {**local_backend("rooms"), "search_fields": ["title"]}, config)
    refused = execute(client, "named", {"embedding": NEAR_THE_SOFA})
    assert refused.status_code == 422, refused.text
    assert "inputs.embedding must be text" in refused.json()["error"]["message"]


def test_the_vector_a_document_brings_never_leaves_as_a_field(client: TestClient) -> None:
    for inputs in ({"query": "sofa"}, {"embedding": NEAR_THE_SOFA}, {}):
        for document in found(client, "rooms", inputs):
            assert "vec" not in document
    counted = execute(client, "rooms", {}, facets=["vec", "title"]).json()["facets"]
    assert counted["vec"] == []  # a vector's numbers are no values to count or filter by
    assert len(counted["title"]) == 4
    assert found(client, "rooms", {"query": "0.8"}) == []  # nor words to match
    # The armchair's vector is 0.8, 0.3, 0, 0: none of it is on its card or in its detail view.
    for path in ("/r/rooms?query=armchair", "/r/rooms/d/armchair"):
        shown = client.get(path).text.split("<main", 1)[1]
        assert "Armchair" in shown
        assert "0.8" not in shown
        assert "0.3" not in shown


def test_publishing_a_page_that_exposes_the_vectors_field_warns_of_it(
    client: TestClient,
) -> None:
    backend = {**local_backend("rooms"), "search_fields": ["title"]}

    def warnings(name: str, exposed: list[str]) -> list[str]:
        retriever_id = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": name, "backend": backend},
        ).json()["retriever_id"]
        config = browse_config(exposed_fields=exposed, field_config={}, components={})
        response = client.post(
            f"/v1/retrievers/{retriever_id}/publish",
            headers=owner_headers(),
            json={"public_name": name, "display_config": config},
        )
        assert response.status_code == 200, response.text
        return list(response.json().get("warnings") or [])

    shown = warnings("shown", ["title", "vec"])
    assert any("'vec' holds the documents' own vectors" in warning for warning in shown)
    assert not any("vectors" in warning for warning in warnings("left-out", ["title"]))
