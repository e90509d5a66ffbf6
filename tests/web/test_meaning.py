"""Search by meaning through the API: a collection that embeds, a retriever that searches by
keyword, meaning or both, and what a hidden field or a bad setting gets."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, local_backend, owner_headers, publish_backend

DOCUMENTS = [
    {"document_id": "sofa", "title": "Three-seat sofa", "description": "Deep, in grey linen."},
    {"document_id": "flask", "title": "Vacuum flask", "description": "Keeps coffee hot all day."},
    {"document_id": "lamp", "title": "Desk lamp", "description": "A warm light for reading."},
    {"document_id": "hose", "title": "Garden hose", "description": "Twenty metres, with a reel."},
]
EMBEDDING = "/v1/collections/products/embedding"
WAIT_SECONDS = 30


def _upload(client: TestClient, documents: list[dict[str, Any]]) -> dict[str, Any]:
    response = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": documents}
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _info(client: TestClient) -> dict[str, Any]:
    response = client.get("/v1/collections/products", headers=owner_headers())
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _ready(client: TestClient) -> dict[str, Any]:
    """The collection once every document has its vector (made in the background)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        info = _info(client)
        if info["embedding"] and info["embedding"]["ready"]:
            return info
        time.sleep(0.05)
    raise AssertionError(f"the collection was not embedded in {WAIT_SECONDS} s: {_info(client)}")


def _config(exposed: list[str]) -> dict[str, Any]:
    return browse_config(exposed_fields=exposed, field_config={}, components={})


def _publish(client: TestClient, name: str, exposed: list[str], **backend: Any) -> str:
    return publish_backend(client, name, {**local_backend(), **backend}, _config(exposed))


def _found(client: TestClient, name: str, text: str) -> list[str]:
    response = client.post(
        f"/v1/public/retrievers/{name}/execute", json={"inputs": {"query": text}}
    )
    assert response.status_code == 200, response.text
    return [document["document_id"] for document in response.json()["documents"]]


@pytest.fixture
def client(engine_settings: Settings) -> Any:
    with TestClient(create_app(engine_settings)) as client:
        _upload(client, DOCUMENTS)
        yield client


def test_a_collection_that_embeds_is_searched_by_meaning(client: TestClient) -> None:
    response = client.put(
        EMBEDDING, headers=owner_headers(), json={"fields": ["title", "description"]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["embedding"]["model"].startswith("wordllama:")
    info = _ready(client)
    assert info["embedding"]["vectors"] == info["documents"] == 4
    _publish(client, "shop", ["title", "description"])
    _publish(client, "words", ["title", "description"], mode="keyword")
    assert _found(client, "shop", "couch")[0] == "sofa"
    assert _found(client, "shop", "thermos")[0] == "flask"
    assert _found(client, "words", "couch") == []
    assert _found(client, "shop", "desk lamp")[0] == "lamp"  # words still lead


def test_documents_written_to_a_collection_that_embeds_get_their_vectors_at_once(
    client: TestClient,
) -> None:
    client.put(EMBEDDING, headers=owner_headers(), json={"fields": ["title", "description"]})
    _ready(client)
    _upload(client, [{"document_id": "chair", "title": "Armchair", "description": "Soft."}])
    embedding = _info(client)["embedding"]
    assert (embedding["vectors"], embedding["ready"]) == (5, True)


def test_a_hidden_embedded_field_never_shapes_a_result(client: TestClient) -> None:
    client.put(EMBEDDING, headers=owner_headers(), json={"fields": ["title", "description"]})
    _ready(client)
    retriever_id = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={
            "retriever_name": "titles",
            "backend": {**local_backend(), "search_fields": ["title"]},
        },
    ).json()["retriever_id"]
    published = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={
            "public_name": "titles",
            "display_config": _config(["title"]),
            "rate_limit_config": {"tier": "unlimited"},
        },
    )
    assert published.status_code == 200, published.text
    assert any("embeds description" in warning for warning in published.json()["warnings"])
    assert _found(client, "titles", "couch") == []  # by words only: nothing says couch


