"""PostgreSQL that hangs rather than refuses (its processes stopped with SIGSTOP, as a frozen
machine or a lost network leaves it: connections open, nothing answered): /readyz still
answers, 503 naming the store, within a few seconds, so that a load balancer learns of it; and
all is back once PostgreSQL runs again."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from app.services.readiness import STORE_ANSWERS_WITHIN_SECONDS
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import owner_headers
from tests.servers import LiveServer, PostgresServer

# The deadline, and what a busy machine adds to it.
READY_ANSWERS_WITHIN_SECONDS = STORE_ANSWERS_WITHIN_SECONDS + 5


@contextmanager
def hung(server: PostgresServer) -> Iterator[None]:
    """The server's processes stopped (not ended) until the block ends."""
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
        with hung(postgres_server):
            for _ in range(2):
                down = _ready(client)
                assert down.status_code == 503, down.text
                assert down.json()["error"]["details"] == {"store": "down"}
            assert client.get("/healthz", timeout=5).status_code == 200
        deadline = time.monotonic() + 30
        while (answer := _ready(client)).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.2)
        assert client.get("/v1/retrievers", headers=owner_headers()).status_code == 200
