"""Request ids on every response and log line; JSON logs; the access log hides addresses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from app.web.middleware.request_id import masked
from tests.helpers import owner_headers
from tests.servers import free_port


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/v1/retrievers", 200),
        ("GET", "/v1/nope", 404),
        ("GET", "/r/nope", 404),
        ("GET", "/", 200),
        ("POST", "/v1/retrievers", 422),
    ],
)
def test_every_response_has_a_request_id(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path, headers=owner_headers(), content=b"{")
    assert response.status_code == status
    assert len(response.headers["x-request-id"]) == 16


def test_a_well_formed_request_id_is_kept_and_a_hostile_one_replaced(client: TestClient) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "trace-0123456789"})
    assert kept.headers["x-request-id"] == "trace-0123456789"
    for hostile in ("<script>x</script>", "a" * 200, "short", "id\nInjected: 1"):
        replaced = client.get("/healthz", headers={"X-Request-ID": hostile.replace("\n", " ")})
        assert replaced.headers["x-request-id"] != hostile
        assert len(replaced.headers["x-request-id"]) == 16


def test_an_oversized_body_still_gets_an_id(client: TestClient) -> None:
    response = client.post("/v1/retrievers", headers=owner_headers(), content=b"x" * 3_000_000)
    assert response.status_code == 413
    assert "x-request-id" in response.headers


def test_masked_addresses() -> None:
    assert masked(("203.0.113.77", 5000)) == "203.0.113.0/24"
    assert masked(("2001:db8:1234:5678::1", 1)) == "2001:db8:1234::/48"
    assert masked(("testclient", 1)) == "-"
    assert masked(None) == "-"


def test_json_log_lines_carry_the_request_id_and_no_full_address(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "RETRIEVER_PAGES_DATA_DIR": str(tmp_path),
        "RETRIEVER_PAGES_LOG_FORMAT": "json",
        "RETRIEVER_PAGES_ACCESS_LOG": "true",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        httpx.get(
            f"http://127.0.0.1:{port}/v1/public/retrievers/nope/config",
            headers={"X-Request-ID": "trace-abcdef123456"},
        )
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    lines = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    assert lines, errors
    assert all({"time", "level", "logger", "request_id", "message"} <= set(line) for line in lines)
    ours = [line for line in lines if line["request_id"] == "trace-abcdef123456"]
    assert ours
    assert ours[-1]["logger"] == "retriever_pages.access"
    assert "GET /v1/public/retrievers/nope/config 404" in ours[-1]["message"]
    assert "127.0.0.0/24" in ours[-1]["message"]
    access = [line["message"] for line in lines if line["logger"] == "retriever_pages.access"]
    assert not any("127.0.0.1" in message for message in access)  # clients only as networks
