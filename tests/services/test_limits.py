"""Rate limits through the public API, on an injectable clock: no test sleeps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.schemas.publishing import RateLimitConfig, RateLimitTier
from app.services.limits import TIER_LIMITS, windows_for
from app.settings import Settings
from app.web.app import create_app
from app.web.clientip import client_ip
from tests.helpers import FakeClock, browse_config, local_backend, owner_headers


class Site:
    """An app on a fake clock, with helpers to publish retrievers and query them."""

    def __init__(self, settings: Settings, clock: FakeClock) -> None:
        self.clock = clock
        self.app = create_app(settings, clock=clock)
        self.client = TestClient(self.app, client=("203.0.113.7", 5000))
        self.client.__enter__()
        self.client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": [{"document_id": "1", "title": "Lamp"}]},
        )

    def publish(self, name: str, rate_limit: dict[str, Any]) -> str:
        rid = self.client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": name, "backend": local_backend()},
        ).json()["retriever_id"]
        config = browse_config()
        response = self.client.post(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={"public_name": name, "display_config": config, "rate_limit_config": rate_limit},
        )
        assert response.status_code == 200, response.text
        return rid

    def query(self, name: str, client: TestClient | None = None, **headers: str) -> Any:
        return (client or self.client).post(
            f"/v1/public/retrievers/{name}/execute", json={"inputs": {}}, headers=headers
        )

    def statuses(self, name: str, count: int, **headers: str) -> list[int]:
        return [self.query(name, **headers).status_code for _ in range(count)]


@pytest.fixture
def site(make_settings: Callable[..., Settings], clock: FakeClock) -> Iterator[Site]:
    site = Site(make_settings(trusted_proxies=["10.0.0.0/8"]), clock)
    yield site
    site.client.__exit__(None, None, None)


@pytest.mark.parametrize(
    ("tier", "numbers"),
    [
        ("standard", (10, 100, 1000)),
        ("elevated", (30, 500, 5000)),
        ("enterprise", (100, 2000, 20000)),
    ],
)
def test_each_tiers_numbers(tier: str, numbers: tuple[int, int, int]) -> None:
    config = RateLimitConfig.model_validate({"tier": tier}, strict=False)
    windows = windows_for(config, "r", "1.2.3.4")
    assert [(w.name, w.limit, w.seconds) for w in windows] == [
        ("minute", numbers[0], 60),
        ("hour", numbers[1], 3600),
        ("day", numbers[2], 86400),
    ]
    assert TIER_LIMITS[RateLimitTier(tier)] == numbers


def test_overrides_unlimited_disabled_and_ip_windows() -> None:
    def names(**values: Any) -> list[tuple[str, int]]:
        config = RateLimitConfig.model_validate(values, strict=False)
        return [(w.name, w.limit) for w in windows_for(config, "r", "1.2.3.4")]

    assert names(requests_per_minute=3) == [("minute", 3), ("hour", 100), ("day", 1000)]
    assert names(tier="unlimited") == []
    assert names(tier="unlimited", requests_per_hour=50) == [("hour", 50)]
    assert names(enabled=False, enable_ip_limits=True) == []
    assert names(tier="unlimited", enable_ip_limits=True) == [("ip-hour", 100)]
    assert names(tier="unlimited", enable_ip_limits=True, max_requests_per_ip_hour=7) == [
        ("ip-hour", 7)
    ]


def test_windows_are_their_retrievers_and_addresses_and_follow_a_new_config() -> None:
    """What a config settles is kept per config object: each retriever and address still
    counts apart, and a changed config (a new object, as a new version loads) has its own."""
    values = {"tier": "standard", "enable_ip_limits": True}
    config = RateLimitConfig.model_validate(values, strict=False)
    first = windows_for(config, "r1", "1.2.3.4")
    assert [w.scope for w in first] == ["r1", "r1", "r1", "r1:1.2.3.4"]
    other = windows_for(config, "r2", "5.6.7.8")
    assert [w.scope for w in other] == ["r2", "r2", "r2", "r2:5.6.7.8"]
    assert windows_for(config, "r1", "1.2.3.4") == first
    changed = RateLimitConfig.model_validate({"tier": "elevated"}, strict=False)
    assert [(w.name, w.limit) for w in windows_for(changed, "r1", "1.2.3.4")] == [
        ("minute", 30),
        ("hour", 500),
        ("day", 5000),
    ]


def test_the_standard_tier_refuses_the_eleventh_query_in_a_minute(site: Site) -> None:
    site.publish("standard", {})
    assert site.statuses("standard", 10) == [200] * 10
    refused = site.query("standard")
    assert refused.status_code == 429
    body = refused.json()
    assert body["error"]["type"] == "rate_limited"
    assert "10 per minute" in body["error"]["message"]
    # The fake clock stands 10 s into the minute: 50 s to wait.
    assert refused.headers["Retry-After"] == "50"
    assert refused.headers["RateLimit-Policy"] == '"minute";q=10;w=60'
    assert refused.headers["RateLimit"] == '"minute";r=0;t=50'


def test_every_limited_response_describes_the_tightest_window(site: Site) -> None:
    site.publish("headers", {"requests_per_minute": 50, "requests_per_hour": 3})
    first = site.query("headers")
    assert first.status_code == 200
    assert first.headers["RateLimit-Policy"] == '"hour";q=3;w=3600'
    assert first.headers["RateLimit"] == '"hour";r=2;t=3590'
    assert "Retry-After" not in first.headers


def test_a_counted_request_that_fails_later_still_says_what_is_left(site: Site) -> None:
    site.publish("bad-body", {"requests_per_minute": 5})
    response = site.client.post(
        "/v1/public/retrievers/bad-body/execute",
        content=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.headers["RateLimit"] == '"minute";r=4;t=50'


def test_recovery_after_the_window(site: Site) -> None:
    site.publish("recover", {"requests_per_minute": 2})
    assert site.statuses("recover", 3) == [200, 200, 429]
    site.clock.advance(49)
    assert site.query("recover").status_code == 429
    site.clock.advance(1)  # the minute has turned
    assert site.statuses("recover", 3) == [200, 200, 429]


def test_a_refused_request_uses_up_no_other_window(site: Site) -> None:
    site.publish("windows", {"requests_per_minute": 10, "requests_per_hour": 25})
    assert site.statuses("windows", 20) == [200] * 10 + [429] * 10
    site.clock.advance(60)
    assert site.statuses("windows", 11) == [200] * 10 + [429]
    site.clock.advance(60)
    # 20 admitted so far this hour: 5 more, and then the hour refuses, not the minute.
    assert site.statuses("windows", 5) == [200] * 5
    refused = site.query("windows")
    assert refused.status_code == 429
    assert refused.json()["error"]["details"]["window"] == "hour"
    assert refused.headers["Retry-After"] == str(3600 - 130)


def test_retrievers_count_separately(site: Site) -> None:
    site.publish("first", {"requests_per_minute": 1})
    site.publish("second", {"requests_per_minute": 1})
    assert site.statuses("first", 2) == [200, 429]
    assert site.statuses("second", 2) == [200, 429]


def test_disabled_and_unlimited_have_no_limits(site: Site) -> None:
    site.publish("off", {"enabled": False, "requests_per_minute": 1})
    site.publish("unlimited", {"tier": "unlimited"})
    assert site.statuses("off", 15) == [200] * 15
    assert site.statuses("unlimited", 15) == [200] * 15
    assert "RateLimit" not in site.query("off").headers


def test_a_changed_tier_applies_to_the_next_request(site: Site) -> None:
    rid = site.publish("patched", {"requests_per_minute": 2})
    assert site.statuses("patched", 3) == [200, 200, 429]
    site.client.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"rate_limit_config": {"requests_per_minute": 5}},
    )
    assert site.statuses("patched", 3) == [200, 200, 200]
    assert site.query("patched").status_code == 429


def test_ip_limits_count_each_client_address(site: Site) -> None:
    site.publish(
        "per-ip", {"tier": "unlimited", "enable_ip_limits": True, "max_requests_per_ip_hour": 2}
    )
    assert site.statuses("per-ip", 3) == [200, 200, 429]
    other = TestClient(site.app, client=("198.51.100.9", 5000))
    assert [site.query("per-ip", other).status_code for _ in range(3)] == [200, 200, 429]


def test_forwarded_addresses_count_only_from_a_trusted_proxy(site: Site) -> None:
    site.publish(
        "proxied", {"tier": "unlimited", "enable_ip_limits": True, "max_requests_per_ip_hour": 1}
    )
    proxy = TestClient(site.app, client=("10.1.2.3", 5000))
    # Behind the trusted proxy, each forwarded client has its own count.
    for address in ("192.0.2.1", "192.0.2.2"):
        response = site.query("proxied", proxy, **{"X-Forwarded-For": address})
        assert response.status_code == 200
    assert site.query("proxied", proxy, **{"X-Forwarded-For": "192.0.2.1"}).status_code == 429
    # From an untrusted peer, a spoofed header changes nothing: the peer is counted.
    assert site.query("proxied", **{"X-Forwarded-For": "192.0.2.50"}).status_code == 200
    assert site.query("proxied", **{"X-Forwarded-For": "192.0.2.51"}).status_code == 429


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.7", "1.1.1.1", "203.0.113.7"),  # untrusted peer: header ignored
        ("10.0.0.1", "1.1.1.1", "1.1.1.1"),
        ("10.0.0.1", "1.1.1.1, 10.0.0.2", "1.1.1.1"),  # walk past trusted hops
        ("10.0.0.1", "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # the left end is the client's to forge
        ("10.0.0.1", "garbage, 1.1.1.1", "1.1.1.1"),
        ("10.0.0.1", "1.1.1.1, garbage", "10.0.0.1"),  # a garbled hop stops the walk
        ("10.0.0.1", "10.0.0.3, 10.0.0.2", "10.0.0.3"),  # all trusted: the farthest
        ("10.0.0.1", None, "10.0.0.1"),
        ("::ffff:203.0.113.7", None, "203.0.113.7"),
        ("2001:db8::1", "1.1.1.1", "2001:db8::1"),
    ],
)
def test_client_ip(peer: str, forwarded: str | None, expected: str) -> None:
    import ipaddress

    trusted = [ipaddress.ip_network("10.0.0.0/8")]
    assert client_ip(peer, forwarded, trusted) == expected
