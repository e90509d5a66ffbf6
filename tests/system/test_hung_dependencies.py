"""PostgreSQL and Redis that hang rather than refuse (their processes stopped with SIGSTOP, as a
frozen machine or a lost network leaves them: connections open, nothing answered). PostgreSQL:
/readyz still answers, 503 naming the store, within a few seconds, so that a load balancer
learns of it. Redis: the public execute (the direct layer's, compared with the router's)
answers at once, refused with when to ask again or counted in memory, as configured. All is
back once each runs again."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from app.services.readiness import STORE_ANSWERS_WITHIN_SECONDS
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import owner_headers
from tests.servers import LiveServer, PostgresServer, RedisServer
from tests.system.test_direct_faults import ALL, EVERY, LIMITS_DOWN, ROOMY, URL, _down, _ids, pair
from tests.web.test_direct import same

# The deadline, and what a busy machine adds to it.
READY_ANSWERS_WITHIN_SECONDS = STORE_ANSWERS_WITHIN_SECONDS + 5


@contextmanager
def hung(server: PostgresServer | RedisServer) -> Iterator[None]:
    """The server's processes stopped (not ended) until the block ends."""
    if isinstance(server, RedisServer):
        assert server.process is not None
        processes = [server.process.pid]
    else:
        postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
        ).stdout.split()
        processes = [postmaster, *map(int, children)]
    for pid in processes:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in processes:
            os.kill(pid, signal.SIGCONT)


def _ready(client: httpx.Client) -> Any:
    began = time.monotonic()
    answer = client.get("/readyz", timeout=READY_ANSWERS_WITHIN_SECONDS * 2)
    assert time.monotonic() - began < READY_ANSWERS_WITHIN_SECONDS
    return answer


def test_a_hung_store_is_a_503_from_readyz_within_seconds(
    make_settings: Any, postgres_server: PostgresServer
) -> None:
    settings: Settings = make_settings(database_url=postgres_server.url)
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url) as client:
        assert client.get("/v1/retrievers", headers=owner_headers()).status_code == 200
        assert _ready(client).status_code == 200
        threads = threading.active_count()  # (the server runs in this process)
        with hung(postgres_server):
            for _ in range(6):
                down = _ready(client)
                assert down.status_code == 503, down.text
                assert down.json()["error"]["details"] == {"store": "down"}
            # A ping left hanging is not joined by another on each probe: the probes held
            # neither a thread nor a connection of the store's each.
            assert threading.active_count() - threads <= 2
            assert client.get("/healthz", timeout=5).status_code == 200
        deadline = time.monotonic() + 30
        while (answer := _ready(client)).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.2)
        assert client.get("/v1/retrievers", headers=owner_headers()).status_code == 200


# A rate-limit check that waits on Redis gives up this soon (a busy machine's margin added).
LIMITS_ANSWER_WITHIN_SECONDS = 3.0


@pytest.mark.parametrize("on_failure", ["refuse", "fallback"])
def test_a_hung_redis_the_execute_answers_at_once(
    make_settings: Any, redis_server: RedisServer, on_failure: str
) -> None:
    settings = make_settings(rate_limit_storage=redis_server.url, rate_limit_on_failure=on_failure)
    with pair(settings, rate_limit=ROOMY) as clients:
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        with hung(redis_server):
            for _ in range(3):
                began = time.monotonic()
                answer = same(clients, "POST", URL, json=ALL)
                assert time.monotonic() - began < 2 * LIMITS_ANSWER_WITHIN_SECONDS
                if on_failure == "refuse":
                    _down(answer, 503, "rate_limits_unavailable", LIMITS_DOWN)
                else:
                    assert _ids(answer) == EVERY
            wait = int(answer.headers.get("retry-after", "0"))
        time.sleep(wait)
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
