"""Owner authentication and namespace isolation."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from app.schemas.roles import Role
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    NAMESPACE,
    OTHER_KEY,
    OTHER_NAMESPACE,
    OWNER_KEY,
    display_config,
    local_backend,
    owner_headers,
)

OWNER_CALLS = [
    ("GET", "/v1/retrievers"),
    ("POST", "/v1/retrievers"),
    ("GET", "/v1/retrievers/published"),
    ("GET", "/v1/retrievers/ret_x/publish"),
    ("PATCH", "/v1/retrievers/ret_x/publish"),
    ("GET", "/v1/organizations/secrets"),
    ("PUT", "/v1/organizations/secrets/name"),
]


@pytest.mark.parametrize(("method", "path"), OWNER_CALLS)
def test_every_owner_call_needs_a_key(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers={"X-Namespace": NAMESPACE}, json={})
    assert response.status_code == 401
    body = response.json()
    assert body["success"] is False
    assert body["error"]["type"] == "unauthorized"
    assert "Authorization" in body["error"]["message"]


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {OWNER_KEY}x", "Bearer ", f"Basic {OWNER_KEY}", OWNER_KEY, "Bearer sk_" + "a" * 43],
)
def test_wrong_keys_are_refused(client: TestClient, authorization: str) -> None:
    response = client.get(
        "/v1/retrievers", headers={"Authorization": authorization, "X-Namespace": NAMESPACE}
    )
    assert response.status_code == 401


def test_the_namespace_header_is_required_and_checked(client: TestClient) -> None:
    missing = client.get("/v1/retrievers", headers={"Authorization": f"Bearer {OWNER_KEY}"})
    assert missing.status_code == 422
    assert "X-Namespace" in missing.json()["error"]["message"]
    bad = client.get("/v1/retrievers", headers=owner_headers(namespace="../etc"))
    assert bad.status_code == 422
    assert "X-Namespace" in bad.json()["error"]["message"]


def test_a_namespaced_key_cannot_act_in_another_namespace(client: TestClient) -> None:
    response = client.get("/v1/retrievers", headers=owner_headers(OWNER_KEY, OTHER_NAMESPACE))
    assert response.status_code == 403
    assert OTHER_NAMESPACE in response.json()["error"]["message"]


def test_another_namespaces_resources_are_404(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    other = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
    for method, path in [
        ("GET", f"/v1/retrievers/{retriever_id}"),
        ("DELETE", f"/v1/retrievers/{retriever_id}"),
        ("GET", f"/v1/retrievers/{retriever_id}/publish"),
        ("PATCH", f"/v1/retrievers/{retriever_id}/publish"),
        ("DELETE", f"/v1/retrievers/{retriever_id}/publish"),
        ("GET", f"/v1/retrievers/{retriever_id}/publish/availability?name=abc"),
    ]:
        response = client.request(method, path, headers=other, json={"is_active": False})
        assert response.status_code == 404, (method, path)
    assert client.get("/v1/retrievers", headers=other).json()["total"] == 0
    assert client.get("/v1/retrievers/published", headers=other).json()["total"] == 0
    # Nothing the other namespace tried changed the owner's retriever.
    mine = client.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers()).json()
    assert mine["is_active"] is True


def test_secrets_are_per_namespace(client: TestClient) -> None:
    client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "shared-name", "secret_value": "acme-value"},
    )
    other = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
    assert client.get("/v1/organizations/secrets", headers=other).json() == {
        "secrets": [],
        "count": 0,
    }
    assert client.delete("/v1/organizations/secrets/shared-name", headers=other).status_code == 404
    created = client.post(
        "/v1/organizations/secrets",
        headers=other,
        json={"secret_name": "shared-name", "secret_value": "globex-value"},
    )
    assert created.status_code == 200


def test_an_operator_key_works_in_every_namespace(make_settings: Any) -> None:
    settings: Settings = make_settings(api_keys=["operator-key-0123456789"])
    with TestClient(create_app(settings)) as client:
        for namespace in ("one", "two"):
            headers = {"Authorization": "Bearer operator-key-0123456789", "X-Namespace": namespace}
            created = client.post(
                "/v1/retrievers",
                headers=headers,
                json={"retriever_name": "same-name", "backend": local_backend()},
            )
            assert created.status_code == 200
            assert client.get("/v1/retrievers", headers=headers).json()["total"] == 1


def test_a_created_key_works_only_in_its_namespace(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        key = app.state.services.keys.create_key("fresh")
        assert key.startswith("sk_")
        ok = client.get(
            "/v1/retrievers", headers={"Authorization": f"Bearer {key}", "X-Namespace": "fresh"}
        )
        assert ok.status_code == 200
        other = client.get(
            "/v1/retrievers", headers={"Authorization": f"Bearer {key}", "X-Namespace": NAMESPACE}
        )
        assert other.status_code == 403


def test_secret_calls_without_a_namespace_use_the_keys_own(client: TestClient) -> None:
    """The SDK sends organization-secret calls without X-Namespace."""
    headers = {"Authorization": f"Bearer {OWNER_KEY}"}
    created = client.post(
        "/v1/organizations/secrets", headers=headers, json={"secret_name": "k", "secret_value": "v"}
    )
    assert created.status_code == 200
    listed = client.get("/v1/organizations/secrets", headers=owner_headers()).json()
    assert listed["secrets"] == ["k"]
    # Retriever calls still need the header.
    assert client.get("/v1/retrievers", headers=headers).status_code == 422


def test_a_key_of_every_namespace_without_one_acts_on_the_organization(
    make_settings: Any,
) -> None:
    settings: Settings = make_settings(api_keys=["operator-key-0123456789"])
    headers = {"Authorization": "Bearer operator-key-0123456789"}
    with TestClient(create_app(settings)) as client:
        response = client.get("/v1/organizations/secrets", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"secrets": [], "count": 0}
        # Every other owner call still needs the namespace it acts in.
        listing = client.get("/v1/retrievers", headers=headers)
        assert listing.status_code == 422
        assert "X-Namespace" in listing.json()["error"]["message"]


# Roles --------------------------------------------------------------------------------------

VIEWER_KEY = "viewer-key-0123456789abc"
EDITOR_KEY = "editor-key-0123456789abc"


@pytest.fixture
def roles(make_settings: Any) -> Any:
    keys = [
        f"{NAMESPACE}:{OWNER_KEY}",
        f"{NAMESPACE}:{VIEWER_KEY}@viewer",
        f"{NAMESPACE}:{EDITOR_KEY}@editor",
    ]
    with TestClient(create_app(make_settings(api_keys=keys))) as client:
        yield client


def _refusal(response: Any, role: str) -> None:
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert f"needs the {role} role" in error["message"]
    assert error["details"]["needed_role"] == role


def test_a_viewer_reads_and_changes_nothing(roles: TestClient) -> None:
    viewer = owner_headers(VIEWER_KEY)
    assert roles.get("/v1/retrievers", headers=viewer).status_code == 200
    created = roles.post(
        "/v1/retrievers",
        headers=viewer,
        json={"retriever_name": "nope", "backend": local_backend()},
    )
    _refusal(created, "editor")
    documents = roles.post(
        "/v1/collections/products/documents",
        headers=viewer,
        json={"documents": [{"title": "x"}]},
    )
    _refusal(documents, "editor")
    _refusal(roles.get("/v1/organizations/secrets", headers=viewer), "owner")
    assert roles.get("/v1/retrievers", headers=owner_headers()).json()["total"] == 0


def test_an_editor_publishes_but_deletes_nothing_and_sees_no_secret(roles: TestClient) -> None:
    editor = owner_headers(EDITOR_KEY)
    rid = roles.post(
        "/v1/retrievers",
        headers=editor,
        json={"retriever_name": "edited", "backend": local_backend()},
    ).json()["retriever_id"]
    published = roles.post(
        f"/v1/retrievers/{rid}/publish",
        headers=editor,
        json={"public_name": "edited", "display_config": display_config()},
    )
    assert published.status_code == 200, published.text
    patched = roles.patch(f"/v1/retrievers/{rid}/publish", headers=editor, json={"tags": ["a"]})
    assert patched.status_code == 200
    _refusal(roles.delete(f"/v1/retrievers/{rid}/publish", headers=editor), "owner")
    _refusal(roles.delete(f"/v1/retrievers/{rid}", headers=editor), "owner")
    secret = roles.post(
        "/v1/organizations/secrets",
        headers=editor,
        json={"secret_name": "s", "secret_value": "v"},
    )
    _refusal(secret, "owner")
    assert roles.delete(f"/v1/retrievers/{rid}", headers=owner_headers()).status_code == 200


def test_a_created_key_carries_its_role(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        keys = client.app.state.services.keys  # type: ignore[attr-defined]
        viewer = keys.create_key("fresh", "reader", Role.VIEWER)
        headers = owner_headers(viewer, "fresh")
        assert client.get("/v1/retrievers", headers=headers).status_code == 200
        refused = client.post(
            "/v1/retrievers",
            headers=headers,
            json={"retriever_name": "x", "backend": local_backend()},
        )
        _refusal(refused, "editor")


@pytest.mark.parametrize("entry", ["acme:key-0123456789abcdef@admin", "key-0123456789abcdef@"])
def test_an_unknown_role_in_the_keys_setting_stops_the_start(entry: str) -> None:
    with pytest.raises(ValueError, match="not a role"):
        Settings(api_keys=[entry])
