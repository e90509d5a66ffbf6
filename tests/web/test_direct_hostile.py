"""Hostile calls to the public execute, each made of the app with the direct layer
(app/web/direct.py) and of the same app without it: raw ASGI scopes (paths no client would
normalise, methods, root paths, query strings), bodies without a length or with a wrong one,
Content-Type variants, and the errors: every answer the router's, headers and body."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route, Router
from starlette.testclient import TestClient

from app.errors import TooManyRequests
from app.settings import Settings
from app.web.app import create_app
from app.web.direct import EXECUTE, Direct
from app.web.errors import handle_unexpected
from app.web.responses import error_response
from app.web.routing import route
from app.web.views.public import execute
from tests.helpers import protect
from tests.servers import LiveServer
from tests.web import test_direct as base
from tests.web.test_direct import JSON, Answer, asgi, scope_of

URL = base.URL
BODY = json.dumps(base.BODY).encode()
# Beyond base.VOLATILE: the seconds to a window's reset may tick between the two calls.
VOLATILE = {k.encode() for k in base.VOLATILE} | {b"retry-after"}

clients = base.clients  # the app with the direct layer, and without it (the router's answers)


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(access_log=True, max_body_bytes=MAX_BODY_BYTES)


MAX_BODY_BYTES = 64 * 1024
NONCE = re.compile(rb"nonce-[\w-]+|nonce=\"[\w-]+\"")  # a page's, new every time


def _whole(body: bytes) -> list[dict[str, Any]]:
    return [{"type": "http.request", "body": body, "more_body": False}]


def _norm(answer: Answer) -> tuple[int, list[tuple[bytes, bytes]], Any]:
    status, headers, body = answer
    kept = sorted((k.lower(), NONCE.sub(b"nonce", v)) for k, v in headers if k not in VOLATILE)
    if dict(headers).get(b"content-type", b"").startswith(b"application/json"):
        parsed = json.loads(body)
        if isinstance(parsed, dict):
            parsed.pop("execution_id", None)
            parsed.get("error", {}).get("details", {}).pop("request_id", None)
            message = parsed.get("error", {}).get("message", "")
            if "(request " in message:  # a 500 names its request
                parsed["error"]["message"] = message.split("(request ")[0]
        return status, kept, parsed
    return status, kept, NONCE.sub(b"nonce", body)


def both(
    clients: tuple[TestClient, TestClient],
    scope: dict[str, Any],
    messages: list[dict[str, Any]] | None = None,
) -> Answer:
    """The direct layer's answer, once it is the router's (bar ids, dates and counts)."""
    messages = _whole(BODY) if messages is None else messages
    answers = [c.portal.call(asgi, c.app, dict(scope), list(messages)) for c in clients]
    assert _norm(answers[0]) == _norm(answers[1])
    return answers[0]


def _header(answer: Answer, name: bytes) -> bytes | None:
    return next((v for k, v in answer[1] if k.lower() == name), None)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (URL + "\n", 200),  # `$` matches before a final newline: both take it
        (URL + "\r", 404),
        ("/" + URL, 404),
        ("/v1/public/retrievers//products/execute", 404),
        ("/v1/public/retrievers/./execute", 404),
        ("/v1/public/retrievers/../execute", 404),
        ("/v1/public/retrievers/products/../products/execute", 404),
        ("/v1/public/retrievers/products/execute/", 307),
        ("/v1/public/retrievers/ｐｒｏｄｕｃｔｓ/execute", 404),  # noqa: RUF001 (no NFKC)
        ("/v1/public/retrievers/PRODUCTS/execute", 404),
        ("/v1/public/retrievers/products\x00/execute", 404),
        ("/v1/public/retrievers/products\n/execute", 404),
        ("/v1/public/retrievers/" + "a" * 20_000 + "/execute", 404),
        ("/v1/public/retrievers/products/execute;x", 404),
        ("/V1/public/retrievers/products/execute", 404),
        ("/v1/public/retrievers/products/execute%00", 404),
    ],
)
def test_raw_paths(clients: Any, path: str, status: int) -> None:
    answer = both(clients, scope_of(path=path))
    assert answer[0] == status
    assert _header(answer, b"x-request-id")


def test_the_decoded_path_is_what_counts_never_the_raw_one(clients: Any) -> None:
    other = "/v1/public/retrievers/other/execute"
    assert both(clients, scope_of(raw_path=other.encode()))[0] == 200
    assert both(clients, scope_of(path=other, raw_path=URL.encode()))[0] == 404


def test_a_password_by_header_or_cookie_as_the_router_takes_it(clients: Any) -> None:
    protect(clients[0], clients[0].app_state["retriever_id"], "opensesame")
    right, wrong = (b"x-retriever-password", b"opensesame"), (b"x-retriever-password", b"nope")
    refused = both(clients, scope_of())
    assert refused[0] == 401
    assert b"private" in (_header(refused, b"cache-control") or b"")
    assert both(clients, scope_of(headers=[JSON, wrong, right]))[0] == 403  # the first counts
    assert both(clients, scope_of(headers=[JSON, right, wrong]))[0] == 200
    verified = clients[0].post(f"{URL.rsplit('/', 1)[0]}/verify", json={"password": "opensesame"})
    cookie = verified.headers["set-cookie"].split(";")[0].encode()
    other = cookie.replace(b"products", b"other", 1)
    assert both(clients, scope_of(headers=[JSON, (b"cookie", cookie)]))[0] == 200
    assert both(clients, scope_of(headers=[JSON, (b"cookie", other)]))[0] == 401


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("post", [JSON], 405),  # methods are case-sensitive
        ("HEAD", [JSON], 405),
        ("PATCH", [JSON], 405),
        # A CORS preflight: no CORS here, so no Access-Control-* header on the answer.
        (
            "OPTIONS",
            [
                (b"origin", b"https://evil.example"),
                (b"access-control-request-method", b"POST"),
                (b"access-control-request-headers", b"content-type,x-retriever-password"),
            ],
            405,
        ),
    ],
)
def test_other_methods_go_to_the_router(
    clients: Any, method: str, headers: list[tuple[bytes, bytes]], status: int
) -> None:
    answer = both(clients, scope_of(method=method, headers=headers))
    assert answer[0] == status
    assert _header(answer, b"allow") == b"POST"
    assert not any(k.startswith(b"access-control-") for k, _ in answer[1])


def test_a_cross_site_post_gets_no_cors_header(clients: Any) -> None:
    answer = both(clients, scope_of(headers=[JSON, (b"origin", b"https://evil.example")]))
    assert answer[0] == 200
    assert not any(k.startswith(b"access-control-") for k, _ in answer[1])


@pytest.mark.parametrize(
    ("root_path", "path", "status"),
    [
        ("/api", "/api" + URL, 200),  # a server that keeps the root in the path
        ("/api", URL, 200),
        ("/api", "/api", 307),  # to "/api/", as the router would
        ("/ap", "/api" + URL, 404),  # a root that is no whole segment is not stripped
        ("/", URL, 200),
    ],
)
def test_root_paths(clients: Any, root_path: str, path: str, status: int) -> None:
    assert both(clients, scope_of(path=path, root_path=root_path))[0] == status


@pytest.mark.parametrize(
    ("query", "status"),
    [
        (b"", 200),
        (b"&", 200),
        (b"&&", 200),  # parsed to nothing: no parameter named
        (b"&&=", 422),  # a parameter named ""
        (b"=x", 422),  # a parameter named ""
        (b"a", 422),
        (b"limit=5&limit=6", 422),
        (b"%00=1", 422),
        (b"inputs=x&" * 500, 422),
    ],
)
def test_query_strings(clients: Any, query: bytes, status: int) -> None:
    answer = both(clients, scope_of(query=query))
    assert answer[0] == status
    if status == 422:
        assert json.loads(answer[2])["error"]["details"]


def _chunks(body: bytes, size: int) -> list[dict[str, Any]]:
    parts = [body[i : i + size] for i in range(0, len(body), size)]
    return [{"type": "http.request", "body": p, "more_body": True} for p in parts] + _whole(b"")


@pytest.mark.parametrize(
    ("headers", "messages", "status"),
    [
        ([JSON], _chunks(BODY, 1), 200),  # one byte a message
        ([JSON, (b"content-length", b"3")], _whole(BODY), 200),  # the server holds the length
        ([JSON, (b"content-length", b"abc")], _whole(BODY), 413),
        ([JSON, (b"content-length", b"-1")], _whole(BODY), 413),
        ([JSON], _whole(b""), 422),
        ([JSON], _whole(b"   "), 422),
        ([JSON], [{"type": "http.request"}], 422),  # no body key at all
        ([JSON], [{"type": "http.request", "body": b"{", "more_body": True}], 499),
        ([JSON], [{"type": "http.disconnect"}], 499),
        ([(b"content-type", b"text/plain"), JSON], _whole(BODY), 415),  # the first counts
        ([JSON, (b"content-type", b"text/plain")], _whole(BODY), 200),
        ([(b"Content-Type", b"application/json")], _whole(BODY), 415),  # names are lowercase
        ([(b"content-type", b"application/json; charset=utf-8")], _whole(BODY), 200),
        ([(b"content-type", b"APPLICATION/JSON")], _whole(BODY), 200),
        ([(b"content-type", b" application/json ;")], _whole(BODY), 200),
        ([(b"content-type", b"application/json-seq")], _whole(BODY), 415),
        ([(b"content-type", b"")], _whole(BODY), 415),
        ([(b"content-type", b"text/plain; x=/json")], _whole(BODY), 415),
        ([(b"content-type", b"multipart/form-data; boundary=/json")], _whole(BODY), 415),
        ([(b"content-type", "application/jsön".encode("latin-1"))], _whole(BODY), 415),
        ([], _whole(BODY), 415),
    ],
)
def test_bodies(
    clients: Any, headers: list[tuple[bytes, bytes]], messages: list[Any], status: int
) -> None:
    answer = both(clients, scope_of(headers=headers), messages)
    assert answer[0] == status
    assert _header(answer, b"x-request-id")


def test_a_body_without_a_length_past_the_limit(clients: Any, settings: Settings) -> None:
    messages = _chunks(b" " * (settings.max_body_bytes + 1), 64 * 1024)
    answer = both(clients, scope_of(), messages)
    assert answer[0] == 413
    assert json.loads(answer[2])["error"]["type"] == "payload_too_large"
    assert _header(answer, b"x-request-id")


def _samples(client: TestClient) -> dict[tuple[str, ...], float]:
    registry = client.app.state.services.metrics.registry
    return {
        (s.labels["route"], s.labels["method"], s.labels["status"]): s.value
        for metric in registry.collect()
        if metric.name == "http_requests"
        for s in metric.samples
        if s.name == "http_requests_total"
    }


def test_metrics_and_the_access_log_are_the_routers(
    clients: Any, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    big = _chunks(b" " * (settings.max_body_bytes + 1), 64 * 1024)
    calls: list[tuple[dict[str, Any], list[Any]]] = [
        (scope_of(), _whole(BODY)),
        (scope_of(path="/v1/public/retrievers/nope/execute"), _whole(BODY)),
        (scope_of(headers=[]), _whole(BODY)),
        (scope_of(query=b"x=1"), _whole(BODY)),
        (scope_of(), big),
        (scope_of(), [{"type": "http.disconnect"}]),
        (scope_of(headers=[JSON, (b"content-length", b"99999999")]), _whole(BODY)),
        (scope_of(method="GET"), _whole(b"")),
    ]
    lines = []
    for client in clients:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="retriever_pages.access"):
            for scope, messages in calls:
                client.portal.call(asgi, client.app, scope, messages)
        lines.append(
            [r.getMessage().rsplit(" ", 3)[0] for r in caplog.records if r.name.endswith("access")]
        )
    assert lines[0] == lines[1]
    assert len(lines[0]) == len(calls)
    direct, router = (_samples(c) for c in clients)
    ours = {k: v for k, v in direct.items() if k[0] in (EXECUTE, "unmatched")}
    assert ours == {k: v for k, v in router.items() if k[0] in (EXECUTE, "unmatched")}
    for status in ("200", "404", "415", "422", "413", "499"):
        assert direct[EXECUTE, "POST", status] >= 1, status
    assert direct["unmatched", "POST", "413"] == 1  # refused by its length before any route
    assert direct[EXECUTE, "GET", "405"] == 1


@pytest.fixture
def raising(clients: Any, monkeypatch: pytest.MonkeyPatch) -> Callable[[BaseException], None]:
    """Make the execute's query raise `error` in both apps."""

    def make(error: BaseException) -> None:
        async def run(*args: Any) -> Any:
            raise error

        for client in clients:
            monkeypatch.setattr(client.app.state.services.query, "run", run)

    return make


