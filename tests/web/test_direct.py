"""The public execute is served by a direct layer (app/web/direct.py) rather than Starlette's
router: every answer is the one the router gives, for the calls it takes and those it leaves."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route, Router
from starlette.testclient import TestClient

from app.errors import AppError, NotFound
from app.settings import Settings
from app.web.app import create_app
from app.web.direct import EXECUTE, Direct
from app.web.errors import handle_app_error, handle_http_exception, handle_unexpected
from app.web.routing import route
from app.web.views.public import execute
from tests.helpers import browse_config, local_backend, owner_headers, protect

URL = "/v1/public/retrievers/products/execute"
EXPOSED = ["title", "description"]
BODY = {"inputs": {"query": "lamp"}}
JSON = (b"content-type", b"application/json")
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]
DOCUMENTS = [
    {"document_id": f"d{n}", "title": f"Lamp {n}", "description": "A desk lamp " * 8}
    for n in range(30)
]
# What differs between two answers to the same call whoever serves it.
VOLATILE = {"x-request-id", "date", "ratelimit-remaining", "ratelimit-reset", "ratelimit"}


@contextmanager
def apps(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """The app, and the same app (same data) without the direct layer: the router's answers."""
    routed = create_app(settings)
    routed.user_middleware = [m for m in routed.user_middleware if m.cls is not Direct]
    with (
        TestClient(create_app(settings), raise_server_exceptions=False) as direct,
        TestClient(routed, raise_server_exceptions=False) as router,
    ):
        yield direct, router


@pytest.fixture
def clients(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    """`apps`, with a retriever "products" over DOCUMENTS published."""
    with apps(settings) as (direct, router):
        upsert = direct.post(
            "/v1/collections/docs/documents", headers=owner_headers(), json={"documents": DOCUMENTS}
        )
        assert upsert.status_code == 200, upsert.text
        rid = direct.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "products", "backend": local_backend("docs")},
        ).json()["retriever_id"]
        published = direct.post(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={
                "public_name": "products",
                "display_config": {
                    **browse_config(exposed_fields=EXPOSED, field_config={}),
                    "components": {},
                },
            },
        )
        assert published.status_code == 200, published.text
        direct.app_state = {"retriever_id": rid}  # type: ignore[attr-defined]
        assert Direct in _layers(direct.app)
        assert Direct not in _layers(router.app)
        yield direct, router


def _layers(app: Any) -> list[type]:
    """The classes of the app's built middleware stack, outermost first."""
    layers, layer = [], app.middleware_stack
    while layer is not None and not isinstance(layer, Router):
        layers.append(type(layer))
        layer = getattr(layer, "app", None)
    return layers


def same(clients: tuple[TestClient, TestClient], method: str, url: str, **kw: Any) -> Any:
    """The direct layer's answer, once it is the router's (bar ids, dates and counts)."""
    answers = [client.request(method, url, follow_redirects=False, **kw) for client in clients]
    first, second = answers
    assert first.status_code == second.status_code, (first.text, second.text)
    assert _headers(first) == _headers(second)
    assert _body(first) == _body(second)
    return first


def _headers(response: Any) -> list[tuple[str, str]]:
    volatile = VOLATILE | ({"content-length"} if "content-encoding" in response.headers else set())
    return sorted((k, v) for k, v in response.headers.multi_items() if k not in volatile)


def _body(response: Any) -> Any:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return response.content
    body = response.json()
    if isinstance(body, dict):
        body.pop("execution_id", None)
        details = body.get("error", {}).get("details", {})
        details.pop("request_id", None)
    return body


def test_an_execute_is_answered_as_the_router_answers_it(clients: Any) -> None:
    answer = same(clients, "POST", URL, json=BODY)
    assert answer.status_code == 200
    assert len(answer.json()["results"]) > 0
    assert answer.headers["x-request-id"]
    assert answer.headers["vary"] == "Accept-Encoding"
    gzipped = same(clients, "POST", URL, json=BODY, headers={"accept-encoding": "gzip"})
    assert gzipped.headers["content-encoding"] == "gzip"