def test_turning_embedding_off_takes_the_vectors_away(client: TestClient) -> None:
    client.put(EMBEDDING, headers=owner_headers(), json={"fields": ["title"]})
    _ready(client)
    _publish(client, "shop", ["title", "description"])
    response = client.delete(EMBEDDING, headers=owner_headers())
    assert response.status_code == 200, response.text
    assert response.json()["embedding"] is None
    assert _found(client, "shop", "couch") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"fields": []}, "fields"),
        ({"fields": ["title"], "embedder": {"type": "word2vec"}}, "embedder.type"),
        ({"fields": ["title"], "embedder": {"type": "http", "url": "ftp://x"}}, "embedder.url"),
        ({"fields": ["title"], "surprise": 1}, "surprise"),
        (  # the cloud's metadata address: never an embedder's
            {
                "fields": ["title"],
                "embedder": {
                    "type": "http",
                    "url": "http://169.254.169.254/v1/embeddings",
                    "model": "m",
                    "dimensions": 8,
                },
            },
            "embedder.url",
        ),
    ],
)
def test_bad_embedding_settings_are_refused_by_name(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.put(EMBEDDING, headers=owner_headers(), json=body)
    assert response.status_code == 422, response.text
    assert field in response.text
    assert _info(client)["embedding"] is None  # nothing kept


def test_an_unknown_collection_is_a_404(client: TestClient) -> None:
    assert client.get("/v1/collections/nothing", headers=owner_headers()).status_code == 404


def test_a_retriever_mode_outside_the_three_is_refused(client: TestClient) -> None:
    response = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "odd", "backend": {**local_backend(), "mode": "vibes"}},
    )
    assert response.status_code == 422, response.text
    assert "mode" in response.text


@pytest.mark.postgres
def test_collections_in_postgresql_without_pgvector_refuse_to_embed_by_name(
    make_settings: Callable[..., Settings], postgres_url: str
) -> None:
    """Debian's PostgreSQL has no pgvector: the owner is told so, and words still answer."""
    with TestClient(create_app(make_settings(database_url=postgres_url))) as client:
        _upload(client, DOCUMENTS)
        response = client.put(EMBEDDING, headers=owner_headers(), json={"fields": ["title"]})
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["details"]["errors"][0]["field"] == "embedding"
        assert "pgvector extension (`vector`)" in error["message"]
        assert "installs pgvector" in error["message"]
        assert _info(client)["embedding"] is None
        _publish(client, "words", ["title", "description"])
        found = client.post(
            "/v1/public/retrievers/words/execute", json={"inputs": {"query": "sofa"}}
        )
        assert [d["document_id"] for d in found.json()["documents"]] == ["sofa"]


@pytest.mark.postgres
def test_collections_in_postgresql_with_pgvector_search_by_meaning(
    make_settings: Callable[..., Settings], pgvector_database: str
) -> None:
    with TestClient(create_app(make_settings(database_url=pgvector_database))) as client:
        _upload(client, DOCUMENTS)
        response = client.put(EMBEDDING, headers=owner_headers(), json={"fields": ["title"]})
        assert response.status_code == 200, response.text
        assert _ready(client)["embedding"]["vectors"] == len(DOCUMENTS)
        _publish(client, "meaning", ["title", "description"])
        found = _ask(client, "meaning")
        assert found.json()["documents"][0]["document_id"] == "sofa"


def _ask(client: TestClient, name: str, **body: Any) -> Any:
    return client.post(
        f"/v1/public/retrievers/{name}/execute", json={"inputs": {"query": "couch"}, **body}
    )


def test_a_search_chooses_its_weight_of_meaning_only_within_the_publishers_bounds(
    client: TestClient,
) -> None:
    client.put(EMBEDDING, headers=owner_headers(), json={"fields": ["title", "description"]})
    _ready(client)
    _publish(client, "fixed", ["title", "description"])
    _publish(client, "free", ["title", "description"], semantic_ratio_bounds=[0, 1])
    _publish(client, "narrow", ["title", "description"], semantic_ratio_bounds=[0.2, 0.8])
    refused = _ask(client, "fixed", semantic_ratio=0.3)
    assert refused.status_code == 422, refused.text
    assert "semantic_ratio_bounds" in refused.json()["error"]["message"]
    words_only = _ask(client, "free", semantic_ratio=0)
    assert words_only.json()["documents"] == []
    by_meaning = _ask(client, "free", semantic_ratio=1)
    assert by_meaning.json()["documents"][0]["document_id"] == "sofa"
    outside = _ask(client, "narrow", semantic_ratio=0.9)
    assert outside.status_code == 422, outside.text
    assert "0.2 to 0.8" in outside.text
    assert _ask(client, "narrow", semantic_ratio=1.5).status_code == 422


