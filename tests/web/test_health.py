"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from app.web.app import create_app
from tests.helpers import owner_headers
from tests.servers import PostgresServer, free_port


def test_healthz_and_readyz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["store"] == "ok"


def test_readyz_follows_the_store_down_and_up(
    make_settings: Any, postgres_server: PostgresServer
) -> None:
    settings = make_settings(database_url=postgres_server.url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        assert client.get("/readyz").status_code == 200
        postgres_server.stop()
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["error"]["details"] == {"store": "down"}
        assert client.get("/healthz").status_code == 200
        # Owner calls get a clear 503, not a stack trace.
        owner = client.get("/v1/retrievers", headers=owner_headers())
        assert owner.status_code == 503
        assert "store" in owner.json()["error"]["message"]
        postgres_server.start()
        assert client.get("/readyz").status_code == 200


def test_readyz_names_every_typesense_node_that_does_not_answer(make_settings: Any) -> None:
    # A cluster of two nodes of which neither listens: not ready, both named, the key never.
    nodes = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    settings = make_settings(engine_url=f"typesense://secret-key@{','.join(nodes)}")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["error"]["message"] == "Not ready: engine not answering."
        assert down.json()["error"]["details"] == {
            "store": "ok",
            "engine": f"Typesense at {nodes[0]} and {nodes[1]} are unreachable",
        }
        assert "secret-key" not in down.text
        assert client.get("/healthz").status_code == 200