def test_an_unexpected_error_is_a_500_with_its_request_id_and_no_traceback(
    clients: Any, raising: Any, caplog: pytest.LogCaptureFixture
) -> None:
    raising(RuntimeError("secret internals /etc/passwd"))
    with caplog.at_level(logging.ERROR, logger="retriever_pages"):
        answer = both(clients, scope_of(headers=[JSON, (b"x-request-id", b"caller-id-0500")]))
    assert answer[0] == 500
    body = json.loads(answer[2])
    assert body["error"]["type"] == "internal_error"
    assert body["error"]["details"]["request_id"] == "caller-id-0500"
    assert [v for k, v in answer[1] if k.lower() == b"x-request-id"] == [b"caller-id-0500"]
    assert b"secret" not in answer[2]
    assert b"Traceback" not in answer[2]
    logged = [r for r in caplog.records if r.getMessage().startswith("unhandled error")]
    assert len(logged) == 2
    assert all(r.exc_info for r in logged)
    assert all(r.getMessage() == f"unhandled error on POST {URL}" for r in logged)
    for client in clients:
        assert _samples(client)[EXECUTE, "POST", "500"] == 1


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (HTTPException(409, "taken"), 409),
        (HTTPException(404), 404),
        (
            TooManyRequests(
                "Too many.", window="minute", retry_after=7, headers={"Retry-After": "7"}
            ),
            429,
        ),
    ],
)
def test_errors_of_the_view(clients: Any, raising: Any, error: Exception, status: int) -> None:
    raising(error)
    answer = both(clients, scope_of())
    assert answer[0] == status
    assert json.loads(answer[2])["status"] == status
    if status == 429:
        assert _header(answer, b"retry-after") == b"7"


