"""Prometheus metrics: what they count, and what they never show."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    FakeClock,
    browse_config,
    local_backend,
    owner_headers,
    publish_over_upstream,
)
from tests.servers import free_port


def value(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    selector = f"{{{wanted}}}" if wanted else ""
    match = re.search(rf"^{name}{re.escape(selector)} ([\d.e+]+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_metrics_count_requests_refusals_failures_and_upstream_errors(
    make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    with TestClient(create_app(make_settings(), clock=clock), client=("198.51.100.23", 1)) as c:
        rid = c.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "m", "backend": local_backend()},
        ).json()["retriever_id"]
        c.post(
            "/v1/organizations/secrets",
            headers=owner_headers(),
            json={"secret_name": "pw", "secret_value": "letmein-secret"},
        )
        c.post(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={
                "public_name": "metered",
                "display_config": browse_config(),
                "password_secret_name": "pw",
                "rate_limit_config": {"requests_per_minute": 2},
            },
        )
        ok = {"X-Retriever-Password": "letmein-secret"}
        for _ in range(3):
            c.post("/v1/public/retrievers/metered/execute", json={"inputs": {}}, headers=ok)
        c.post(
            "/v1/public/retrievers/metered/execute",
            json={"inputs": {}},
            headers={"X-Retriever-Password": "wrong"},
        )
        publish_over_upstream(
            c, "down", f"http://127.0.0.1:{free_port()}", browse_config(), "sk_up"
        )
        c.post("/v1/public/retrievers/down/execute", json={"inputs": {}})
        response = c.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    route = "/v1/public/retrievers/{public_name}/execute"
    assert value(text, "http_requests_total", route=route, method="POST", status="200") == 2
    assert value(text, "http_requests_total", route=route, method="POST", status="429") == 1
    assert value(text, "rate_limit_refusals_total", window="minute") == 1
    assert value(text, "password_failures_total") == 1
    assert value(text, "upstream_errors_total", kind="unreachable") == 1
    assert value(text, "cache_lookups_total", cache="configs", outcome="hit") >= 3
    assert "http_request_duration_seconds_bucket" in text
    for never in ("metered", "letmein-secret", "sk_up", "198.51.100"):
        assert never not in text
