"""Organization secrets: names listed, values never returned, encrypted at rest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.crypto import SecretBox
from app.settings import Settings
from tests.helpers import owner_headers

VALUE = "correct horse battery staple 9f8e7d"


def _create(client: TestClient, name: str = "db-password", value: str = VALUE) -> Any:
    return client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": name, "secret_value": value},
    )


def test_create_list_replace_delete(client: TestClient) -> None:
    created = _create(client)
    assert created.status_code == 200
    assert created.json() == {
        "secret_name": "db-password",
        "created": True,
        "updated": None,
        "deleted": None,
    }
    _create(client, "another")
    listing = client.get("/v1/organizations/secrets", headers=owner_headers()).json()
    assert listing == {"secrets": ["another", "db-password"], "count": 2}
    replaced = client.put(
        "/v1/organizations/secrets/db-password",
        headers=owner_headers(),
        json={"secret_value": "new"},
    )
    assert replaced.json()["updated"] is True
    deleted = client.delete("/v1/organizations/secrets/db-password", headers=owner_headers())
    assert deleted.json()["deleted"] is True
    assert client.get("/v1/organizations/secrets", headers=owner_headers()).json()["count"] == 1


def test_duplicate_and_missing_secrets(client: TestClient) -> None:
    _create(client)
    assert _create(client).status_code == 409
    missing = client.put(
        "/v1/organizations/secrets/nope", headers=owner_headers(), json={"secret_value": "x"}
    )
    assert missing.status_code == 404
    assert (
        client.delete("/v1/organizations/secrets/nope", headers=owner_headers()).status_code == 404
    )


def test_values_never_come_back(client: TestClient) -> None:
    responses = [_create(client)]
    responses.append(client.get("/v1/organizations/secrets", headers=owner_headers()))
    responses.append(
        client.put(
            "/v1/organizations/secrets/db-password",
            headers=owner_headers(),
            json={"secret_value": VALUE + "2"},
        )
    )
    for response in responses:
        assert VALUE not in response.text


def test_values_are_encrypted_at_rest(client: TestClient, settings: Settings) -> None:
    _create(client)
    raw = b"".join(p.read_bytes() for p in Path(settings.data_dir).glob("*.db*"))
    assert raw  # the store's files were read
    assert VALUE.encode() not in raw


def test_a_secret_in_use_cannot_be_deleted(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    _create(client, "pw")
    client.patch(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"password_secret_name": "pw"},
    )
    refused = client.delete("/v1/organizations/secrets/pw", headers=owner_headers())
    assert refused.status_code == 409
    assert "product-search" in refused.json()["error"]["message"]
    assert (
        "pw" in client.get("/v1/organizations/secrets", headers=owner_headers()).json()["secrets"]
    )


@pytest.mark.parametrize(
    "body",
    [
        {"secret_name": "", "secret_value": "x"},
        {"secret_name": "has space", "secret_value": "x"},
        {"secret_name": "ok", "secret_value": ""},
        {"secret_name": "ok", "secret_value": 12345},
        {"secret_name": "a" * 101, "secret_value": "x"},
        {"secret_value": "x"},
    ],
)
def test_bad_secret_requests(client: TestClient, body: dict[str, Any]) -> None:
    response = client.post("/v1/organizations/secrets", headers=owner_headers(), json=body)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["field"] in (
        "secret_name",
        "secret_value",
    )
    assert client.get("/v1/organizations/secrets", headers=owner_headers()).json()["count"] == 0


def test_the_box_binds_ciphertexts_to_their_row() -> None:
    box = SecretBox("k" * 40)
    sealed = box.seal("acme", "a", "value")
    assert box.open("acme", "a", sealed) == "value"
    with pytest.raises(Exception):  # noqa: B017, PT011 - cryptography's InvalidTag
        box.open("acme", "b", sealed)
    with pytest.raises(Exception):  # noqa: B017, PT011
        SecretBox("z" * 40).open("acme", "a", sealed)


# Organization secrets and namespace secrets, as Mixpeek scopes them --------------------------

PLAIN_KEY = "plain-operator-key-0123456789"  # a key of every namespace
GLOBEX_KEY = "globex-key-0123456789abcdef"  # a key of globex only


@pytest.fixture
def org(make_settings: Any) -> Any:
    from app.web.app import create_app

    settings = make_settings(api_keys=[PLAIN_KEY, f"globex:{GLOBEX_KEY}"])
    with TestClient(create_app(settings)) as client:
        yield client


def _bare(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}  # no X-Namespace, as the SDK sends


def _secret(client: TestClient, headers: dict[str, str], name: str, value: str) -> Any:
    return client.post(
        "/v1/organizations/secrets",
        headers=headers,
        json={"secret_name": name, "secret_value": value},
    )


def _protected_page(client: TestClient, namespace: str, key: str, secret: str) -> Any:
    from tests.helpers import display_config, local_backend

    headers = {"Authorization": f"Bearer {key}", "X-Namespace": namespace}
    rid = client.post(
        "/v1/retrievers",
        headers=headers,
        json={"retriever_name": f"r-{namespace}", "backend": local_backend()},
    ).json()["retriever_id"]
    return client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=headers,
        json={
            "public_name": f"page-{namespace}",
            "display_config": display_config(),
            "password_secret_name": secret,
        },
    )


def test_a_plain_key_keeps_organization_secrets_every_namespace_can_use(org: TestClient) -> None:
    assert _secret(org, _bare(PLAIN_KEY), "site-pw", "org-password").status_code == 200
    assert org.get("/v1/organizations/secrets", headers=_bare(PLAIN_KEY)).json()["secrets"] == [
        "site-pw"
    ]
    # Any namespace sees the name and may use it; the value works as the page's password.
    listed = org.get("/v1/organizations/secrets", headers=_bare(GLOBEX_KEY)).json()
    assert listed["secrets"] == ["site-pw"]
    assert _protected_page(org, "globex", GLOBEX_KEY, "site-pw").status_code == 200
    verify = org.post("/v1/public/retrievers/page-globex/verify", json={"password": "org-password"})
    assert verify.json() == {"valid": True}
    # A namespace's own secret of the same name comes first, for that namespace only.
    assert _secret(org, _bare(GLOBEX_KEY), "site-pw", "globex-password").status_code == 200
    verify = org.post(
        "/v1/public/retrievers/page-globex/verify", json={"password": "globex-password"}
    )
    assert verify.json() == {"valid": True}
    # The namespace cannot change or delete the organization's secret, only its own.
    assert (
        org.delete("/v1/organizations/secrets/site-pw", headers=_bare(GLOBEX_KEY)).status_code
        == 409
    )
    assert _protected_page(org, "acme", PLAIN_KEY, "site-pw").status_code == 200
    in_use = org.delete("/v1/organizations/secrets/site-pw", headers=_bare(PLAIN_KEY))
    assert in_use.status_code == 409  # acme's page uses the organization's
    assert "page-acme" in in_use.text


def test_a_namespace_never_uses_another_namespaces_secret(org: TestClient) -> None:
    acme = {"Authorization": f"Bearer {PLAIN_KEY}", "X-Namespace": "acme"}
    assert _secret(org, acme, "acme-only", "acme-password").status_code == 200
    assert org.get("/v1/organizations/secrets", headers=_bare(GLOBEX_KEY)).json()["secrets"] == []
    refused = _protected_page(org, "globex", GLOBEX_KEY, "acme-only")
    assert refused.status_code == 422
    assert "acme-only" in refused.text


def test_an_organization_key_goes_to_one_upstream_whoever_names_it(org: TestClient) -> None:
    assert _secret(org, _bare(PLAIN_KEY), "up-key", "sk-live").status_code == 200

    def register(namespace: str, key: str, base_url: str) -> Any:
        backend = {
            "type": "mixpeek",
            "base_url": base_url,
            "retriever_id": "r",
            "namespace": "n",
            "api_key_secret_name": "up-key",
        }
        return org.post(
            "/v1/retrievers",
            headers={"Authorization": f"Bearer {key}", "X-Namespace": namespace},
            json={"retriever_name": f"up-{namespace}", "backend": backend},
        )

    assert register("acme", PLAIN_KEY, "http://127.0.0.1:9/").status_code == 200
    elsewhere = register("globex", GLOBEX_KEY, "http://127.0.0.1:10/")
    assert elsewhere.status_code == 422
    assert "another upstream" in elsewhere.text
