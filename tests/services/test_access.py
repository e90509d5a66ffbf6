"""Password access: header, verify, the signed cookie, and the throttle on wrong guesses."""

from __future__ import annotations

import logging
import string
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from app.services.access import MAX_FAILED_ATTEMPTS
from app.services.cookies import UnlockCookies
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import FakeClock, browse_config, local_backend, owner_headers

PASSWORD = "correct horse battery"
EXECUTE = "/v1/public/retrievers/locked/execute"
VERIFY = "/v1/public/retrievers/locked/verify"
COOKIE = UnlockCookies.name("locked")


def _setup(client: TestClient, password: str = PASSWORD) -> str:
    client.post(
        "/v1/collections/products/documents",
        headers=owner_headers(),
        json={"documents": [{"document_id": "1", "title": "Lamp"}]},
    )
    client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "page-password", "secret_value": password},
    )
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "locked", "backend": local_backend()},
    ).json()["retriever_id"]
    config = browse_config()
    response = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "locked",
            "display_config": config,
            "password_secret_name": "page-password",
            "rate_limit_config": {"tier": "unlimited"},
        },
    )
    assert response.status_code == 200, response.text
    return rid


@pytest.fixture
def locked(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> Iterator[tuple[TestClient, Any, str]]:
    app = create_app(make_settings(), clock=clock)
    with TestClient(app, client=("203.0.113.7", 4000)) as client:
        rid = _setup(client)
        yield client, app, rid


def _unlock(client: TestClient) -> str:
    response = client.post(VERIFY, json={"password": PASSWORD})
    assert response.json() == {"valid": True}
    cookie = response.cookies.get(COOKIE)
    assert cookie
    return cookie


def _execute(client: TestClient, cookie: str | None = None, **headers: str) -> int:
    client.cookies.clear()
    if cookie:
        # Set by hand: a Secure cookie would not go back over this test's plain HTTP.
        headers = {**headers, "Cookie": f"{COOKIE}={cookie}"}
    return client.post(EXECUTE, json={"inputs": {}}, headers=headers).status_code


def test_the_header(locked: tuple[TestClient, Any, str]) -> None:
    client, _, _ = locked
    assert _execute(client) == 401
    assert _execute(client, **{"X-Retriever-Password": "wrong"}) == 403
    assert _execute(client, **{"X-Retriever-Password": PASSWORD}) == 200


def test_verify_sets_a_signed_httponly_cookie_that_unlocks(
    locked: tuple[TestClient, Any, str],
) -> None:
    client, _, _ = locked
    response = client.post(VERIFY, json={"password": PASSWORD})
    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=")
    assert "HttpOnly" in header
    assert "Max-Age=86400" in header
    assert PASSWORD not in header
    assert _execute(client, response.cookies[COOKIE]) == 200


def test_over_https_the_cookie_works_inside_a_third_party_iframe(
    locked: tuple[TestClient, Any, str],
) -> None:
    client, _, _ = locked  # published at https://search.example.test
    header = client.post(VERIFY, json={"password": PASSWORD}).headers["set-cookie"]
    for attribute in ("Secure", "SameSite=None", "Partitioned", "HttpOnly"):
        assert attribute in header


def test_over_plain_http_the_cookie_is_lax(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings(public_url="http://localhost:8000"))) as client:
        _setup(client)
        header = client.post(VERIFY, json={"password": PASSWORD}).headers["set-cookie"]
    assert "SameSite=Lax" in header
    assert "Secure" not in header
    assert "Partitioned" not in header


def test_a_wrong_verify_sets_no_cookie(locked: tuple[TestClient, Any, str]) -> None:
    client, _, _ = locked
    response = client.post(VERIFY, json={"password": "nope"})
    assert response.json() == {"valid": False}
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-2] + ("AA" if not c.endswith("AA") else "BB"),  # signature changed
        lambda c: "x" + c,
        lambda c: c.split(".")[0],  # payload alone
        lambda c: "",
        lambda c: "eyJyIjoicHViX3gifQ.AAAA.BBBB",  # made up
    ],
)
def test_a_tampered_cookie_unlocks_nothing(
    locked: tuple[TestClient, Any, str], tamper: Callable[[str], str]
) -> None:
    client, _, _ = locked
    assert _execute(client, tamper(_unlock(client)) or None) == 401


def test_a_cookie_expires(locked: tuple[TestClient, Any, str], clock: FakeClock) -> None:
    client, _, _ = locked
    cookie = _unlock(client)
    clock.advance(86_400 - 5)
    assert _execute(client, cookie) == 200
    clock.advance(10)
    assert _execute(client, cookie) == 401


