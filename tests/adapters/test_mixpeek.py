"""The Mixpeek backend against a real upstream HTTP server on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import display_config, owner_headers
from tests.servers import LiveServer, free_port

UPSTREAM_KEY = "sk_upstream_live_0123456789"
EXPOSED = ["title", "price"]


@dataclass
class Upstream:
    """A Mixpeek-compatible execute endpoint whose behaviour each test chooses."""

    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def execute(request: Request) -> Response:
            self.requests.append(
                {
                    "path": request.url.path,
                    "authorization": request.headers.get("authorization"),
                    "namespace": request.headers.get("x-namespace"),
                    "cookie": request.headers.get("cookie"),
                    "body": await request.json(),
                }
            )
            if self.mode == "error":
                return JSONResponse({"detail": f"internal boom {UPSTREAM_KEY}"}, status_code=503)
            if self.mode == "slow":
                await asyncio.sleep(1.5)
            if self.mode == "not-json":
                return Response("<html>gateway</html>", media_type="text/html")
            if self.mode == "wrong-shape":
                return JSONResponse({"documents": "none"})
            if self.mode == "big-int":
                return Response(
                    b'{"documents": [{"document_id": "b", "price": '
                    + str(2**70).encode()
                    + b', "title": "Big"}]}'
                )
            if self.mode == "large":  # 64 KiB of exposed text in every answer
                return JSONResponse(
                    {"documents": [{"document_id": "L", "title": "t" * 65536, "price": 1}]}
                )
            if self.mode == "huge":
                return Response(b'{"documents": ["' + b"x" * (17 * 1024 * 1024) + b'"]}')
            answer = JSONResponse(
                {
                    "execution_id": "upstream-exec",
                    "status": "completed",
                    "documents": [
                        {
                            "document_id": "d1",
                            "score": 0.93,
                            "title": "Top level",
                            "price": 10,
                            "cost": 3,
                            "embedding": [0.1, 0.2],
                        },
                        {
                            "document_id": "d2",
                            "score": 0.71,
                            "payload": {"title": "In payload", "price": 20, "supplier": "Acme"},
                            "metadata": {"internal_id": 7},
                        },
                    ],
                    "pagination": {
                        "method": "offset",
                        "page_number": 2,
                        "page_size": 2,
                        "total": 9,
                        "has_next": True,
                    },
                    "budget": {"credits_used": 4},
                    "stage_statistics": {"stages": ["secret-stage"]},
                }
            )
            if self.mode == "cookie":
                answer.set_cookie("upstream_session", "s3cret", path="/")
            return answer

        return Starlette(routes=[Route("/v1/retrievers/{rid}/execute", execute, methods=["POST"])])


@pytest.fixture
def upstream() -> Iterator[tuple[Upstream, str]]:
    state = Upstream()
    with LiveServer(state.app()) as server:
        yield state, server.url


def _publish(client: TestClient, base_url: str) -> str:
    client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "upstream-key", "secret_value": UPSTREAM_KEY},
    )
    backend = {
        "type": "mixpeek",
        "base_url": base_url,
        "retriever_id": "ret_up",
        "namespace": "upstream-ns",
        "api_key_secret_name": "upstream-key",
    }
    rid = client.post(
        "/v1/retrievers", headers=owner_headers(), json={"retriever_name": "up", "backend": backend}
    ).json()["retriever_id"]
    response = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "upstream",
            "display_config": display_config(
                exposed_fields=EXPOSED, field_config={}, components={}
            ),
        },
    )
    assert response.status_code == 200, response.text
    return "/v1/public/retrievers/upstream/execute"


@pytest.fixture
def proxied(
    make_settings: Callable[..., Settings], upstream: tuple[Upstream, str]
) -> Iterator[tuple[TestClient, Upstream, str]]:
    state, base_url = upstream
    settings = make_settings(upstream_timeout_seconds=0.5)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, state, _publish(client, base_url)


def _query(client: TestClient, url: str) -> Any:
    return client.post(
        url,
        json={
            "inputs": {"query": "lamp"},
            "pagination": {"method": "offset", "page_number": 2, "page_size": 2},
        },
    )


def test_the_upstream_gets_the_right_path_key_namespace_and_body(
    proxied: tuple[TestClient, Upstream, str],
) -> None:
    client, state, url = proxied
    response = _query(client, url)
    assert response.status_code == 200, response.text
    (seen,) = state.requests
    assert seen["path"] == "/v1/retrievers/ret_up/execute"
    assert seen["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert seen["namespace"] == "upstream-ns"
    assert seen["body"] == {
        "inputs": {"query": "lamp"},
        "pagination": {"method": "offset", "page_number": 2, "page_size": 2},
    }


def test_a_cookie_an_upstream_sets_never_goes_with_a_later_call(
    make_settings: Callable[..., Settings], upstream: tuple[Upstream, str]
) -> None:
    """The next call to the same host may be another organization's: the client keeps no
    cookies. (By name: a cookie jar keeps none for an address.)"""
    state, base_url = upstream
    settings = make_settings(upstream_allow=["127.0.0.1", "localhost"])
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        url = _publish(client, base_url.replace("127.0.0.1", "localhost"))
        state.mode = "cookie"
        assert _query(client, url).status_code == 200
        state.mode = "ok"
        assert _query(client, url).status_code == 200
        assert [seen["cookie"] for seen in state.requests] == [None, None]
        assert "s3cret" not in _query(client, url).text


def test_a_checked_filter_tree_is_passed_on(proxied: tuple[TestClient, Upstream, str]) -> None:
    client, state, url = proxied
    tree = {"OR": [{"field": "price", "operator": "lt", "value": 15}, {"title": "Top level"}]}
    response = client.post(url, json={"inputs": {"query": "lamp"}, "filters": tree})
    assert response.status_code == 200, response.text
    # As checked, in Mixpeek's long form: the shorthand {"title": ...} is a condition.
    assert state.requests[-1]["body"]["filters"] == {
        "OR": [
            {"field": "price", "operator": "lt", "value": 15},
            {"field": "title", "operator": "eq", "value": "Top level"},
        ]
    }
    hidden = client.post(url, json={"inputs": {}, "filters": {"cost": 3}})
    assert hidden.status_code == 422  # never asked of the upstream: cost is not exposed
    assert len(state.requests) == 1


def test_only_exposed_fields_come_back_from_the_upstream(
    proxied: tuple[TestClient, Upstream, str],
) -> None:
    client, _, url = proxied
    body = _query(client, url).json()
    assert body["documents"] == [
        {"document_id": "d1", "score": 0.93, "title": "Top level", "price": 10},
        {"document_id": "d2", "score": 0.71, "title": "In payload", "price": 20},
    ]
    assert body["pagination"]["total"] == 9
    assert body["pagination"]["has_next"] is True
    text = _query(client, url).text
    for leaked in (
        "cost",
        "embedding",
        "supplier",
        "internal_id",
        "budget",
        "secret-stage",
        "upstream-exec",
        UPSTREAM_KEY,
    ):
        assert leaked not in text


@pytest.mark.parametrize(
    ("mode", "status", "words"),
    [
        ("error", 502, "answered with an error (HTTP 503)"),
        ("slow", 504, "did not answer in time"),
        ("not-json", 502, "not JSON"),
        ("wrong-shape", 502, "no list of documents"),
        ("huge", 502, "too large"),
    ],
)
def test_upstream_failures_map_to_clear_gateway_errors(
    proxied: tuple[TestClient, Upstream, str], mode: str, status: int, words: str
) -> None:
    client, state, url = proxied
    state.mode = mode
    response = _query(client, url)
    assert response.status_code == status
    body = response.json()
    assert words in body["error"]["message"]
    assert UPSTREAM_KEY not in response.text
    assert "127.0.0.1" not in response.text
    assert "Traceback" not in response.text
    # The server stays healthy after a failure.
    state.mode = "ok"
    assert _query(client, url).status_code == 200


def test_integers_beyond_64_bits_pass_through(proxied: tuple[TestClient, Upstream, str]) -> None:
    client, state, url = proxied
    state.mode = "big-int"
    response = _query(client, url)
    assert response.status_code == 200
    assert response.json()["documents"][0]["price"] == pytest.approx(2**70)


def test_connection_refused_is_a_502(make_settings: Callable[..., Settings]) -> None:
    with TestClient(create_app(make_settings())) as client:
        url = _publish(client, f"http://127.0.0.1:{free_port()}")
        response = _query(client, url)
    assert response.status_code == 502
    assert "could not be reached" in response.json()["error"]["message"]
    assert UPSTREAM_KEY not in response.text


def test_a_missing_key_secret_is_a_502_not_a_crash(
    proxied: tuple[TestClient, Upstream, str],
) -> None:
    client, state, url = proxied
    # The secret cannot be deleted while in use, so remove it beneath the retriever.
    app_ctx = client.app.state.services  # type: ignore[attr-defined]
    with app_ctx.store.write() as tx:
        tx.delete_secret("acme", "upstream-key")
    response = _query(client, url)
    assert response.status_code == 502
    assert "key secret is missing" in response.json()["error"]["message"]
    assert state.requests == []


def test_the_query_cache_answers_identical_queries_from_memory(
    proxied: tuple[TestClient, Upstream, str],
) -> None:
    client, state, url = proxied
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    # Off unless the publisher turns it on.
    _query(client, url)
    _query(client, url)
    assert len(state.requests) == 2
    _cache_on(client)
    first, second = _query(client, url).json(), _query(client, url).json()
    assert len(state.requests) == 3
    assert first["documents"] == second["documents"]
    assert first["execution_id"] != second["execution_id"]
    client.post(url, json={"inputs": {"query": "other"}})
    assert len(state.requests) == 4
    # A change to the retriever is a new version: the cache starts over.
    client.patch(f"/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"tags": ["x"]})
    _query(client, url)
    assert len(state.requests) == 5


@pytest.mark.parametrize("seconds", [0, 301, "60", 1.5, True])
def test_bad_query_cache_settings(proxied: tuple[TestClient, Upstream, str], seconds: Any) -> None:
    client, _, _ = proxied
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    config = display_config(
        exposed_fields=EXPOSED,
        field_config={},
        components={},
        extensions={"query_cache_seconds": seconds},
    )
    response = client.patch(
        f"/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"display_config": config}
    )
    assert response.status_code == 422
    assert "query_cache_seconds" in response.json()["error"]["message"]


def _cache_on(client: TestClient) -> None:
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    config = display_config(
        exposed_fields=EXPOSED,
        field_config={},
        components={},
        extensions={"query_cache_seconds": 60},
    )
    patched = client.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"display_config": config, "rate_limit_config": {"tier": "unlimited"}},
    )
    assert patched.status_code == 200


def test_queries_that_differ_in_case_and_spacing_share_an_answer(
    proxied: tuple[TestClient, Upstream, str],
) -> None:
    client, state, url = proxied
    _cache_on(client)
    for text in ("Desk Lamp", "desk lamp", "  DESK   lamp "):
        assert client.post(url, json={"inputs": {"query": text}}).status_code == 200
    assert len(state.requests) == 1


def test_the_query_cache_holds_no_more_than_its_bytes(
    make_settings: Callable[..., Settings], upstream: tuple[Upstream, str]
) -> None:
    state, base_url = upstream
    state.mode = "large"
    budget = 1024 * 1024
    settings = make_settings(query_cache_max_bytes=budget)
    with TestClient(create_app(settings)) as client:
        url = _publish(client, base_url)
        _cache_on(client)
        answers = client.app.state.services.query.answers  # type: ignore[attr-defined]
        for n in range(200):  # 200 distinct answers of 64 KiB: 12.5 MiB uncapped
            assert client.post(url, json={"inputs": {"query": f"q{n}"}}).status_code == 200
            assert answers.bytes <= budget
        assert 10 <= len(answers) <= 16  # 64 KiB of documents each, kept once
        # The newest answers are the ones kept.
        before = len(state.requests)
        client.post(url, json={"inputs": {"query": "q199"}})
        assert len(state.requests) == before
