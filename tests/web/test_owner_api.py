"""The owner API: retrievers, publishing, the seed PATCH, listing and unpublishing."""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from tests.helpers import (
    NAMESPACE,
    OTHER_KEY,
    OTHER_NAMESPACE,
    display_config,
    local_backend,
    owner_headers,
    seed_update,
)


def _create_secret(client: TestClient, name: str, value: str = "hunter2-password") -> None:
    response = client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": name, "secret_value": value},
    )
    assert response.status_code == 200, response.text


def test_register_and_read_a_retriever(client: TestClient) -> None:
    created = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={
            "retriever_name": "catalog",
            "description": "All products",
            "input_schema": {"query": {"type": "string"}},
            "backend": local_backend(),
        },
    ).json()
    assert created["retriever_id"].startswith("ret_")
    assert created["is_published"] is False
    fetched = client.get(f"/v1/retrievers/{created['retriever_id']}", headers=owner_headers())
    assert fetched.status_code == 200
    assert fetched.json() == created


def test_retriever_names_are_unique_within_a_namespace(
    client: TestClient, retriever_id: str
) -> None:
    again = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "products", "backend": local_backend()},
    )
    assert again.status_code == 409
    assert "already exists" in again.json()["error"]["message"]


def test_list_retrievers_pages(client: TestClient) -> None:
    for n in range(5):
        client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": f"r{n}", "backend": local_backend()},
        )
    page = client.get("/v1/retrievers?limit=2&offset=2", headers=owner_headers()).json()
    assert page["total"] == 5
    assert [r["retriever_name"] for r in page["results"]] == ["r2", "r3"]
    sdk_style = client.get("/v1/retrievers?page=3&page_size=2", headers=owner_headers()).json()
    assert [r["retriever_name"] for r in sdk_style["results"]] == ["r4"]


def test_publish_returns_ids_keys_and_the_public_url(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    assert published["public_id"].startswith("pub_")
    assert published["public_api_key"].startswith("prk_")
    assert len(published["public_api_key"]) > 30
    assert published["public_url"] == "https://search.example.test/r/product-search"
    assert published["retriever_id"] == retriever_id
    assert published["password_protected"] is False


def test_published_retriever_reads_back_with_defaults(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    body = client.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers()).json()
    assert body["public_name"] == "product-search"
    assert body["retriever_name"] == "products"
    assert _as_sent(body["display_config"]) == display_config()
    assert body["rate_limit_config"]["tier"] == "standard"
    assert body["rate_limit_config"]["max_results_per_query"] == 100
    assert body["is_active"] is True
    retriever = client.get(f"/v1/retrievers/{retriever_id}", headers=owner_headers()).json()
    assert retriever["is_published"] is True
    assert retriever["public_name"] == "product-search"


def test_publishing_twice_is_a_conflict(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    again = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"public_name": "other-name", "display_config": display_config()},
    )
    assert again.status_code == 409
    assert "already published" in again.json()["error"]["message"]


def test_public_names_are_unique_across_namespaces(
    client: TestClient, published: dict[str, Any]
) -> None:
    from tests.conftest import OTHER_KEY, OTHER_NAMESPACE

    other = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
    rid = client.post(
        "/v1/retrievers", headers=other, json={"retriever_name": "x", "backend": local_backend()}
    ).json()["retriever_id"]
    taken = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=other,
        json={"public_name": "product-search", "display_config": display_config()},
    )
    assert taken.status_code == 409
    assert "taken" in taken.json()["error"]["message"]
    availability = client.get(
        f"/v1/retrievers/{rid}/publish/availability?name=product-search", headers=other
    ).json()
    assert availability == {
        "name": "product-search",
        "available": False,
        "reason": "This public name is taken.",
    }
    free = client.get(f"/v1/retrievers/{rid}/publish/availability?name=free-name", headers=other)
    assert free.json()["available"] is True


