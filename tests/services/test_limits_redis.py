"""Limits shared by two server processes through a real Redis, and Redis going away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis

from app.adapters.counters import RETRY_STORAGE_AFTER_SECONDS, Counters
from app.services.access import MAX_FAILED_ATTEMPTS
from app.services.limits import RateLimiter, Window
from tests.helpers import FakeClock, browse_config, local_backend, owner_headers
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


def publish(url: str, name: str, limits: dict[str, int], password: str | None = None) -> None:
    headers = owner_headers()
    if password is not None:
        httpx.post(
            f"{url}/v1/organizations/secrets",
            headers=headers,
            json={"secret_name": f"{name}-password", "secret_value": password},
        ).raise_for_status()
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
            "password_secret_name": f"{name}-password" if password is not None else None,
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


PASSWORD = "open sesame"


def guess(url: str, name: str, password: str) -> int | bool:
    """A password sent to /verify: whether it was right, or the status that refused it."""
    response = httpx.post(f"{url}/v1/public/retrievers/{name}/verify", json={"password": password})
    if response.status_code != 200:
        return response.status_code
    valid: bool = response.json()["valid"]
    return valid


def test_an_address_throttled_before_redis_stops_stays_throttled_in_every_process(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with server(tmp_path, redis_server.url) as first, server(tmp_path, redis_server.url) as second:
        publish(first, "guarded", {}, PASSWORD)
        assert [guess(first, "guarded", "wrong") for _ in range(MAX_FAILED_ATTEMPTS)] == [
            False
        ] * MAX_FAILED_ATTEMPTS
        assert guess(second, "guarded", PASSWORD) == 429
        redis_server.stop()
        # Neither process starts this address over, not even with the right password.
        for url in (first, second, first, second):
            assert guess(url, "guarded", PASSWORD) == 429
        execute = httpx.post(
            f"{second}/v1/public/retrievers/guarded/execute",
            json={"inputs": {}},
            headers={"X-Retriever-Password": PASSWORD},
        )
        assert execute.status_code == 429
        assert int(execute.headers["Retry-After"]) > 0


def test_counts_redis_loses_without_an_outage_are_still_refused(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    """Redis emptied while both processes see it answer (a restart between two guesses, a
    failover to an empty replica) gives no address its guesses back."""
    with server(tmp_path, redis_server.url) as first, server(tmp_path, redis_server.url) as second:
        publish(first, "forgotten", {}, PASSWORD)
        for n in range(MAX_FAILED_ATTEMPTS):
            assert guess(first if n % 2 else second, "forgotten", "wrong") is False
        redis.Redis.from_url(redis_server.url).flushall()
        assert guess(first, "forgotten", PASSWORD) == 429
        assert guess(second, "forgotten", "wrong") == 429
        assert guess(second, "forgotten", PASSWORD) == 429


def test_guesses_during_a_redis_outage_share_one_allowance_that_outlasts_it(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with server(tmp_path, redis_server.url) as first, server(tmp_path, redis_server.url) as second:
        publish(first, "outage", {}, PASSWORD)
        redis_server.stop()
        # The right password still opens the retriever, from either process, and costs nothing.
        assert guess(first, "outage", PASSWORD) is True
        assert guess(second, "outage", PASSWORD) is True
        wrong = [guess(first if n % 2 else second, "outage", "wrong") for n in range(8)]
        assert wrong == [False] * MAX_FAILED_ATTEMPTS + [429] * (8 - MAX_FAILED_ATTEMPTS)
        assert guess(first, "outage", PASSWORD) == 429
        assert guess(second, "outage", PASSWORD) == 429
        redis_server.start()  # empty: it saves nothing
        time.sleep(RETRY_STORAGE_AFTER_SECONDS + 0.5)  # until both processes ask Redis again
        # Redis has forgotten the outage's guesses, the store has not: no guess more, from
        # either process, right or wrong.
        assert guess(first, "outage", "wrong") == 429
        assert guess(second, "outage", PASSWORD) == 429
        assert guess(first, "outage", PASSWORD) == 429


def test_with_refuse_a_password_check_during_an_outage_is_a_503(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    with server(tmp_path, redis_server.url, on_failure="refuse") as url:
        publish(url, "strict-password", {}, PASSWORD)
        redis_server.stop()
        response = httpx.post(
            f"{url}/v1/public/retrievers/strict-password/verify", json={"password": PASSWORD}
        )
        assert response.status_code == 503
        assert response.json()["error"]["type"] == "rate_limits_unavailable"


def test_every_window_counts_in_redis_and_a_refusal_gives_all_back(
    redis_server: RedisServer,
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(Counters(redis_server.url, "refuse", clock), clock, prefix="windows")
    windows = [
        Window("minute", 2, 60, "r"),
        Window("hour", 3, 3600, "r"),
        Window("day", 5, 86400, "r"),
    ]

    async def run() -> tuple[list[bool], list[int]]:
        allowed = []
        for _ in range(4):
            decision = await limiter.hit(windows)
            assert decision is not None
            allowed.append(decision.allowed)
        return allowed, [await limiter.count(window) for window in windows]

    allowed, counts = asyncio.run(run())
    assert allowed == [True, True, False, False]
    assert counts == [2, 2, 2]  # the refused requests used up no window