def test_a_callers_request_id_is_kept(clients: Any) -> None:
    answer = clients[0].post(URL, json=BODY, headers={"x-request-id": "caller-id-0001"})
    assert answer.headers["x-request-id"] == "caller-id-0001"


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", URL, 405),  # the router's 405, with Allow: POST
        ("PUT", URL, 405),
        ("POST", URL + "/", 307),  # to the path without the slash
        ("POST", URL + "?", 200),
        ("POST", URL + "?limit=5", 422),  # the execute takes no query parameter
        ("POST", "/v1/public/retrievers/%70roducts/execute", 200),  # "p", percent-encoded
        ("POST", "/v1/public/retrievers/no%20such/execute", 404),
        ("POST", "/v1/public/retrievers/a%2Fb/execute", 404),  # a slash: no route
        ("POST", "/v1/public/retrievers//execute", 404),
        ("POST", "/v1/public/retrievers/products/execute/more", 404),
        ("POST", "/v1/public/retrievers/products/Execute", 404),
    ],
)
def test_paths_and_methods(clients: Any, method: str, url: str, status: int) -> None:
    answer = same(clients, method, url, json=BODY)
    assert answer.status_code == status
    if status == 405:
        assert answer.headers["allow"] == "POST"
    if status == 307:
        assert answer.headers["location"] == URL
    if status >= 400:
        error = answer.json()
        assert error["success"] is False
        assert error["status"] == status
        assert error["error"]["type"]
        assert error["error"]["message"]


@pytest.mark.parametrize(
    ("headers", "content", "status"),
    [
        ({}, b'{"inputs": {}}', 415),  # no Content-Type on the public API
        ({"content-type": "text/plain"}, b'{"inputs": {}}', 415),
        ({"content-type": "application/json"}, b"{not json", 422),
        ({"content-type": "application/json"}, b'{"inputs": {"query": 5}}', 422),
        ({"content-type": "application/json"}, b'{"inputs": {}, "page_size": 0}', 422),
        ({"content-type": "application/vnd.api+json"}, b'{"inputs": {}}', 200),
    ],
)
def test_bodies(clients: Any, headers: dict[str, str], content: bytes, status: int) -> None:
    answer = same(clients, "POST", URL, content=content, headers=headers)
    assert answer.status_code == status
    if status != 200:
        assert answer.json()["status"] == status


def test_a_body_over_the_limit(clients: Any, settings: Settings) -> None:
    content = b"x" * (settings.max_body_bytes + 1)
    headers = {"content-type": "application/json"}
    answer = same(clients, "POST", URL, content=content, headers=headers)
    assert answer.status_code == 413
    assert answer.json()["error"]["type"] == "payload_too_large"


def test_a_password_its_cookie_and_private_answers(clients: Any) -> None:
    protect(clients[0], clients[0].app_state["retriever_id"], "opensesame")
    refused = same(clients, "POST", URL, json=BODY)
    assert refused.status_code == 401
    wrong = same(clients, "POST", URL, json=BODY, headers={"x-retriever-password": "nope"})
    assert wrong.status_code == 403
    opened = same(clients, "POST", URL, json=BODY, headers={"x-retriever-password": "opensesame"})
    assert opened.status_code == 200
    assert "private" in opened.headers["cache-control"]
    verified = clients[0].post(
        "/v1/public/retrievers/products/verify", json={"password": "opensesame"}
    )
    cookie = verified.headers["set-cookie"].split(";")[0]
    by_cookie = same(clients, "POST", URL, json=BODY, headers={"cookie": cookie})
    assert by_cookie.status_code == 200


def test_a_root_path_goes_to_the_router(settings: Settings) -> None:
    with TestClient(create_app(settings), root_path="/api") as client:
        answer = client.post(URL, json=BODY)
    assert answer.status_code == 404  # no such retriever: the route was found all the same
    assert answer.json()["error"]["type"] == "not_found"
    assert "products" in answer.json()["error"]["message"]