def test_availability_explains_a_malformed_name(client: TestClient, retriever_id: str) -> None:
    body = client.get(
        f"/v1/retrievers/{retriever_id}/publish/availability?name=Bad_Name", headers=owner_headers()
    ).json()
    assert body["available"] is False
    assert "lowercase" in body["reason"]
    missing = client.get(
        f"/v1/retrievers/{retriever_id}/publish/availability", headers=owner_headers()
    )
    assert missing.status_code == 422
    assert "'name'" in missing.json()["error"]["message"]


def test_public_name_is_derived_when_not_given(client: TestClient) -> None:
    names = []
    for n in range(2):
        rid = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": f"r{n}", "backend": local_backend()},
        ).json()["retriever_id"]
        body = client.post(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={"display_name": "Peptide Evidence Search!", "display_config": display_config()},
        ).json()
        names.append(body["public_name"])
    assert names == ["peptide-evidence-search", "peptide-evidence-search-2"]


def test_publish_uses_the_retrievers_stored_display_config(client: TestClient) -> None:
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={
            "retriever_name": "with-config",
            "backend": local_backend(),
            "display_config": display_config(title="Stored"),
        },
    ).json()["retriever_id"]
    client.post(
        f"/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"public_name": "stored"}
    )
    body = client.get(f"/v1/retrievers/{rid}/publish", headers=owner_headers()).json()
    assert body["display_config"]["title"] == "Stored"


def test_publish_without_any_display_config_says_what_is_missing(
    client: TestClient, retriever_id: str
) -> None:
    response = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"public_name": "abc"},
    )
    assert response.status_code == 422
    assert "display_config is required" in response.json()["error"]["message"]


def test_the_seed_patch_body_is_accepted_and_round_trips(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    _create_secret(client, "published_retriever_password")
    body = seed_update()
    body["password_secret_name"] = "published_retriever_password"
    response = client.patch(
        f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers(), json=body
    )
    assert response.status_code == 200, response.text
    patched = response.json()
    assert _as_sent(patched["display_config"]) == body["display_config"]
    assert patched["password_protected"] is True
    assert patched["password_secret_name"] == "published_retriever_password"
    assert patched["rate_limit_config"]["max_results_per_query"] == 50
    assert patched["rate_limit_config"]["description"] == body["rate_limit_config"]["description"]
    again = client.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers()).json()
    assert again == patched


