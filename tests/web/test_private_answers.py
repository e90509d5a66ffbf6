"""What a password opens never lands in a shared cache: every answer about a protected
retriever is `Cache-Control: private, no-store` and varies on the cookie; an open retriever's
pages are cached as before. Over HTTP, against a live server."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from app.services.access import MAX_FAILED_ATTEMPTS
from app.services.cookies import UnlockCookies
from tests.helpers import owner_headers, protect, publish_local
from tests.servers import LiveServer

PASSWORD = "open sesame"
PRIVATE = "private, no-store"
LOCKED_COOKIE = UnlockCookies.name("locked")
# The surfaces a page or the public API offers, for one retriever.
PAGES = ("/r/{name}", "/r/{name}/embed", "/r/{name}/d/d1", "/r/{name}?similar_to=d1")


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url) as client:
        client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={
                "documents": [
                    {"document_id": f"d{n}", "title": f"Lamp {n}", "description": "A desk lamp"}
                    for n in range(3)
                ]
            },
        ).raise_for_status()
        publish_local(client, "open", ["title", "description"])
        protect(client, publish_local(client, "locked", ["title", "description"]), PASSWORD)
        yield client


def _vary(response: httpx.Response) -> set[str]:
    return {token.strip().lower() for token in response.headers.get("vary", "").split(",")}


def _is_private(response: httpx.Response) -> None:
    assert response.headers.get("cache-control") == PRIVATE, (
        response.request.url,
        response.status_code,
    )
    assert "cookie" in _vary(response), (response.request.url, response.headers.get("vary"))


def _cookie(http: httpx.Client) -> dict[str, str]:
    response = http.post("/v1/public/retrievers/locked/verify", json={"password": PASSWORD})
    assert response.json() == {"valid": True}
    _is_private(response)
    return {"Cookie": f"{LOCKED_COOKIE}={response.cookies[LOCKED_COOKIE]}"}


def test_pages_opened_by_the_cookie_are_private(http: httpx.Client) -> None:
    cookie = _cookie(http)
    for path in PAGES:
        page = http.get(path.format(name="locked"), headers=cookie)
        assert page.status_code == 200
        assert "Lamp 1" in page.text  # the unlocked page, not the form
        _is_private(page)
    fragment = http.get("/r/locked", headers={**cookie, "X-Partial": "results"})
    _is_private(fragment)
    assert "x-partial" in _vary(fragment)  # the page's own Vary is kept


def test_the_password_form_in_their_place_is_private_too(http: httpx.Client) -> None:
    for path in PAGES:
        form = http.get(path.format(name="locked"))
        assert form.status_code == 200
        assert 'type="password"' in form.text
        _is_private(form)
    token = form.text.split('name="token" value="', 1)[1].split('"', 1)[0]
    wrong = http.post("/r/locked/unlock", data={"password": "nope", "token": token})
    assert "That password is not right." in wrong.text
    _is_private(wrong)
    right = http.post("/r/locked/unlock", data={"password": PASSWORD, "token": token})
    assert right.status_code == 303
    _is_private(right)


def test_the_api_answered_through_the_password_or_the_cookie_is_private(
    http: httpx.Client,
) -> None:
    cookie = _cookie(http)
    header = {"X-Retriever-Password": PASSWORD}
    for headers in (header, cookie):
        execute = http.post(
            "/v1/public/retrievers/locked/execute", json={"inputs": {}}, headers=headers
        )
        assert execute.status_code == 200
        _is_private(execute)
        typeahead = http.get("/v1/public/retrievers/locked/typeahead?q=la", headers=headers)
        assert typeahead.status_code == 200
        _is_private(typeahead)
    assert "x-retriever-password" in _vary(execute)
    config = http.get("/v1/public/retrievers/locked/config")  # the locked config
    _is_private(config)


def test_refusals_on_a_protected_retriever_are_private(http: httpx.Client) -> None:
    execute = "/v1/public/retrievers/locked/execute"
    unasked = http.post(execute, json={"inputs": {}})
    assert unasked.status_code == 401
    _is_private(unasked)
    wrong_key = http.post(execute, json={"inputs": {}}, headers={"X-Public-API-Key": "nope"})
    assert wrong_key.status_code == 403
    _is_private(wrong_key)
    for _ in range(MAX_FAILED_ATTEMPTS):
        wrong = http.post(execute, json={"inputs": {}}, headers={"X-Retriever-Password": "no"})
        assert wrong.status_code == 403
        _is_private(wrong)
    throttled = http.post(execute, json={"inputs": {}}, headers={"X-Retriever-Password": PASSWORD})
    assert throttled.status_code == 429
    _is_private(throttled)


def test_a_rate_limited_page_behind_the_cookie_is_private(http: httpx.Client) -> None:
    cookie = _cookie(http)
    rid = http.get("/v1/retrievers", headers=owner_headers()).json()["results"]
    locked = next(r["retriever_id"] for r in rid if r["retriever_name"] == "locked")
    # A daily window, so that a minute turning mid-test changes nothing.
    http.patch(
        f"/v1/retrievers/{locked}/publish",
        headers=owner_headers(),
        json={
            "rate_limit_config": {
                "requests_per_minute": 100,
                "requests_per_hour": 100,
                "requests_per_day": 1,
            }
        },
    ).raise_for_status()
    assert http.get("/r/locked", headers=cookie).status_code == 200
    limited = http.get("/r/locked", headers=cookie)
    assert limited.status_code == 429
    _is_private(limited)


def test_an_open_retriever_is_cached_as_before(http: httpx.Client) -> None:
    for path in PAGES:
        page = http.get(path.format(name="open"))
        assert page.status_code == 200
        assert "Lamp 1" in page.text
        assert "cache-control" not in page.headers
        assert "cookie" not in _vary(page)
    execute = http.post("/v1/public/retrievers/open/execute", json={"inputs": {}})
    typeahead = http.get("/v1/public/retrievers/open/typeahead?q=la")
    for answer in (execute, typeahead):
        assert answer.status_code == 200
        assert "cache-control" not in answer.headers
        assert "cookie" not in _vary(answer)
