"""What an anonymous visitor tried: each test failed before the hardening and passes now."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from app.logs import RequestIdFilter
from app.services.access import MAX_FAILED_ATTEMPTS
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, display_config, local_backend, owner_headers, protect
from tests.servers import LiveServer, RedisServer

EXECUTE = "/v1/public/retrievers/product-search/execute"
INTERACTIONS = "/v1/public/retrievers/product-search/interactions"
CLICK = {"document_id": "d1", "interaction_type": ["click"], "position": 0, "execution_id": "exe_1"}


# A cross-site POST without a preflight -----------------------------------------------------


@pytest.mark.usefixtures("published")
@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_public_post_must_say_json(client: TestClient, content_type: str | None) -> None:
    """A foreign page's no-CORS fetch sends no type or a form type: it spends nothing."""
    headers = {"Content-Type": content_type} if content_type else {}
    for path, body in ((EXECUTE, b'{"inputs": {"query": "lamp"}}'), (INTERACTIONS, b"{}")):
        response = client.post(path, content=body, headers=headers)
        assert response.status_code == 415, response.text
        assert "application/json" in response.json()["error"]["message"]
        assert "RateLimit" not in response.headers  # not counted
    assert client.post(EXECUTE, json={"inputs": {"query": "lamp"}}).status_code == 200


# Stored strings ----------------------------------------------------------------------------


def test_a_long_session_id_is_refused_and_nothing_is_stored(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    response = client.post(INTERACTIONS, json=CLICK, headers={"X-Session-ID": "s" * 101})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["errors"][0]["field"] == "X-Session-ID"
    listing = client.get(f"/v1/retrievers/{retriever_id}/interactions", headers=owner_headers())
    assert listing.json()["total"] == 0
    fine = client.post(INTERACTIONS, json=CLICK, headers={"X-Session-ID": "s" * 100})
    assert fine.status_code == 200


# Hidden fields cannot be searched ----------------------------------------------------------


def _retriever(client: TestClient, name: str, config: dict[str, Any] | None = None) -> Any:
    body: dict[str, Any] = {"retriever_name": name, "backend": local_backend()}
    if config is not None:
        body["display_config"] = config
    return client.post("/v1/retrievers", headers=owner_headers(), json=body)


def test_search_fields_must_be_exposed(client: TestClient) -> None:
    # The backend searches title and description; this config hides description.
    hidden = display_config(exposed_fields=["title", "price", "image_url"], components=None)
    created = _retriever(client, "hidden", hidden)
    assert created.status_code == 422
    error = created.json()["error"]
    assert error["details"]["errors"][0]["field"] == "backend.search_fields"
    assert "description" in error["message"]

    rid = _retriever(client, "open").json()["retriever_id"]
    publish = f"/v1/retrievers/{rid}/publish"
    refused = client.post(
        publish, headers=owner_headers(), json={"public_name": "hidden", "display_config": hidden}
    )
    assert refused.status_code == 422
    assert "description" in refused.json()["error"]["message"]
    ok = client.post(
        publish,
        headers=owner_headers(),
        json={"public_name": "shown", "display_config": display_config()},
    )
    assert ok.status_code == 200
    patched = client.patch(publish, headers=owner_headers(), json={"display_config": hidden})
    assert patched.status_code == 422
    config = client.get(publish, headers=owner_headers()).json()["display_config"]
    assert "description" in config["exposed_fields"]  # nothing stored


def test_retriever_metadata_is_published_only_when_asked(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    public = client.get("/v1/public/retrievers/product-search/config").json()
    assert public["retriever_metadata"] is None
    rid = _retriever(client, "with-metadata").json()["retriever_id"]
    client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "meta", "display_config": display_config(), "include_metadata": True},
    )
    shown = client.get("/v1/public/retrievers/meta/config").json()["retriever_metadata"]
    assert shown["collections"][0]["collection_name"] == "products"