def test_patch_changes_only_the_fields_sent(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    url = f"/v1/retrievers/{retriever_id}/publish"
    client.patch(url, headers=owner_headers(), json={"tags": ["a", "b"], "category": "demo"})
    client.patch(url, headers=owner_headers(), json={"rate_limit_config": {"tier": "elevated"}})
    client.patch(url, headers=owner_headers(), json={"is_active": False})
    body = client.get(url, headers=owner_headers()).json()
    assert body["tags"] == ["a", "b"]
    assert body["category"] == "demo"
    assert body["rate_limit_config"]["tier"] == "elevated"
    # The rate limit's other keys were kept, not reset to defaults.
    assert body["rate_limit_config"]["enabled"] is True
    assert body["is_active"] is False
    assert _as_sent(body["display_config"]) == display_config()
    assert body["public_api_key"] == published["public_api_key"]
    assert body["updated_at"] > body["created_at"]


def test_empty_password_secret_name_removes_the_password(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    _create_secret(client, "pw")
    url = f"/v1/retrievers/{retriever_id}/publish"
    assert client.patch(url, headers=owner_headers(), json={"password_secret_name": "pw"}).json()[
        "password_protected"
    ]
    removed = client.patch(url, headers=owner_headers(), json={"password_secret_name": ""}).json()
    assert removed["password_protected"] is False
    assert removed["password_secret_name"] is None


def test_public_name_cannot_change(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    url = f"/v1/retrievers/{retriever_id}/publish"
    response = client.patch(url, headers=owner_headers(), json={"public_name": "new-name"})
    assert response.status_code == 422
    assert "public_name cannot change" in response.json()["error"]["message"]
    same = client.patch(url, headers=owner_headers(), json={"public_name": "product-search"})
    assert same.status_code == 200


def test_list_published(client: TestClient, published: dict[str, Any]) -> None:
    body = client.get("/v1/retrievers/published?limit=10", headers=owner_headers()).json()
    assert body["total"] == 1
    assert body["results"][0]["public_name"] == "product-search"


def test_unpublish_then_publish_again_under_a_new_name(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    url = f"/v1/retrievers/{retriever_id}/publish"
    gone = client.delete(url, headers=owner_headers())
    assert gone.status_code == 200
    assert gone.json()["success"] is True
    assert client.get(url, headers=owner_headers()).status_code == 404
    assert client.delete(url, headers=owner_headers()).status_code == 404
    again = client.post(
        url,
        headers=owner_headers(),
        json={"public_name": "new-home", "display_config": display_config()},
    )
    assert again.status_code == 200
    assert again.json()["public_api_key"] != published["public_api_key"]


def test_deleting_a_retriever_unpublishes_it(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    assert (
        client.delete(f"/v1/retrievers/{retriever_id}", headers=owner_headers()).status_code == 200
    )
    assert client.get(f"/v1/retrievers/{retriever_id}", headers=owner_headers()).status_code == 404
    listing = client.get("/v1/retrievers/published", headers=owner_headers()).json()
    assert listing["total"] == 0
    # The public name is free again.
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "next", "backend": local_backend()},
    ).json()["retriever_id"]
    assert (
        client.get(
            f"/v1/retrievers/{rid}/publish/availability?name=product-search",
            headers=owner_headers(),
        ).json()["available"]
        is True
    )


def test_mixpeek_backend_needs_an_existing_key_secret(client: TestClient) -> None:
    backend = {
        "type": "mixpeek",
        "base_url": "https://api.example.test",
        "retriever_id": "ret_upstream",
        "namespace": "upstream-ns",
        "api_key_secret_name": "upstream-key",
    }
    missing = client.post(
        "/v1/retrievers", headers=owner_headers(), json={"retriever_name": "up", "backend": backend}
    )
    assert missing.status_code == 422
    assert "backend.api_key_secret_name" in missing.json()["error"]["message"]
    _create_secret(client, "upstream-key", "sk_live_upstream")
    created = client.post(
        "/v1/retrievers", headers=owner_headers(), json={"retriever_name": "up", "backend": backend}
    )
    assert created.status_code == 200
    assert created.json()["backend"]["api_key_secret_name"] == "upstream-key"
    assert "sk_live_upstream" not in created.text


def test_retriever_metadata_never_names_upstream_urls_or_secrets(client: TestClient) -> None:
    _create_secret(client, "upstream-key", "sk_live_upstream")
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={
            "retriever_name": "up",
            "backend": {
                "type": "mixpeek",
                "base_url": "https://internal.example.test",
                "retriever_id": "r",
                "namespace": "n",
                "api_key_secret_name": "upstream-key",
            },
        },
    ).json()["retriever_id"]
    body = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "upstream",
            "display_config": display_config(),
            "include_metadata": True,
        },
    )
    assert body.status_code == 200
    metadata = client.get(f"/v1/retrievers/{rid}/publish", headers=owner_headers()).json()[
        "retriever_metadata"
    ]
    assert metadata["capabilities"] == {"backend": "mixpeek"}
    assert "internal.example.test" not in str(metadata)
    assert "upstream-key" not in str(metadata)


def test_namespace_of_the_published_record_is_reported(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    body = client.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers()).json()
    assert body["namespace_id"] == NAMESPACE


