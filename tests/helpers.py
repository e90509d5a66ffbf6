"""What tests share besides fixtures: the owner keys, the seed's display config, builders of
retrievers and published pages, and a clock that moves only when told to."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

OWNER_KEY = "test-owner-key-0123456789"


OTHER_KEY = "other-owner-key-0123456789"


NAMESPACE = "acme"


OTHER_NAMESPACE = "globex"


FIXTURES = Path(__file__).parent / "fixtures"


# Where the browser tests save what they saw: ignored by git, so a test run changes no tracked
# file; scripts/screenshots copies the pictures the docs show from here into docs/screenshots.
SCREENSHOTS = Path(__file__).parent.parent / ".screenshots"


IN_CI = os.environ.get("CI") == "true"


def owner_headers(key: str = OWNER_KEY, namespace: str = NAMESPACE) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-Namespace": namespace}


def seed_update() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "seed_update.json").read_text())
    return data


def display_config(**overrides: Any) -> dict[str, Any]:
    """The seed's display config, a valid one to start every test from."""
    config = seed_update()["display_config"]
    config.update(overrides)
    return config


def browse_config(**overrides: Any) -> dict[str, Any]:
    """A display config whose one input, the query, may be left empty (browsing is a search)."""
    query = {
        "field_name": "query",
        "label": "Q",
        "required": False,
        "field_schema": {"type": "string"},
    }
    return display_config(inputs=[query], **overrides)


def protect(client: Any, retriever_id: str, password: str) -> dict[str, Any]:
    """Put a password on a published retriever (a secret named "pw"); returns the PATCH's
    answer."""
    client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "pw", "secret_value": password},
    )
    response = client.patch(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"password_secret_name": "pw"},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def publish_over_upstream(
    client: Any, public_name: str, base_url: str, config: dict[str, Any], key: str
) -> str:
    """A retriever over a Mixpeek-compatible upstream at `base_url`, published with `config`
    and no rate limit; its key is the secret "up-key". Returns the retriever's id."""
    client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "up-key", "secret_value": key},
    )
    backend = {
        "type": "mixpeek",
        "base_url": base_url,
        "retriever_id": "r",
        "namespace": "n",
        "api_key_secret_name": "up-key",
    }
    return publish_backend(client, public_name, backend, config)


def publish_backend(
    client: Any, public_name: str, backend: dict[str, Any], config: dict[str, Any]
) -> str:
    """A retriever over `backend`, published with `config` and no rate limit. `client` is a
    TestClient or an httpx client on a live server. Returns the retriever's id."""
    retriever_id: str = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": public_name, "backend": backend},
    ).json()["retriever_id"]
    response = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={
            "public_name": public_name,
            "display_config": config,
            "rate_limit_config": {"tier": "unlimited"},
        },
    )
    assert response.status_code == 200, response.text
    return retriever_id


def local_backend(collection: str = "products") -> dict[str, Any]:
    return {"type": "local", "collection": collection, "search_fields": ["title", "description"]}


def publish_local(client: Any, public_name: str, exposed: list[str]) -> str:
    """A retriever over the "products" collection searching title and description, published
    with these exposed fields and a browse config without card extras."""
    config = browse_config(exposed_fields=exposed, field_config={})
    config["components"] = {}
    return publish_backend(client, public_name, local_backend(), config)


class FakeClock:
    """An injectable clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        # 10 s into a minute, hour and day, so that windows do not roll over by accident.
        self.now = start or datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