def test_publisher_bounds_on_the_weight_of_meaning_are_checked(client: TestClient) -> None:
    for bounds in ([0.5], [0.8, 0.2], [0, 2]):
        response = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={
                "retriever_name": "odd",
                "backend": {**local_backend(), "semantic_ratio_bounds": bounds},
            },
        )
        assert response.status_code == 422, response.text
        assert "semantic_ratio_bounds" in response.text


def test_find_similar_is_by_meaning_only_where_every_embedded_field_is_exposed(
    client: TestClient,
) -> None:
    client.put(EMBEDDING, headers=owner_headers(), json={"fields": ["title", "description"]})
    _upload(client, [{"document_id": "chair", "title": "Armchair", "description": "Soft seat."}])
    _ready(client)
    _publish(client, "shop", ["title", "description"])
    backend = {**local_backend(), "search_fields": ["title"]}
    publish_backend(client, "titles", backend, _config(["title"]))

    def similar(name: str) -> list[str]:
        response = client.post(
            f"/v1/public/retrievers/{name}/execute", json={"inputs": {}, "similar_to": "sofa"}
        )
        assert response.status_code == 200, response.text
        return [document["document_id"] for document in response.json()["documents"]]

    assert similar("shop")[0] == "chair"  # nearest in meaning
    assert similar("titles") == []  # by the title's words: no other title shares one


def _cards(html: str) -> dict[str, str]:
    """Each card's markup by its document id."""
    parts = html.split('<li class="card" data-document-id="')[1:]
    return {part.split('"', 1)[0]: part.split("</li>\n", 1)[0] for part in parts}


def test_the_page_can_say_which_results_were_found_by_meaning_alone(client: TestClient) -> None:
    client.put(EMBEDDING, headers=owner_headers(), json={"fields": ["title", "description"]})
    _ready(client)
    hinted = browse_config(
        exposed_fields=["title", "description"],
        field_config={},
        components={"result_card": {"show_meaning_hint": True}},
    )
    publish_backend(client, "hinted", local_backend(), hinted)
    _publish(client, "plain", ["title", "description"])  # the hint is off by default
    # The API says it of each result found by meaning alone, whatever the page shows.
    answer = client.post("/v1/public/retrievers/plain/execute", json={"inputs": {"query": "couch"}})
    sofa = answer.json()["documents"][0]
    assert (sofa["document_id"], sofa["matched_by_meaning"]) == ("sofa", True)
    assert "highlights" not in sofa
    for path in ("/r/hinted?query=couch", "/r/hinted/embed?query=couch"):
        card = _cards(client.get(path).text)["sofa"]
        assert "Matched by meaning" in card
        assert "<mark>" not in card  # it shares no word with the query: plain text
    words = _cards(client.get("/r/hinted?query=desk+lamp").text)["lamp"]
    assert "<mark>lamp</mark>" in words
    assert "Matched by meaning" not in words
    assert "Matched by meaning" not in client.get("/r/plain?query=couch").text
    assert "Matched by meaning" not in client.get("/r/hinted").text  # browsing: no query


def test_a_feature_search_stage_chooses_its_fusion_of_mixpeeks_two(client: TestClient) -> None:
    def create(fusion: object) -> Any:
        parameters = {"fields": ["title", "description"], "fusion": fusion}
        stage = {
            "stage_name": "s",
            "config": {"stage_id": "feature_search", "parameters": parameters},
        }
        return client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={
                "retriever_name": f"fused-{fusion}",
                "collection_identifiers": ["products"],
                "stages": [stage],
            },
        )

    created = create("dbsf")
    assert created.status_code == 200, created.text
    [stage] = created.json()["stages"]
    assert stage["config"]["parameters"]["fusion"] == "dbsf"
    assert created.json()["backend"]["fusion"] == "dbsf"
    for unknown in ("max", "learned", 3):
        refused = create(unknown)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["details"]["errors"][0]["field"] == "stages[0].config.parameters.fusion"
        assert "(rrf)" in error["message"]
        assert "(dbsf)" in error["message"]
