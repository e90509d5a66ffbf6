"""Limits shared by two server processes through a real Redis, and Redis going away."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import browse_config, local_backend, owner_headers
from tests.servers import RedisServer, server_process

# Per-day limits, so that a minute or an hour turning mid-test changes nothing.
DAILY = {"requests_per_minute": 1000, "requests_per_hour": 1000}


@contextmanager
def server(data_dir: Path, redis_url: str, on_failure: str = "fallback") -> Iterator[str]:
    with server_process(
        data_dir,
        RETRIEVER_PAGES_RATE_LIMIT_STORAGE=redis_url,
        RETRIEVER_PAGES_RATE_LIMIT_ON_FAILURE=on_failure,
    ) as (url, _):
        yield url


def publish(url: str, name: str, limits: dict[str, int]) -> None:
    headers = owner_headers()
    httpx.post(
        f"{url}/v1/collections/products/documents",
        headers=headers,
        json={"documents": [{"document_id": "1", "title": "Lamp"}]},
    ).raise_for_status()
    rid = httpx.post(
        f"{url}/v1/retrievers",
        headers=headers,
        json={"retriever_name": name, "backend": local_backend()},
    ).json()["retriever_id"]
    config = browse_config()
    httpx.post(
        f"{url}/v1/retrievers/{rid}/publish",
        headers=headers,
        json={
            "public_name": name,
            "display_config": config,
            "rate_limit_config": {**DAILY, **limits},
        },
    ).raise_for_status()


def query(url: str, name: str) -> int:
    response = httpx.post(f"{url}/v1/public/retrievers/{name}/execute", json={"inputs": {}})
    return response.status_code


def test_two_processes_share_one_count(tmp_path: Path, redis_server: RedisServer) -> None:
    with server(tmp_path, redis_server.url) as first, server(tmp_path, redis_server.url) as second:
        publish(first, "shared", {"requests_per_day": 7})
        statuses = [query(first if n % 2 else second, "shared") for n in range(12)]
        assert statuses.count(200) == 7
        assert statuses[:7] == [200] * 7
        assert set(statuses[7:]) == {429}
        assert httpx.get(f"{first}/readyz").json()["rate_limits"] == "ok"


def test_redis_stopped_mid_run_falls_back_then_recovers(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with server(tmp_path, redis_server.url) as url:
        publish(url, "fallback", {"requests_per_day": 3})
        assert [query(url, "fallback") for _ in range(4)] == [200, 200, 200, 429]
        redis_server.stop()
        # Counting goes on in this process's memory: still limited, never a 500.
        assert [query(url, "fallback") for _ in range(4)] == [200, 200, 200, 429]
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 200
        assert ready.json()["rate_limits"] == "down, counting in process memory"
        redis_server.start()  # the same port
        deadline = time.monotonic() + 15
        while httpx.get(f"{url}/readyz").json().get("rate_limits") != "ok":
            assert time.monotonic() < deadline, "never saw Redis come back"
            time.sleep(0.2)
        # Redis came back empty (it saves nothing): the shared count starts again.
        assert [query(url, "fallback") for _ in range(4)] == [200, 200, 200, 429]


def test_redis_stopped_with_refuse_answers_503(tmp_path: Path, redis_server: RedisServer) -> None:
    with server(tmp_path, redis_server.url, on_failure="refuse") as url:
        publish(url, "strict", {"requests_per_day": 100})
        assert query(url, "strict") == 200
        redis_server.stop()
        response = httpx.post(f"{url}/v1/public/retrievers/strict/execute", json={"inputs": {}})
        assert response.status_code == 503
        assert response.json()["error"]["type"] == "rate_limits_unavailable"
        ready = httpx.get(f"{url}/readyz")
        assert ready.status_code == 503
        assert "rate_limits" in ready.json()["error"]["message"]