# IPv6 clients are counted by network -------------------------------------------------------


def _protected(client: TestClient) -> None:
    rid = _retriever(client, "locked").json()["retriever_id"]
    client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "locked",
            "display_config": browse_config(),
            "rate_limit_config": {"tier": "unlimited"},
        },
    )
    protect(client, rid, "the right one")


def test_addresses_of_one_ipv6_network_share_the_password_throttle(
    client: TestClient, settings: Settings
) -> None:
    _protected(client)
    app = client.app
    statuses = []
    for n in range(1, 21):
        guesser = TestClient(app, client=(f"2001:db8:1:2::{n:x}", 5000))
        guess = guesser.post("/v1/public/retrievers/locked/verify", json={"password": f"g{n}"})
        statuses.append(guess.status_code)
    assert statuses == [200] * MAX_FAILED_ATTEMPTS + [429] * (20 - MAX_FAILED_ATTEMPTS)
    # Another /64 is another client.
    other = TestClient(app, client=("2001:db8:1:3::1", 5000))
    assert (
        other.post("/v1/public/retrievers/locked/verify", json={"password": "x"}).status_code == 200
    )


def test_addresses_of_one_ipv6_network_share_the_ip_limit(client: TestClient) -> None:
    rid = _retriever(client, "per-ip").json()["retriever_id"]
    client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "per-ip",
            "display_config": browse_config(),
            "rate_limit_config": {
                "tier": "unlimited",
                "enable_ip_limits": True,
                "max_requests_per_ip_hour": 3,
            },
        },
    )
    statuses = [
        TestClient(client.app, client=(f"2001:db8::{n:x}", 5000))
        .post("/v1/public/retrievers/per-ip/execute", json={"inputs": {}})
        .status_code
        for n in range(1, 7)
    ]
    assert statuses == [200, 200, 200, 429, 429, 429]


# The wrong-password throttle is atomic -----------------------------------------------------


async def _guess_at_once(url: str, count: int) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        answers = await asyncio.gather(
            *(
                http.post("/v1/public/retrievers/locked/verify", json={"password": f"wrong{n}"})
                for n in range(count)
            )
        )
    return [answer.status_code for answer in answers]


@pytest.mark.parametrize("storage", ["memory", "redis"])
def test_concurrent_wrong_passwords_check_no_more_than_the_allowance(
    make_settings: Callable[..., Settings], redis_server: RedisServer, storage: str
) -> None:
    uri = redis_server.url if storage == "redis" else "memory://"
    # "refuse": should Redis be slow on a loaded machine, a guess is refused (503) rather than
    # counted in this process's memory, which is the "fallback" setting's documented trade.
    app = create_app(make_settings(rate_limit_storage=uri, rate_limit_on_failure="refuse"))
    with TestClient(app) as owner:
        _protected(owner)
    with LiveServer(app) as server:
        statuses = asyncio.run(_guess_at_once(server.url, 60))
        metrics = httpx.get(f"{server.url}/metrics").text
    assert set(statuses) <= {200, 429, 503}
    assert 1 <= statuses.count(200) <= MAX_FAILED_ATTEMPTS  # answered {"valid": false}
    assert statuses.count(429) >= 60 - MAX_FAILED_ATTEMPTS - statuses.count(503)
    checked = next(
        line for line in metrics.splitlines() if line.startswith("password_failures_total ")
    )
    assert float(checked.split()[1]) == statuses.count(200) <= MAX_FAILED_ATTEMPTS


def test_a_right_password_does_not_use_up_the_allowance(client: TestClient) -> None:
    _protected(client)
    for _ in range(MAX_FAILED_ATTEMPTS * 3):
        right = client.post(
            "/v1/public/retrievers/locked/verify", json={"password": "the right one"}
        )
        assert right.json() == {"valid": True}
    wrong = client.post("/v1/public/retrievers/locked/verify", json={"password": "nope"})
    assert wrong.json() == {"valid": False}