def test_the_rate_limit_is_the_routers(clients: Any) -> None:
    answers = [both(clients, scope_of()) for _ in range(11)]  # the standard tier: 10 a minute
    assert [a[0] for a in answers] == [200] * 10 + [429]
    refused = answers[-1]
    assert int(_header(refused, b"retry-after") or 0) > 0
    assert _header(refused, b"ratelimit-policy")
    assert json.loads(refused[2])["error"]["type"]


class _Odd(Exception):
    pass


def _sync_handler(request: Any, exc: Exception) -> Any:
    return error_response(409, "odd", "An error a plain function answers.")


def test_a_handler_that_is_a_plain_function_is_run_as_the_router_runs_it() -> None:
    """Starlette runs a handler that is no coroutine function in a thread; so does Direct."""

    async def odd(request: Any) -> Any:
        raise _Odd

    answers = []
    for layers in ([Middleware(Direct)], []):
        app = Starlette(
            routes=[route(EXECUTE, post=odd)],
            middleware=layers,
            exception_handlers={_Odd: _sync_handler, Exception: handle_unexpected},
        )
        with TestClient(app, raise_server_exceptions=False) as client:
            answers.append(client.post("/v1/public/retrievers/any/execute", json=base.BODY))
    assert [a.status_code for a in answers] == [409, 409]
    assert answers[0].json() == answers[1].json()


