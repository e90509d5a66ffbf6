"""Documents of the embedded engine: add, delete one, drop a collection."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.helpers import browse_config, local_backend, owner_headers

DOCUMENTS = [
    {"document_id": "a", "title": "Desk lamp", "description": "Warm light"},
    {"document_id": "b", "title": "Floor lamp", "description": "Tall"},
]


def _fill(client: TestClient, collection: str = "products") -> None:
    response = client.post(
        f"/v1/collections/{collection}/documents",
        headers=owner_headers(),
        json={"documents": DOCUMENTS},
    )
    assert response.status_code == 200, response.text


def _page(client: TestClient) -> Any:
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "lamps", "backend": local_backend()},
    ).json()["retriever_id"]
    config = browse_config(exposed_fields=["title", "description"], field_config={})
    config["components"] = {}
    published = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "lamps",
            "display_config": config,
            "rate_limit_config": {"tier": "unlimited"},
        },
    )
    assert published.status_code == 200, published.text
    return rid


def _found(client: TestClient) -> list[str]:
    answer = client.post("/v1/public/retrievers/lamps/execute", json={"inputs": {"query": "lamp"}})
    return sorted(d["document_id"] for d in answer.json()["documents"])


def test_a_deleted_document_is_found_no_more(client: TestClient) -> None:
    _fill(client)
    _page(client)
    assert _found(client) == ["a", "b"]
    deleted = client.delete("/v1/collections/products/documents/a", headers=owner_headers())
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {
        "collection": "products",
        "document_id": "a",
        "deleted": True,
        "total_documents": 1,
    }
    assert _found(client) == ["b"]
    again = client.delete("/v1/collections/products/documents/a", headers=owner_headers())
    assert again.status_code == 404
    elsewhere = client.delete("/v1/collections/nothing/documents/b", headers=owner_headers())
    assert elsewhere.status_code == 404
    # Adding it back works as a first add.
    _fill(client)
    assert _found(client) == ["a", "b"]


def test_a_collection_in_use_is_kept(client: TestClient) -> None:
    _fill(client)
    rid = _page(client)
    refused = client.delete("/v1/collections/products", headers=owner_headers())
    assert refused.status_code == 409
    assert refused.json()["error"]["details"]["used_by"] == ["lamps"]
    assert _found(client) == ["a", "b"]
    client.delete(f"/v1/retrievers/{rid}", headers=owner_headers())
    dropped = client.delete("/v1/collections/products", headers=owner_headers())
    assert dropped.status_code == 200, dropped.text
    assert dropped.json() == {"collection": "products", "deleted": True, "documents_deleted": 2}
    assert client.delete("/v1/collections/products", headers=owner_headers()).status_code == 404
    _fill(client)  # the name can be used again
    _page(client)
    assert _found(client) == ["a", "b"]


def test_collections_are_per_namespace_and_deletes_need_their_roles(
    make_settings: Any,
) -> None:
    from app.web.app import create_app

    viewer = "viewer-key-0123456789abcd"
    settings = make_settings(api_keys=["acme:test-owner-key-0123456789", f"acme:{viewer}@viewer"])
    with TestClient(create_app(settings)) as client:
        _fill(client)
        as_viewer = owner_headers(viewer)
        assert (
            client.delete("/v1/collections/products/documents/a", headers=as_viewer).status_code
            == 403
        )
        assert client.delete("/v1/collections/products", headers=as_viewer).status_code == 403
        other = owner_headers("test-owner-key-0123456789", "globex")
        assert (
            client.delete("/v1/collections/products/documents/a", headers=other).status_code == 403
        )
        assert client.delete("/v1/collections/Bad Name", headers=owner_headers()).status_code == 422