# No 500 from anonymous input ---------------------------------------------------------------


def _typed_inputs_page(client: TestClient) -> None:
    client.post(
        "/v1/collections/products/documents",
        headers=owner_headers(),
        json={"documents": [{"document_id": "d1", "title": "Lamp", "price": 10}]},
    )
    rid = _retriever(client, "typed").json()["retriever_id"]
    inputs = [
        {
            "field_name": "query",
            "label": "Q",
            "required": False,
            "field_schema": {"type": "string"},
        },
        {
            "field_name": "price",
            "label": "P",
            "required": False,
            "field_schema": {"type": "integer"},
        },
        {"field_name": "spec", "label": "S", "required": False, "field_schema": {"type": "object"}},
        {
            "field_name": "specs",
            "label": "Ss",
            "required": False,
            "field_schema": {"type": "array", "items": {"type": "object"}},
        },
    ]
    config = display_config(
        inputs=inputs, exposed_fields=["title", "description", "price"], components=None
    )
    response = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "typed",
            "display_config": config,
            "rate_limit_config": {"tier": "unlimited"},
        },
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"spec": {"a": 1}}, "inputs.spec"),
        ({"specs": [{"a": 1}]}, "inputs.specs"),
        ({"price": 2**64}, "inputs.price"),
        ({"price": -(2**63) - 1}, "inputs.price"),
    ],
)
def test_inputs_the_engine_cannot_take_are_a_422(
    client: TestClient, inputs: dict[str, Any], field: str
) -> None:
    _typed_inputs_page(client)
    response = client.post("/v1/public/retrievers/typed/execute", json={"inputs": inputs})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["errors"][0]["field"] == field


def test_a_huge_number_in_a_page_url_is_shown_as_a_problem(client: TestClient) -> None:
    _typed_inputs_page(client)
    page = client.get("/r/typed", params={"query": "lamp", "price": "9" * 30})
    assert page.status_code == 422
    assert "inputs.price" in page.text
    assert client.get("/r/typed", params={"page": "9" * 30}).status_code == 200


def test_documents_with_no_text_field_can_come_first(client: TestClient) -> None:
    first = client.post(
        "/v1/collections/numbers/documents",
        headers=owner_headers(),
        json={"documents": [{"document_id": "n1", "count": 3, "ok": True}]},
    )
    assert first.status_code == 200, first.text
    later = client.post(
        "/v1/collections/numbers/documents",
        headers=owner_headers(),
        json={"documents": [{"document_id": "t1", "title": "Lamp"}]},
    )
    assert later.status_code == 200
    assert later.json()["total_documents"] == 2


def test_an_unexpected_error_keeps_its_request_id(
    client: TestClient, published: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a fault injected by the test")

    client.app.state.services.engine.search = broken  # type: ignore[attr-defined]
    caplog.handler.addFilter(RequestIdFilter())  # as the app's own log handler does
    with caplog.at_level("ERROR"):
        response = client.post(
            EXECUTE, json={"inputs": {"query": "lamp"}}, headers={"X-Request-ID": "trace-500-abc"}
        )
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "trace-500-abc"
    assert response.json()["error"]["details"]["request_id"] == "trace-500-abc"
    assert "RuntimeError" not in response.text
    logged = [record for record in caplog.records if record.levelname == "ERROR"]
    assert logged
    assert all(getattr(record, "request_id", None) == "trace-500-abc" for record in logged)


def test_a_client_that_leaves_mid_body_is_a_quiet_log_line(
    live_server: LiveServer, published: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with caplog.at_level("INFO"):
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", live_server.port)) as raw:
                raw.sendall(
                    b"POST " + EXECUTE.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                    b'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"inp'
                )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(
            "client disconnected" in r.getMessage() for r in caplog.records
        ):
            time.sleep(0.05)
    assert any("client disconnected" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]


# The smaller findings ------------------------------------------------------------------------


def test_a_backslash_path_is_never_a_link(client: TestClient) -> None:
    renderers = client.app.state.services.renderers  # type: ignore[attr-defined]
    hostile = "/\\evil.example"
    assert "<a " not in str(renderers.render(hostile, None, None))
    link = display_config(external_links=[{"name": "Docs", "url": hostile}])
    rid = _retriever(client, "links").json()["retriever_id"]
    refused = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "links", "display_config": link},
    )
    assert refused.status_code == 422
    assert "backslash" in refused.json()["error"]["message"]


