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
