"""The one layer every request passes: what it adds to answers, with gzip and without."""

from __future__ import annotations

import httpx
from starlette.testclient import TestClient

from app.web.app import GZIP_MINIMUM_BYTES


def _vary(response: httpx.Response) -> set[str]:
    value = response.headers.get("vary", "")
    return {token.strip().lower() for token in value.split(",") if token.strip()}


def test_a_large_answer_varies_on_accept_encoding_compressed_or_not(client: TestClient) -> None:
    plain = client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) >= GZIP_MINIMUM_BYTES
    assert "accept-encoding" in _vary(plain)
    assert len(plain.headers["x-request-id"]) == 16

    raw = client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in _vary(raw)
    assert len(raw.headers["x-request-id"]) == 16
    assert raw.json() == plain.json()


def test_a_small_answer_is_sent_as_it_is(client: TestClient) -> None:
    for encoding in ("identity", "gzip"):
        answer = client.get("/healthz", headers={"Accept-Encoding": encoding})
        assert answer.status_code == 200
        assert "content-encoding" not in answer.headers
        assert "accept-encoding" not in _vary(answer)
        assert answer.headers["x-request-id"]


def test_a_refused_body_still_carries_the_request_id(client: TestClient) -> None:
    huge = b"x" * (3 * 1024 * 1024)
    answer = client.post(
        "/v1/public/retrievers/any/execute",
        content=huge,
        headers={"Content-Type": "application/json", "X-Request-ID": "caller-id-0001"},
    )
    assert answer.status_code == 413
    assert answer.headers["x-request-id"] == "caller-id-0001"
