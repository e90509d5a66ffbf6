"""The console over HTTP: signing in and out, the session cookie, CSRF, roles, namespaces
and the wrong-key throttle (the pages themselves: tests/web/test_console_pages.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from starlette.testclient import TestClient

from app import crypto
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    NAMESPACE,
    OTHER_KEY,
    OTHER_NAMESPACE,
    OWNER_KEY,
    FakeClock,
    local_backend,
    owner_headers,
)

VIEWER_KEY = "acme-viewer-key-0123456789"
EDITOR_KEY = "acme-editor-key-0123456789"
OPERATOR_KEY = "operator-key-of-every-namespace-0123"
# acme's owner and viewer, and globex's owner: the seats a console test signs in as or keeps out.
SEATS = [
    f"{NAMESPACE}:{OWNER_KEY}",
    f"{NAMESPACE}:{VIEWER_KEY}@viewer",
    f"{OTHER_NAMESPACE}:{OTHER_KEY}",
]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def console(make_settings: Callable[..., Settings], clock: FakeClock) -> Iterator[TestClient]:
    settings = make_settings(
        api_keys=[
            f"{NAMESPACE}:{OWNER_KEY}",
            f"{OTHER_NAMESPACE}:{OTHER_KEY}",
            f"{NAMESPACE}:{VIEWER_KEY}@viewer",
            f"{NAMESPACE}:{EDITOR_KEY}@editor",
            OPERATOR_KEY,
        ]
    )
    with TestClient(create_app(settings, clock=clock), raise_server_exceptions=False) as client:
        yield client


def form_value(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no {name} in the page"
    return found[1]


def sign_in(client: TestClient, key: str, namespace: str = "") -> Any:
    client.cookies.clear()
    token = form_value(client.get("/console/sign-in").text, "token")
    return client.post(
        "/console/sign-in",
        data={"token": token, "key": key, "namespace": namespace},
        follow_redirects=False,
    )


def csrf(client: TestClient) -> str:
    return form_value(client.get("/console/collections").text, "csrf")


def add_documents(client: TestClient, namespace: str = NAMESPACE, key: str = OWNER_KEY) -> None:
    response = client.post(
        "/v1/collections/products/documents",
        headers=owner_headers(key, namespace),
        json={"documents": [{"document_id": "1", "title": "Lamp", "price": 20}]},
    )
    assert response.status_code == 200, response.text


def test_signing_in_sets_a_strict_session_cookie_without_the_key(console: TestClient) -> None:
    response = sign_in(console, OWNER_KEY)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/collections"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("rp_console=")
    for attribute in ("HttpOnly", "Path=/console", "SameSite=strict", "Max-Age=43200"):
        assert attribute in cookie
    assert "Secure" not in cookie  # plain http here; over https it is Secure
    assert OWNER_KEY not in cookie
    page = console.get("/console/collections")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "Sign out" in page.text


def test_over_https_the_cookie_is_secure(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())
    with TestClient(app, base_url="https://testserver") as client:
        assert "Secure" in sign_in(client, OWNER_KEY).headers["set-cookie"]


def test_signed_out_pages_lead_to_the_sign_in_form(console: TestClient) -> None:
    response = console.get("/console/retrievers", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fretrievers"
    assert console.get("/console", follow_redirects=False).headers["location"] == (
        "/console/sign-in"
    )


def test_signing_out_clears_the_cookie(console: TestClient) -> None:
    sign_in(console, OWNER_KEY)
    response = console.post(
        "/console/sign-out", data={"csrf": csrf(console)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "rp_console=" in response.headers["set-cookie"]
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert console.get("/console/collections", follow_redirects=False).status_code == 303


def test_a_wrong_key_is_refused_beside_its_field(console: TestClient) -> None:
    response = sign_in(console, "not-a-key-of-this-server")
    assert response.status_code == 401
    assert 'aria-invalid="true"' in response.text
    assert "not an owner key" in response.text
    assert "set-cookie" not in response.headers


def test_a_forged_or_tampered_session_is_refused(console: TestClient) -> None:
    sign_in(console, OWNER_KEY)
    real = console.cookies["rp_console"]
    console.cookies.clear()
    forged = URLSafeTimedSerializer("not-the-server-secret", salt="console-session").dumps(
        {"k": crypto.hash_key(OWNER_KEY), "n": NAMESPACE, "s": "x"}
    )
    payload, stamp, signature = real.rsplit(".", 2)
    tampered = f"{payload[:-2]}AA.{stamp}.{signature}"
    for value in (forged, tampered, "garbage", ""):
        console.cookies.set("rp_console", value, path="/console")
        response = console.get("/console/collections", follow_redirects=False)
        assert response.status_code == 303, value
        assert response.headers["location"].startswith("/console/sign-in")
        posted = console.post("/console/collections/upload", data={"csrf": "x"})
        assert posted.status_code == 401
        console.cookies.clear()


def test_an_expired_session_is_refused(console: TestClient, clock: FakeClock) -> None:
    sign_in(console, OWNER_KEY)
    clock.advance(12 * 3600 - 5)
    assert console.get("/console/collections", follow_redirects=False).status_code == 200
    clock.advance(10)
    response = console.get("/console/collections", follow_redirects=False)
    assert response.status_code == 303


def test_a_revoked_key_ends_its_session(console: TestClient) -> None:
    services = console.app.state.services  # type: ignore[attr-defined]
    key = services.keys.create_key(NAMESPACE, "laptop")
    sign_in(console, key)
    assert console.get("/console/collections", follow_redirects=False).status_code == 200
    with services.store.write() as tx:
        tx.delete_owner_key(crypto.hash_key(key))
    assert console.get("/console/collections", follow_redirects=False).status_code == 303


def test_a_form_without_its_token_is_refused(console: TestClient) -> None:
    sign_in(console, OWNER_KEY)
    files = {"file": ("a.jsonl", b'{"title": "x"}\n')}
    for token in (None, "", "0" * 64):
        data = {"collection": "stolen"} | ({"csrf": token} if token is not None else {})
        response = console.post("/console/collections/upload", data=data, files=files)
        assert response.status_code == 403
    # Another session's token is no good either.
    other = TestClient(console.app)
    sign_in(other, OWNER_KEY)
    response = console.post(
        "/console/collections/upload", data={"collection": "x", "csrf": csrf(other)}, files=files
    )
    assert response.status_code == 403
    assert "stolen" not in console.get("/console/collections").text


def test_a_form_from_another_site_is_refused(console: TestClient) -> None:
    sign_in(console, OWNER_KEY)
    response = console.post(
        "/console/sign-out",
        data={"csrf": csrf(console)},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


def test_a_viewer_sees_no_control_and_is_refused(console: TestClient) -> None:
    add_documents(console)
    sign_in(console, VIEWER_KEY)
    token = csrf(console)
    listing = console.get("/console/collections").text
    assert "products" in listing
    assert "Upload" not in listing
    assert "/delete" not in listing
    assert "New retriever" not in console.get("/console/retrievers").text
    assert "Delete collection" not in console.get("/console/collections/products").text
    files = {"file": ("a.jsonl", b'{"title": "x"}\n')}
    upload = console.post(
        "/console/collections/upload", data={"csrf": token, "collection": "c"}, files=files
    )
    assert upload.status_code == 403
    created = console.post(
        "/console/retrievers/new",
        data={"csrf": token, "retriever_name": "r", "collection": "products", "mode": "keyword"},
    )
    assert created.status_code == 403
    deleted = console.post("/console/collections/products/delete", data={"csrf": token})
    assert deleted.status_code == 403
    assert console.get("/console/retrievers/new").status_code == 403
    assert "viewer" in deleted.text


def test_an_editor_may_create_but_not_delete(console: TestClient) -> None:
    add_documents(console)
    sign_in(console, EDITOR_KEY)
    token = csrf(console)
    assert "Upload" in console.get("/console/collections").text
    assert "/delete" not in console.get("/console/collections").text
    response = console.post("/console/collections/products/delete", data={"csrf": token})
    assert response.status_code == 403
    assert console.get("/console/collections/products").status_code == 200


def test_another_namespace_is_invisible(console: TestClient) -> None:
    add_documents(console, OTHER_NAMESPACE, OTHER_KEY)
    console.post(
        "/v1/retrievers",
        headers=owner_headers(OTHER_KEY, OTHER_NAMESPACE),
        json={"retriever_name": "secret-shop", "backend": local_backend()},
    )
    # A key bound to acme opens acme, whatever namespace is typed.
    sign_in(console, OWNER_KEY, OTHER_NAMESPACE)
    page = console.get("/console/collections").text
    assert "products" not in page
    assert OTHER_NAMESPACE not in page
    assert "secret-shop" not in console.get("/console/retrievers").text
    assert console.get("/console/collections/products").status_code == 404
    switched = console.post(
        "/console/namespace", data={"csrf": csrf(console), "namespace": OTHER_NAMESPACE}
    )
    assert switched.status_code == 422
    assert "products" not in console.get("/console/collections").text


def test_a_key_of_every_namespace_switches_among_them(console: TestClient) -> None:
    add_documents(console, OTHER_NAMESPACE, OTHER_KEY)
    sign_in(console, OPERATOR_KEY, NAMESPACE)
    page = console.get("/console/collections").text
    assert f'<option value="{OTHER_NAMESPACE}">' in page
    assert "products" not in page
    response = console.post(
        "/console/namespace",
        data={"csrf": csrf(console), "namespace": OTHER_NAMESPACE, "next": "/console/retrievers"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/console/retrievers"
    assert "products" in console.get("/console/collections").text
    bad = console.post("/console/namespace", data={"csrf": csrf(console), "namespace": "a/b"})
    assert bad.status_code == 422


def test_wrong_keys_are_throttled_per_address(console: TestClient) -> None:
    for _ in range(5):
        assert sign_in(console, "wrong-key-000000000000").status_code == 401
    refused = sign_in(console, OWNER_KEY)
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert "set-cookie" not in refused.headers
    assert "Too many wrong keys" in refused.text
    # Another address (through a trusted proxy) still signs in.
    settings = console.app.state.services.settings  # type: ignore[attr-defined]
    assert settings.trusted_proxies == []
    elsewhere = TestClient(console.app, client=("198.51.100.7", 50000))
    assert sign_in(elsewhere, OWNER_KEY).status_code == 303


def test_the_throttle_is_as_strict_as_the_page_passwords(console: TestClient) -> None:
    from app.services.access import FAILED_ATTEMPTS_WINDOW_SECONDS, MAX_FAILED_ATTEMPTS

    assert (MAX_FAILED_ATTEMPTS, FAILED_ATTEMPTS_WINDOW_SECONDS) == (5, 900)
    for _ in range(4):
        sign_in(console, "wrong-key-000000000000")
    assert sign_in(console, OWNER_KEY).status_code == 303  # a right key gives its count back
    assert sign_in(console, "wrong-key-000000000000").status_code == 401
    assert sign_in(console, "wrong-key-000000000000").status_code == 429


def test_the_sign_in_form_needs_its_token(console: TestClient) -> None:
    response = console.post(
        "/console/sign-in", data={"key": OWNER_KEY, "token": "forged"}, follow_redirects=False
    )
    assert response.status_code == 400
    assert "set-cookie" not in response.headers