async def _other(request: Any) -> PlainTextResponse:
    return PlainTextResponse("other")


@pytest.mark.parametrize(
    "before",
    [
        Route("/v1/public/retrievers/special/execute", _other, methods=["POST"]),
        Route("/v1/public/retrievers/{n:int}/execute", _other, methods=["POST"]),
        Route("/v1/public/retrievers/{rest:path}", _other, methods=["POST"]),
        Route("/v1/public/retrievers/{n:int}/{rest:path}", _other, methods=["POST"]),
        Mount("/v1/public/retrievers/special", app=_other),
        Mount("/v1/public", app=_other),
    ],
)
def test_a_route_before_the_execute_that_takes_some_of_its_paths_is_refused(before: Any) -> None:
    """Each of these takes a POST to /v1/public/retrievers/special/execute (or to /0/execute)
    from the router; Direct would have answered it with the execute."""
    with pytest.raises(ValueError, match="comes before"):
        Direct(ExceptionMiddleware(Router(routes=[before, route(EXECUTE, post=execute)])))


@pytest.mark.parametrize(
    "before",
    [
        Route("/v1/public/retrievers/{public_name}/config", _other),
        Route("/v1/public/retrievers/", _other),
        Mount("/static", app=_other),
        Route("/v1/public/retrievers/{n:int}/verify", _other, methods=["POST"]),
    ],
)
def test_routes_before_the_execute_that_take_none_of_its_paths_are_let_be(before: Any) -> None:
    direct = Direct(ExceptionMiddleware(Router(routes=[before, route(EXECUTE, post=execute)])))
    assert direct.route.path == EXECUTE


