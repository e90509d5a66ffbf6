"""The public execute served by the direct layer (app/web/direct.py) with a dependency down,
each answer compared with the router's (the same app without the layer, on the same data):
PostgreSQL stopped under the store and the engine (hostile bodies sent meanwhile too), Redis
stopped under the rate limits and the password throttle, the search log's disk full or
read-only, a Mixpeek upstream gone or answering a proxy's HTML, and the embedder of a hybrid
retriever gone or too slow. Each is a whole answer that says what is down (503 with when to ask
again, or the upstream's 502), never a 500 nor a stack trace, and nothing stored is lost once
it is back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app.settings import Settings
from tests.helpers import (
    browse_config,
    local_backend,
    owner_headers,
    protect,
    publish_backend,
    publish_over_upstream,
)
from tests.servers import LiveServer, PostgresServer, RedisServer, free_port
from tests.system.test_store_faults import _fill, small_disk
from tests.web.test_direct import apps, same

__all__ = ["small_disk"]  # (the fixture, taken from the store's fault tests)

URL = "/v1/public/retrievers/products/execute"
DOCUMENTS = [
    {"document_id": f"d{n}", "title": f"Desk lamp {n}", "description": "A warm light to read by"}
    for n in range(12)
]
ROOMY = {"tier": "standard", "requests_per_minute": 1000, "requests_per_hour": 10_000}
NOT_ANSWERING = "The store is not answering; try again shortly."
LIMITS_DOWN = "Rate limits cannot be checked right now; try again shortly."
Pair = tuple[TestClient, TestClient]


@contextmanager
def pair(settings: Settings, rate_limit: dict[str, Any] | None = None) -> Iterator[Pair]:
    """The app, and the same app without the direct layer (the router's answers), with a
    retriever "products" over DOCUMENTS published."""
    with apps(settings) as (direct, router):
        upload = direct.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        assert upload.status_code == 200, upload.text
        rid = direct.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "products", "backend": local_backend()},
        ).json()["retriever_id"]
        config = browse_config(exposed_fields=["title", "description"], field_config={})
        published = direct.post(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={
                "public_name": "products",
                "display_config": {**config, "components": {}},
                "rate_limit_config": rate_limit or {"tier": "unlimited"},
            },
        )
        assert published.status_code == 200, published.text
        direct.app_state = {"retriever_id": rid}  # type: ignore[attr-defined]
        yield direct, router


JSON_TYPE = {"content-type": "application/json"}
HOSTILE: list[tuple[bytes, dict[str, str]]] = [
    (b"{not json", JSON_TYPE),
    (b'{"inputs": {"query": 5}}', JSON_TYPE),
    (b'{"inputs": {}, "pagination": {"page_size": 0}}', JSON_TYPE),
    (b'{"inputs": {"query": "lamp"}}', {"content-type": "text/plain"}),
    (rb'{"inputs": {"query": "\u0000' + b"x" * 600 + b'"}}', JSON_TYPE),
    (b"x" * (2 * 1024 * 1024), JSON_TYPE),
]


def _down(answer: Any, status: int, kind: str, message: str | None = None) -> dict[str, Any]:
    """A whole error answer of `status` and `kind`, saying what, with no trace; its error."""
    assert answer.status_code == status, answer.text[:300]
    assert "Traceback" not in answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert answer.json()["success"] is False
    assert error["type"] == kind, error
    if message is not None:
        assert error["message"] == message, error
    if status == 503:
        assert int(answer.headers["retry-after"]) > 0
    return error


def _ids(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.text
    return sorted(d["document_id"] for d in answer.json()["documents"])


EVERY = sorted(d["document_id"] for d in DOCUMENTS)
ALL = {"inputs": {"query": "lamp"}, "pagination": {"page_size": 50}}


def test_postgres_stopped_the_execute_is_the_routers_503_and_nothing_is_lost(
    make_settings: Callable[..., Settings], postgres_server: PostgresServer
) -> None:
    settings = make_settings(database_url=postgres_server.url)
    with pair(settings) as clients:
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        postgres_server.stop()
        try:
            for body in (ALL, {"inputs": {}}, {"inputs": {"query": "lamp"}, "facets": ["title"]}):
                answer = same(clients, "POST", URL, json=body)
                _down(answer, 503, "store_unavailable", NOT_ANSWERING)
                assert answer.json()["error"]["details"] == {"reason": "not_answering"}
            # A refused write in between changes nothing.
            refused = clients[0].post(
                "/v1/collections/products/documents",
                headers=owner_headers(),
                json={"documents": [{"document_id": "d0", "title": "Gone"}]},
            )
            assert refused.status_code == 503
            # Hostile or broken calls meanwhile: each the router's answer, never a 500.
            for content, headers in HOSTILE:
                answer = same(clients, "POST", URL, content=content, headers=headers)
                assert answer.status_code in (413, 415, 422, 503), answer.text[:300]
                assert answer.json()["status"] == answer.status_code
                assert "Traceback" not in answer.text
            unknown = same(clients, "POST", "/v1/public/retrievers/nobody/execute", json=ALL)
            _down(unknown, 503, "store_unavailable", NOT_ANSWERING)
        finally:
            postgres_server.start()
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        titles = {
            d["document_id"]: d["title"] for d in clients[0].post(URL, json=ALL).json()["documents"]
        }
        assert titles["d0"] == "Desk lamp 0"
        # The search log writes again: a search made now is a row.
        before = _logged(clients[0])
        assert _ids(clients[0].post(URL, json=ALL)) == EVERY
        assert _logged(clients[0]) == before + 1


@pytest.mark.parametrize("on_failure", ["refuse", "fallback"])
def test_redis_stopped_the_execute_is_the_routers_answer(
    make_settings: Callable[..., Settings], redis_server: RedisServer, on_failure: str
) -> None:
    settings = make_settings(rate_limit_storage=redis_server.url, rate_limit_on_failure=on_failure)
    with pair(settings, rate_limit=ROOMY) as clients:
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        redis_server.stop()
        wait = 0
        try:
            for _ in range(3):
                answer = same(clients, "POST", URL, json=ALL)
                if on_failure == "refuse":
                    _down(answer, 503, "rate_limits_unavailable", LIMITS_DOWN)
                    wait = int(answer.headers["retry-after"])
                else:  # counted in each process's memory meanwhile
                    assert _ids(answer) == EVERY
        finally:
            redis_server.start()
        time.sleep(wait)  # as a client told when to ask again does
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY


def test_redis_stopped_a_password_is_still_checked_and_counted(
    make_settings: Callable[..., Settings], redis_server: RedisServer
) -> None:
    settings = make_settings(rate_limit_storage=redis_server.url)
    with pair(settings, rate_limit=ROOMY) as clients:
        protect(clients[0], clients[0].app_state["retriever_id"], "opensesame")  # type: ignore[attr-defined]
        redis_server.stop()
        try:
            refused = same(clients, "POST", URL, json=ALL)
            _down(refused, 401, "unauthorized")
            wrong = same(clients, "POST", URL, json=ALL, headers={"x-retriever-password": "no"})
            _down(wrong, 403, "forbidden")
            right = {"x-retriever-password": "opensesame"}
            assert _ids(same(clients, "POST", URL, json=ALL, headers=right)) == EVERY
        finally:
            redis_server.start()
        right = {"x-retriever-password": "opensesame"}
        assert _ids(same(clients, "POST", URL, json=ALL, headers=right)) == EVERY


def _logged(client: TestClient) -> int:
    """The rows of the search log, once what was buffered is written."""
    services = client.app.state.services  # type: ignore[attr-defined]
    client.portal.call(services.query.log.flush)
    with services.store.read() as tx:
        count: int = tx.conn.execute(sa.text("SELECT COUNT(*) FROM search_log")).scalar_one()
    return count


def test_the_search_logs_disk_full_the_execute_answers_and_nothing_is_lost(
    make_settings: Callable[..., Settings], small_disk: Path
) -> None:
    settings = make_settings(data_dir=small_disk)
    with pair(settings) as clients:
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        before = _logged(clients[0])
        assert before >= 1
        filler = _fill(small_disk)
        try:
            for _ in range(3):
                assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
            assert _logged(clients[0]) == before  # the rows could not be written: dropped
            metrics = clients[0].get("/metrics").text
            assert "searches_dropped_total 0.0" not in metrics
        finally:
            filler.unlink()
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        assert _logged(clients[0]) == before + 1  # written again once there is room


def test_a_read_only_store_the_execute_answers_and_its_row_is_dropped(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    with pair(make_settings()) as clients:
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
    database = tmp_path / "data" / "retriever-pages.db"
    assert database.exists()
    read_only = make_settings(database_url=f"sqlite:///file:{database}?mode=ro&uri=true")
    with apps(read_only) as (direct, router):
        for _ in range(3):
            assert _ids(same((direct, router), "POST", URL, json=ALL)) == EVERY
        services = direct.app.state.services  # type: ignore[attr-defined]
        assert direct.portal.call(services.query.log.flush) == 0  # refused, dropped
        assert "searches_dropped_total 0.0" not in direct.get("/metrics").text


def test_an_upstream_gone_is_the_routers_502_without_its_key(
    make_settings: Callable[..., Settings],
) -> None:
    with pair(make_settings()) as clients:
        gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        config = browse_config(exposed_fields=["title"], field_config={}, components={})
        publish_over_upstream(clients[0], "far", gone, config, "sk_far_secret")
        far = "/v1/public/retrievers/far/execute"
        for body in ({"inputs": {}}, {"inputs": {"query": "lamp"}}):
            answer = same(clients, "POST", far, json=body)
            _down(answer, 502, "bad_gateway")
            assert "sk_far_secret" not in answer.text
            assert "127.0.0.1" not in answer.text
        with LiveServer(_garbage_app()) as garbage:
            clients[0].post(
                "/v1/organizations/secrets",
                headers=owner_headers(),
                json={"secret_name": "odd-key", "secret_value": "sk_odd_secret"},
            )
            backend = {
                "type": "mixpeek",
                "base_url": garbage.url,
                "retriever_id": "r",
                "namespace": "n",
                "api_key_secret_name": "odd-key",
            }
            publish_backend(clients[0], "odd", backend, config)
            odd = "/v1/public/retrievers/odd/execute"
            for body in ({"inputs": {}}, {"inputs": {"query": "lamp"}}):
                answer = same(clients, "POST", odd, json=body)
                _down(answer, 502, "bad_gateway")
                assert "sk_odd_secret" not in answer.text
                assert "proxy error" not in answer.text  # nothing of what it said leaks
        # The local retriever beside it answers as before.
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY


def _garbage_app() -> Starlette:
    """A Mixpeek-shaped upstream that answers its execute with a proxy's HTML page."""

    async def execute(request: Request) -> Response:
        return Response("<html>proxy error sk_odd_secret</html>", media_type="text/html")

    return Starlette(routes=[Route("/v1/retrievers/{rid}/execute", execute, methods=["POST"])])


DIMENSIONS = 8
EMBEDDER_TIMEOUT_SECONDS = 1.0


def _embeddings_app(delay: float = 0.0) -> Starlette:
    """An OpenAI-compatible embeddings endpoint: a vector of each text's letters, after
    `delay` seconds."""

    async def embeddings(request: Request) -> Response:
        body = await request.json()
        await asyncio.sleep(delay)
        data = []
        for index, text in enumerate(body["input"]):
            vector = [float(text.count(letter)) + 0.1 for letter in "aeilmnor"[:DIMENSIONS]]
            data.append({"object": "embedding", "index": index, "embedding": vector})
        return JSONResponse({"object": "list", "data": data, "model": body["model"]})

    return Starlette(routes=[Route("/v1/embeddings", embeddings, methods=["POST"])])


def _embedded(client: TestClient) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = client.get("/v1/collections/products", headers=owner_headers()).json()
        if info["embedding"] and info["embedding"]["ready"]:
            return
        time.sleep(0.05)
    raise AssertionError(f"not embedded: {info}")


def test_a_hybrid_retrievers_embedder_gone_is_the_routers_503_naming_it(
    make_settings: Callable[..., Settings],
) -> None:
    port = free_port()
    with pair(make_settings()) as clients:  # "products": hybrid, the default
        client = clients[0]
        endpoint = {
            "type": "http",
            "url": f"http://127.0.0.1:{port}/v1/embeddings",
            "model": "letters",
            "dimensions": DIMENSIONS,
            "timeout_seconds": EMBEDDER_TIMEOUT_SECONDS,
        }
        config = browse_config(exposed_fields=["title", "description"], field_config={})
        publish_backend(
            client, "words", {**local_backend(), "mode": "keyword"}, {**config, "components": {}}
        )
        words = "/v1/public/retrievers/words/execute"
        with LiveServer(_embeddings_app(), port=port):
            configured = client.put(
                "/v1/collections/products/embedding",
                headers=owner_headers(),
                json={"fields": ["title", "description"], "embedder": endpoint},
            )
            assert configured.status_code == 200, configured.text
            _embedded(client)
            assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        # The endpoint gone: a query to embed is refused by name, never by its address.
        for text in ("warm light", "reading lamp"):
            answer = same(clients, "POST", URL, json={"inputs": {"query": text}})
            error = _down(answer, 503, "embedder_unavailable")
            assert "letters" in error["message"]
            assert error["details"]["reason"] == "unreachable"
            assert str(port) not in answer.text
        for path in ("/r/products", "/r/products/embed"):  # the page says the same
            page = client.get(path, params={"query": "warm light"})
            assert page.status_code == 503, page.text[:300]
            assert page.headers["content-type"].startswith("text/html")
            assert "The embedder http:letters is not available" in page.text
            assert "Traceback" not in page.text
            assert str(port) not in page.text
        typeahead = client.get("/v1/public/retrievers/products/typeahead", params={"q": "war"})
        assert typeahead.status_code == 200, typeahead.text  # by words: no embedder asked
        assert "warm" in typeahead.json()["suggestions"]
        # Browsing needs no vector, nor does a retriever that searches by words.
        browse = {"inputs": {}, "pagination": {"page_size": 50}}
        assert _ids(same(clients, "POST", URL, json=browse)) == EVERY
        assert _ids(same(clients, "POST", words, json=ALL)) == EVERY
        # Too slow to answer: refused by name too, with why.
        with LiveServer(_embeddings_app(delay=EMBEDDER_TIMEOUT_SECONDS * 3), port=port):
            answer = same(clients, "POST", URL, json={"inputs": {"query": "slow light"}})
            error = _down(answer, 503, "embedder_unavailable")
            assert error["details"]["reason"] == "timeout"
        with LiveServer(_embeddings_app(), port=port):  # back: nothing was lost
            assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
            info = client.get("/v1/collections/products", headers=owner_headers()).json()
            assert info["documents"] == len(DOCUMENTS)
            assert info["embedding"]["ready"] is True