def test_metrics_name_the_executes_route(clients: Any) -> None:
    clients[0].post(URL, json=BODY)
    metrics = clients[0].get("/metrics").text
    assert f'route="{EXECUTE}"' in metrics


def test_a_route_before_the_execute_that_takes_its_paths_is_refused() -> None:
    async def other(request: Any) -> PlainTextResponse:
        return PlainTextResponse("other")

    taken = Router(
        routes=[Route("/v1/public/retrievers/{x}/{y}", other), route(EXECUTE, post=execute)]
    )
    with pytest.raises(ValueError, match="comes before"):
        Direct(ExceptionMiddleware(taken))
    free = Router(routes=[Route("/v1/public/retrievers/{x}", other), route(EXECUTE, post=execute)])
    assert Direct(ExceptionMiddleware(free)).route.path == EXECUTE


async def asgi(app: Any, scope: dict[str, Any], messages: list[dict[str, Any]]) -> Answer:
    """`scope` straight through the ASGI app, its body as `messages`: status, headers, body."""
    sent: list[dict[str, Any]] = []
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    try:
        await app(scope, receive, send)
    except Exception:  # the server-error layer answers an unexpected error, then raises it
        if not sent:
            raise
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], list(start.get("headers", [])), body


def scope_of(
    method: str = "POST",
    path: str = URL,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    root_path: str = "",
    raw_path: bytes | None = None,
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": raw_path if raw_path is not None else path.encode("utf-8", "replace"),
        "query_string": query,
        "root_path": root_path,
        "headers": [(b"host", b"testserver"), *(headers if headers is not None else [JSON])],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


@pytest.mark.parametrize(
    ("chunks", "status"),
    [
        ([b'{"inputs": ', b'{"query": "lamp"}}'], 200),  # a body in two parts
        ([b'{"inputs": '], 499),  # the client left halfway: nobody to answer
        ([], 499),
    ],
)
def test_a_body_without_a_length(clients: Any, chunks: list[bytes], status: int) -> None:
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    if status == 200:
        messages.append({"type": "http.request", "body": b"", "more_body": False})
    answers = [client.portal.call(asgi, client.app, scope_of(), messages) for client in clients]
    assert [a[0] for a in answers] == [status, status]
    if status == 200:
        assert len(json.loads(answers[0][2])["results"]) == len(
            json.loads(answers[1][2])["results"]
        )


class _Odd(Exception):
    pass


async def _odd_handler(request: Any, exc: Exception) -> Any:
    raise NotFound("An error its handler turned into another.")


def _views() -> dict[str, Any]:
    async def lost(request: Any) -> Any:
        raise NotFound("Nothing here.")

    async def broken(request: Any) -> Any:
        raise RuntimeError("a bug")

    async def teapot(request: Any) -> Any:
        raise HTTPException(418, "short and stout")

    async def odd(request: Any) -> Any:
        raise _Odd

    return {"lost": lost, "broken": broken, "teapot": teapot, "odd": odd}


@pytest.mark.parametrize(
    ("view", "status"), [("lost", 404), ("broken", 500), ("teapot", 418), ("odd", 404)]
)
def test_errors_are_answered_by_the_same_handlers(view: str, status: int) -> None:
    """A view's error, through the direct layer and through the router: the same handler, in
    the same two layers (an error its handler raises is answered by the outer one)."""
    answers = []
    for direct in (True, False):
        app = Starlette(
            routes=[route(EXECUTE, post=_views()[view])],
            middleware=[Middleware(Direct)] if direct else [],
            exception_handlers={
                AppError: handle_app_error,
                HTTPException: handle_http_exception,
                _Odd: _odd_handler,
                Exception: handle_unexpected,
            },
        )
        with TestClient(app, raise_server_exceptions=False) as client:
            answers.append(client.post("/v1/public/retrievers/any/execute", json=BODY))
    assert [a.status_code for a in answers] == [status, status]
    assert _body(answers[0]) == _body(answers[1])
    assert answers[0].json()["status"] == status