def test_changing_the_password_logs_everyone_out(locked: tuple[TestClient, Any, str]) -> None:
    client, _, _ = locked
    cookie = _unlock(client)
    client.put(
        "/v1/organizations/secrets/page-password",
        headers=owner_headers(),
        json={"secret_value": "a new password"},
    )
    assert _execute(client, cookie) == 401
    assert _execute(client, **{"X-Retriever-Password": "a new password"}) == 200


def test_a_cookie_is_bound_to_its_retriever(locked: tuple[TestClient, Any, str]) -> None:
    client, app, _ = locked
    forged = app.state.services.access.cookies.issue("pub_another", PASSWORD)
    assert _execute(client, forged) == 401


def test_wrong_guesses_are_throttled_per_address(
    locked: tuple[TestClient, Any, str], clock: FakeClock
) -> None:
    client, app, _ = locked
    for _ in range(MAX_FAILED_ATTEMPTS):
        assert client.post(VERIFY, json={"password": "guess"}).json() == {"valid": False}
    blocked = client.post(VERIFY, json={"password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    # The header path counts the same guesses.
    assert _execute(client, **{"X-Retriever-Password": PASSWORD}) == 429
    # Another address is not blocked, and its success does not unblock the first.
    other = TestClient(app, client=("198.51.100.4", 4000))
    assert other.post(VERIFY, json={"password": PASSWORD}).json() == {"valid": True}
    assert client.post(VERIFY, json={"password": PASSWORD}).status_code == 429
    clock.advance(15 * 60)
    assert client.post(VERIFY, json={"password": PASSWORD}).json() == {"valid": True}


def test_bad_verify_bodies(locked: tuple[TestClient, Any, str]) -> None:
    client, _, _ = locked
    for body in ({}, {"password": ""}, {"password": 123}, {"password": "x" * 1001}):
        assert client.post(VERIFY, json=body).status_code == 422
    json_type = {"Content-Type": "application/json"}
    assert client.post(VERIFY, content=b"{", headers=json_type).status_code == 422
    assert client.post(VERIFY, content=b'{"password": "x"}').status_code == 415


# Bracketed by a marker that occurs nowhere in this server's output, so that a value found in
# a response is a leak and not a coincidence (a bare "password_pro" is in every owner reply).
SECRETS = st.text(
    alphabet=string.ascii_letters + string.digits + "!#$%&*+-=?@^_ ", min_size=4, max_size=40
).map(lambda core: f"zq~{core}~qz")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(password=SECRETS, upstream_key=SECRETS)
def test_no_secret_value_reaches_a_response_or_a_log_line(
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
    password: str,
    upstream_key: str,
) -> None:
    caplog.clear()
    texts: list[str] = []
    with (
        caplog.at_level(logging.DEBUG),
        TestClient(
            create_app(make_settings(data_dir=make_settings().data_dir / uuid.uuid4().hex))
        ) as client,
    ):

        def record(response: Any) -> None:
            texts.append(response.text)
            texts.extend(f"{k}: {v}" for k, v in response.headers.items())

        rid = _setup(client, password)
        record(
            client.post(
                "/v1/organizations/secrets",
                headers=owner_headers(),
                json={"secret_name": "upstream", "secret_value": upstream_key},
            )
        )
        record(
            client.post(
                "/v1/organizations/secrets",
                headers=owner_headers(),
                json={"secret_name": "upstream", "secret_value": upstream_key},
            )
        )
        record(client.get("/v1/organizations/secrets", headers=owner_headers()))
        record(
            client.put(
                "/v1/organizations/secrets/page-password",
                headers=owner_headers(),
                json={"secret_value": password},
            )
        )
        record(client.get(f"/v1/retrievers/{rid}/publish", headers=owner_headers()))
        record(client.get("/v1/public/retrievers/locked/config"))
        record(client.post(VERIFY, json={"password": password}))
        record(client.post(VERIFY, json={"password": password + "x"}))
        record(
            client.post(EXECUTE, json={"inputs": {}}, headers={"X-Retriever-Password": password})
        )
        record(client.post(EXECUTE, json={"inputs": {}}, headers={"X-Retriever-Password": "no"}))
        record(client.delete("/v1/organizations/secrets/page-password", headers=owner_headers()))
    logged = [record.getMessage() for record in caplog.records]
    for secret in (password, upstream_key):
        for text in texts + logged:
            assert secret not in text