def _exchange(port: int, request: bytes, *, leave: bool = False) -> bytes:
    """`request` written to a socket, its last line a moment after the rest (a slow body);
    with `leave`, the client then stops writing (a body cut short: a client that left). Then
    all the server answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head, _, tail = request.rpartition(b"\r\n")
        sock.sendall(head + b"\r\n")
        time.sleep(0.05)
        sock.sendall(tail)
        if leave:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _answer_of(raw: bytes) -> tuple[str, list[str], str]:
    raw = raw.removeprefix(b"HTTP/1.1 100 Continue\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    names = {"x-request-id", "date", "content-length", "ratelimit-remaining", "ratelimit"}
    names |= {"ratelimit-reset", "retry-after"}
    kept = sorted(line.lower() for line in lines if line.split(":")[0].lower() not in names)
    text = re.sub(r'"execution_id":"[^"]*"|"request_id":"[^"]*"', "", body.decode("latin-1"))
    return status, kept, NONCE.sub(b"nonce", text.encode()).decode()


CT = "content-type: application/json"


def _http(path: str, body: bytes, *headers: str) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "host: testserver", "connection: close", CT, *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _sized(path: str, *headers: str, body: bytes = BODY) -> bytes:
    return _http(path, body, f"content-length: {len(body)}", *headers)


def _chunked(path: str, *parts: bytes) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
    return _http(path, body, "transfer-encoding: chunked")


@pytest.mark.parametrize(
    ("request_", "leave", "status"),
    [
        (_sized(URL), False, "200"),
        (_sized(URL + "?"), False, "200"),
        (_sized(URL, "expect: 100-continue"), False, "200"),
        (_chunked(URL, BODY[:5], BODY[5:]), False, "200"),
        (_chunked("/v1/public/retrievers/%70roducts/execute", BODY), False, "200"),
        (_chunked(URL, b" " * MAX_BODY_BYTES, b" "), False, "413"),
        (_http(URL, BODY, "content-length: 1000000000"), False, "413"),
        (_http(URL, BODY, "content-length: 1000"), True, ""),  # left mid-body: no answer
        (_chunked(URL, BODY)[:-5], True, ""),
        (_sized("/v1/public/retrievers/%2e%2e/execute"), False, "404"),
        # The server decodes the path before any route sees it: both take this one.
        (_sized("/v1/public/retrievers/products%2Fexecute"), False, "200"),
    ],
)
def test_over_a_socket(
    settings: Settings, clients: Any, request_: bytes, leave: bool, status: str
) -> None:
    """The same bytes to uvicorn serving the app and the app without the layer."""
    routed = create_app(settings)
    routed.user_middleware = [m for m in routed.user_middleware if m.cls is not Direct]
    with LiveServer(create_app(settings)) as direct, LiveServer(routed) as router:
        answers = [_answer_of(_exchange(s.port, request_, leave=leave)) for s in (direct, router)]
    assert answers[0] == answers[1]
    assert answers[0][0].split(" ")[1:2] == ([status] if status else [])


def test_an_execute_route_with_layers_of_its_own_is_refused() -> None:
    """A route's own middleware or body limit wraps its view; Direct calls the view itself."""
    execute_route = route(EXECUTE, post=execute)
    execute_route.app = RequestBodyLimitMiddleware(execute_route.app, max_body_size=10)
    with pytest.raises(ValueError, match="layers of its own"):
        Direct(ExceptionMiddleware(Router(routes=[execute_route])))


def test_a_path_s_control_characters_stay_on_the_access_log_s_one_line(
    clients: Any, caplog: pytest.LogCaptureFixture
) -> None:
    forged = "/v1/public/retrievers/x\n2026-01-01 INFO forged [-] GET /admin 200\x1b[2J/execute"
    with caplog.at_level(logging.INFO, logger="retriever_pages.access"):
        for client in clients:
            client.portal.call(asgi, client.app, scope_of(path=forged), _whole(BODY))
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("access")]
    assert len(lines) == len(clients)
    for line in lines:
        assert "\n" not in line
        assert "\x1b" not in line
        assert "retrievers/x\\n2026-01-01 INFO forged" in line