def test_the_publish_limit_is_kept_and_told(make_settings: Any) -> None:
    from app.web.app import create_app

    with TestClient(create_app(make_settings(max_published_per_namespace=1))) as client:

        def publish(name: str) -> Any:
            rid = client.post(
                "/v1/retrievers",
                headers=owner_headers(),
                json={"retriever_name": name, "backend": local_backend()},
            ).json()["retriever_id"]
            return client.post(
                f"/v1/retrievers/{rid}/publish",
                headers=owner_headers(),
                json={"public_name": name, "display_config": display_config()},
            )

        assert publish("first").status_code == 200
        stats = client.get("/v1/retrievers/publish/stats", headers=owner_headers()).json()
        assert stats == {"current_count": 1, "max_allowed": 1, "remaining": 0, "at_limit": True}
        refused = publish("second")
        assert refused.status_code == 409
        assert "limit" in refused.json()["error"]["message"]
        # Another namespace counts on its own.
        other = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
        assert client.get("/v1/retrievers/publish/stats", headers=other).json()["remaining"] == 1


def test_the_directory_lists_switched_off_retrievers_only_when_asked(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    client.patch(
        f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers(), json={"is_active": False}
    )
    assert client.get("/v1/public/retrievers/").json()["total_count"] == 0
    listed = client.get("/v1/public/retrievers/?include_inactive=true").json()
    assert [(r["public_name"], r["is_active"]) for r in listed["results"]] == [
        (published["public_name"], False)
    ]
    assert listed["stats"]["total_active"] == 0


def _as_sent(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored display config without what the server fills in when it is published."""
    config = dict(stored)
    filled = config.pop("retriever_config")
    assert filled["stages"][0]["config"]["stage_id"] == "feature_search"  # hybrid, the default
    return config


def test_a_sent_retriever_config_is_replaced_by_the_servers(
    client: TestClient, retriever_id: str
) -> None:
    response = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={
            "public_name": "filled-in",
            "display_config": display_config(retriever_config={"stages": ["made up"]}),
        },
    )
    assert response.status_code == 200, response.text
    config = client.get("/v1/public/retrievers/filled-in/config").json()["display_config"]
    parameters = {
        "fields": ["title", "description"],
        "mode": "hybrid",
        "semantic_ratio": 0.5,
        "fusion": "rrf",
    }
    assert config["retriever_config"] == {
        "stages": [
            {
                "stage_name": "feature_search",
                "stage_type": "filter",
                "config": {"stage_id": "feature_search", "parameters": parameters},
                "parameters": parameters,
            }
        ],
        "collection_identifiers": ["products"],
    }


def test_every_owner_call_asks_for_x_namespace_the_same_way(client: TestClient) -> None:
    """Only the organization-secret calls may go without it (as Mixpeek's SDK sends them)."""
    from app.web.routing import MethodRoute

    headers = {"Authorization": f"Bearer {owner_headers()['Authorization'].split()[1]}"}
    checked = 0
    for route in client.app.routes:  # type: ignore[attr-defined]
        if not isinstance(route, MethodRoute):
            continue
        for method, operation in route.operations.items():
            if not operation.owner or operation.namespace_optional:
                continue
            path = re.sub(r"\{[^}]+\}", "x-1", route.path)
            answer = client.request(method, path, headers=headers, json={})
            assert answer.status_code == 422, (method, path, answer.text)
            assert answer.json()["error"]["details"]["errors"][0]["field"] == "X-Namespace"
            checked += 1
    assert checked >= 28  # every owner call there is


def test_publishing_over_an_empty_collection_warns(client: TestClient) -> None:
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "empty", "backend": local_backend("nothing-yet")},
    ).json()["retriever_id"]
    published = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "empty-page", "display_config": display_config()},
    )
    assert published.status_code == 200
    assert any("'nothing-yet' has no documents yet" in w for w in published.json()["warnings"])
    client.post(
        "/v1/collections/stocked/documents",
        headers=owner_headers(),
        json={"documents": [{"document_id": "a", "title": "A", "description": "B"}]},
    )
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "stocked", "backend": local_backend("stocked")},
    ).json()["retriever_id"]
    stocked = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "stocked-page", "display_config": display_config()},
    )
    assert not any("no documents" in w for w in stocked.json()["warnings"])
