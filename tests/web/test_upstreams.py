"""The upstream destination policy and the secrets an upstream may receive, against a real
upstream on loopback (which the policy refuses unless the operator allows it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, owner_headers
from tests.servers import LiveServer, free_port

KEY = "sk_upstream_0123456789"


class Upstream:
    def __init__(self) -> None:
        self.calls = 0

    def app(self) -> Starlette:
        async def execute(request: Request) -> Response:
            self.calls += 1
            return JSONResponse({"documents": [{"document_id": "d", "title": "From upstream"}]})

        return Starlette(routes=[Route("/v1/retrievers/{rid}/execute", execute, methods=["POST"])])


@pytest.fixture
def upstream() -> Iterator[tuple[Upstream, LiveServer]]:
    state = Upstream()
    with LiveServer(state.app()) as server:
        yield state, server


def _secret(client: TestClient, name: str = "up-key", value: str = KEY) -> Any:
    return client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": name, "secret_value": value},
    )


def _register(client: TestClient, name: str, **backend: Any) -> Any:
    body = {
        "type": "mixpeek",
        "base_url": "https://api.example.test",
        "retriever_id": "r",
        "namespace": "n",
        "api_key_secret_name": "up-key",
        **backend,
    }
    return client.post(
        "/v1/retrievers", headers=owner_headers(), json={"retriever_name": name, "backend": body}
    )


def _field(response: Any) -> str:
    assert response.status_code == 422, response.text
    field: str = response.json()["error"]["details"]["errors"][0]["field"]
    return field


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:8000",
        "http://localhost:8000",
        "http://10.1.2.3",
        "http://192.168.0.10",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0:80",
        "http://[::1]:8000",
        "http://[::ffff:127.0.0.1]",
        "http://2130706433",
        "http://0x7f000001",
        "http://0177.0.0.1",
        "http://224.0.0.1",
    ],
)
def test_internal_destinations_are_refused(
    make_settings: Callable[..., Settings], base_url: str
) -> None:
    with TestClient(create_app(make_settings(upstream_allow=[]))) as client:
        _secret(client)
        refused = _register(client, "internal", base_url=base_url)
        assert _field(refused) in ("backend.base_url", "backend.mixpeek.base_url")
        assert client.get("/v1/retrievers", headers=owner_headers()).json()["total"] == 0


@pytest.mark.parametrize(
    ("backend", "field"),
    [
        ({"base_url": "https://user:pw@api.example.test"}, "backend.base_url"),
        ({"base_url": "ftp://api.example.test"}, "backend.mixpeek.base_url"),
        ({"base_url": "/relative"}, "backend.mixpeek.base_url"),
        ({"base_url": "https://api.example.test/?x=1"}, "backend.base_url"),
        ({"retriever_id": "../admin?x="}, "backend.mixpeek.retriever_id"),
        ({"retriever_id": "a/b"}, "backend.mixpeek.retriever_id"),
        ({"namespace": "ns\r\nX-Injected: 1"}, "backend.mixpeek.namespace"),
    ],
)
def test_what_goes_into_the_upstream_request_is_checked(
    client: TestClient, backend: dict[str, Any], field: str
) -> None:
    _secret(client)
    assert _field(_register(client, "checked", **backend)) == field


def test_a_secret_with_a_line_break_is_refused(client: TestClient) -> None:
    assert _field(_secret(client, value="sk_1\r\nX-Injected: 1")) == "secret_value"
    assert _secret(client, value="a pass phrase\twith a tab").status_code == 200


def test_an_allowed_loopback_upstream_answers(
    make_settings: Callable[..., Settings], upstream: tuple[Upstream, LiveServer]
) -> None:
    state, server = upstream
    with TestClient(create_app(make_settings(upstream_allow=["127.0.0.1"]))) as client:
        _secret(client)
        rid = _register(client, "allowed", base_url=server.url).json()["retriever_id"]
        _publish(client, rid, "allowed")
        answer = client.post("/v1/public/retrievers/allowed/execute", json={"inputs": {}})
        assert answer.status_code == 200, answer.text
        assert answer.json()["documents"][0]["title"] == "From upstream"
    assert state.calls == 1


def test_an_allowance_for_one_port_is_for_that_port_only(
    make_settings: Callable[..., Settings], upstream: tuple[Upstream, LiveServer]
) -> None:
    _, server = upstream
    allow = [f"127.0.0.1:{server.port}"]
    with TestClient(create_app(make_settings(upstream_allow=allow))) as client:
        _secret(client)
        assert _register(client, "this-port", base_url=server.url).status_code == 200
        other = f"http://127.0.0.1:{free_port()}"
        assert _field(_register(client, "other-port", base_url=other)) == "backend.base_url"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_policy_holds_when_connecting_too(
    make_settings: Callable[..., Settings], upstream: tuple[Upstream, LiveServer], host: str
) -> None:
    """Registered while allowed; once the operator takes the allowance back, no call goes out:
    a name that resolves elsewhere later (DNS rebinding) meets the same check."""
    state, server = upstream
    settings = make_settings(upstream_allow=["127.0.0.1", "localhost"])
    with TestClient(create_app(settings)) as client:
        _secret(client)
        base_url = f"http://{host}:{server.port}"
        rid = _register(client, "rebound", base_url=base_url).json()["retriever_id"]
        _publish(client, rid, "rebound")
    strict = settings.model_copy(update={"upstream_allow": []})
    with TestClient(create_app(strict)) as client:
        answer = client.post("/v1/public/retrievers/rebound/execute", json={"inputs": {}})
        assert answer.status_code == 502
        error = answer.json()["error"]
        assert error["details"] == {}  # nothing about what lies behind the server
        assert str(server.port) not in answer.text
    assert state.calls == 0


def test_a_502_says_nothing_of_the_network(client: TestClient) -> None:
    _secret(client)
    closed = f"http://127.0.0.1:{free_port()}"  # allowed, but nothing listens there
    rid = _register(client, "closed", base_url=closed).json()["retriever_id"]
    _publish(client, rid, "closed")
    answer = client.post("/v1/public/retrievers/closed/execute", json={"inputs": {}})
    assert answer.status_code == 502
    assert answer.json()["error"]["details"] == {}
    assert "Connect" not in answer.text


def test_a_page_password_is_never_an_upstream_key(client: TestClient) -> None:
    _secret(client, "page-password", "open sesame")
    rid = _register(client, "first", api_key_secret_name="page-password").json()["retriever_id"]
    # Used as an upstream key, it cannot become a password ...
    published = _publish(client, rid, "first", password_secret_name="page-password")
    assert _field(published) == "password_secret_name"
    # ... and a password cannot become an upstream key.
    _secret(client, "other-password", "another one")
    assert _publish(client, rid, "first", password_secret_name="other-password").status_code == 200
    refused = _register(client, "thief", api_key_secret_name="other-password")
    assert _field(refused) == "backend.api_key_secret_name"
    assert "password" in refused.json()["error"]["message"]


def test_a_key_goes_only_to_the_upstream_it_was_first_used_with(client: TestClient) -> None:
    _secret(client)
    assert _register(client, "real", base_url="https://api.example.test").status_code == 200
    same = _register(client, "same", base_url="https://api.example.test/v2")
    assert same.status_code == 200
    thief = _register(client, "thief", base_url="https://collector.example.test")
    assert _field(thief) == "backend.api_key_secret_name"


def _publish(client: TestClient, rid: str, public_name: str, **more: Any) -> Any:
    return client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": public_name, "display_config": _config(), **more},
    )


def _config() -> dict[str, Any]:
    return browse_config(exposed_fields=["title"], field_config={}, components={})


def test_an_upstreams_details_never_reach_the_public(client: TestClient) -> None:
    from tests.helpers import publish_over_upstream

    base_url = "http://127.0.0.1:9/private-path"
    publish_over_upstream(client, "hidden-upstream", base_url, _config(), "sk-upstream")
    config = client.get("/v1/public/retrievers/hidden-upstream/config")
    template = client.get("/v1/public/retrievers/hidden-upstream/template")
    listing = client.get("/v1/marketplace/catalog/hidden-upstream")
    for answer in (config, template, listing):
        assert answer.status_code == 200, answer.text
        for private in ("127.0.0.1", "private-path", "up-key", '"namespace":"n"'):
            assert private not in answer.text, (answer.request.url, private)
    stage = config.json()["display_config"]["retriever_config"]["stages"][0]
    assert stage["config"] == {"stage_id": "mixpeek_retriever", "parameters": {}}


def test_a_detail_view_over_an_upstream_asks_for_one_document(
    make_settings: Callable[..., Settings],
) -> None:
    asked: list[Any] = []

    async def execute(request: Request) -> Response:
        asked.append(await request.json())
        # An upstream that ignores the filter: the page still shows only the id it asked for.
        documents = [
            {"document_id": "d1", "title": "First", "secret": "internal"},
            {"document_id": "d2", "title": "Second"},
        ]
        return JSONResponse({"documents": documents})

    app = Starlette(routes=[Route("/v1/retrievers/{rid}/execute", execute, methods=["POST"])])
    with (
        LiveServer(app) as server,
        TestClient(create_app(make_settings(upstream_allow=["127.0.0.1"]))) as client,
    ):
        _secret(client)
        rid = _register(client, "details", base_url=server.url).json()["retriever_id"]
        _publish(client, rid, "details")
        page = client.get("/r/details/d/d2")
        assert page.status_code == 200, page.text
        assert '<h1 id="detail-title">Second</h1>' in page.text
        assert asked[-1]["filters"] == {"field": "document_id", "operator": "eq", "value": "d2"}
        assert "internal" not in client.get("/r/details/d/d1").text
        assert client.get("/r/details/d/d3").status_code == 404


def test_an_upstreams_highlights_of_other_shapes_are_left_out(
    make_settings: Callable[..., Settings],
) -> None:
    """Highlights as a list, a text, numbers or a field's list of snippets: the execute and the
    page answer with the text ones of shown fields only, never a 500."""
    documents = [
        {"document_id": "a", "title": "Lamp", "highlights": ["title"]},
        {"document_id": "b", "title": "Desk", "highlights": "title"},
        {"document_id": "c", "title": "Chair", "highlights": {"title": ["<mark>Chair</mark>"]}},
        {"document_id": "d", "title": "Shelf", "highlights": {"title": 3, "secret": "x"}},
        {"document_id": "e", "title": "Stool", "highlights": {"title": "<mark>Stool</mark>"}},
    ]

    async def execute(request: Request) -> Response:
        return JSONResponse({"documents": documents})

    routes = [Route("/v1/retrievers/{rid}/execute", execute, methods=["POST"])]
    with (
        LiveServer(Starlette(routes=routes)) as server,
        TestClient(create_app(make_settings(upstream_allow=["127.0.0.1"]))) as client,
    ):
        _secret(client)
        rid = _register(client, "shapes", base_url=server.url).json()["retriever_id"]
        assert _publish(client, rid, "shapes").status_code == 200
        answer = client.post("/v1/public/retrievers/shapes/execute", json={"inputs": {}})
        assert answer.status_code == 200, answer.text
        shown = {d["document_id"]: d.get("highlights") for d in answer.json()["documents"]}
        assert shown == {"a": None, "b": None, "c": None, "d": None,
                         "e": {"title": "<mark>Stool</mark>"}}  # fmt: skip
        page = client.get("/r/shapes")
        assert page.status_code == 200, page.text[:300]
        assert "<mark>Stool</mark>" in page.text
        assert "Shelf" in page.text