@pytest.mark.usefixtures("published")
def test_the_slash_redirect_is_relative_whatever_the_host(client: TestClient) -> None:
    response = client.get(
        "/v1/public/retrievers?page=1",
        headers={"Host": "evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 307
    assert response.headers["location"] == "/v1/public/retrievers/?page=1"
    assert client.get("/r/product-search/", follow_redirects=False).headers["location"] == (
        "/r/product-search"
    )
    assert client.get("/no/such/page/", follow_redirects=False).status_code == 404


@pytest.mark.usefixtures("published")
def test_the_results_fragment_is_told_apart_by_caches(client: TestClient) -> None:
    page = client.get("/r/product-search?query=lamp")
    assert "X-Partial" in page.headers["vary"]
    fragment = client.get("/r/product-search?query=lamp", headers={"X-Partial": "results"})
    assert "X-Partial" in fragment.headers["vary"]
    assert fragment.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("pattern", "origin", "allowed"),
    [
        ("https://*.example.com", "https://shop.example.com", True),
        ("https://*.example.com", "https://a.b.example.com", True),
        ("https://*.example.com", "https://example.com", False),
        ("https://*.example.com", "https://evilexample.com", False),
        ("https://*.example.com", "http://shop.example.com", False),
        ("https://*.example.com", "https://shop.example.com:8443", False),
        ("http://localhost:*", "http://localhost:5173", True),
        ("https://host.example.com", "https://host.example.com", True),
        ("https://host.example.com", "https://host.example.com:444", False),
        ("*", "https://anyone.example", True),
    ],
)
def test_frame_ancestor_patterns(pattern: str, origin: str, allowed: bool) -> None:
    from app.web.templates import origin_allowed

    assert origin_allowed(pattern, origin) is allowed


def test_a_wildcard_ancestor_may_resize_the_embed(client: TestClient) -> None:
    rid = _retriever(client, "embedded").json()["retriever_id"]
    config = browse_config(extensions={"frame_ancestors": ["https://*.example.com"]})
    client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "embedded", "display_config": config},
    )
    embed = client.get("/r/embedded/embed?origin=https://shop.example.com")
    assert 'data-parent-origin="https://shop.example.com"' in embed.text
    stranger = client.get("/r/embedded/embed?origin=https://example.org")
    assert "data-parent-origin" not in stranger.text


def test_verify_on_an_open_retriever_is_no_guess(client: TestClient) -> None:
    rid = _retriever(client, "open-page").json()["retriever_id"]
    client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "open-page", "display_config": browse_config()},
    )
    for _ in range(MAX_FAILED_ATTEMPTS + 3):
        answer = client.post("/v1/public/retrievers/open-page/verify", json={"password": "x"})
        assert answer.status_code == 200
        assert answer.json() == {"valid": False}
    failures = [
        line
        for line in client.get("/metrics").text.splitlines()
        if line.startswith("password_failures_total ")
    ]
    assert failures == ["password_failures_total 0.0"]


def test_metrics_can_be_put_behind_a_token(make_settings: Callable[..., Settings]) -> None:
    token = "metrics-token-0123456789"
    with TestClient(create_app(make_settings(metrics_token=token))) as client:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope-nope-nope-nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert right.status_code == 200
        assert "http_requests_total" in right.text
