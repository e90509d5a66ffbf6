"""Prometheus metrics, one registry per app (so several apps in one process stay apart).

Labels are route templates, windows and kinds: never a retriever's name, a secret or a client
address.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "http_requests_total",
            "Requests by route, method and status.",
            ["route", "method", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.rate_limited = Counter(
            "rate_limit_refusals_total", "Queries refused by a window.", ["window"], registry=r
        )
        self.password_failures = Counter(
            "password_failures_total", "Wrong passwords given for protected retrievers.", registry=r
        )
        self.upstream_errors = Counter(
            "upstream_errors_total", "Failed upstream calls by kind.", ["kind"], registry=r
        )
        self.upstream_latency = Histogram(
            "upstream_request_duration_seconds",
            "Time an upstream took to answer.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.cache = Counter(
            "cache_lookups_total",
            "Cache lookups by cache and outcome.",
            ["cache", "outcome"],
            registry=r,
        )
        self.searches_logged = Counter(
            "searches_logged_total", "Searches written to the search log.", registry=r
        )
        self.searches_dropped = Counter(
            "searches_dropped_total",
            "Searches left out of the search log: its buffer was full or the store failed.",
            registry=r,
        )

    def cache_counter(self, name: str) -> CacheCounter:
        return CacheCounter(self, name)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class CacheCounter:
    def __init__(self, metrics: Metrics, name: str) -> None:
        self.hit = metrics.cache.labels(name, "hit")
        self.miss = metrics.cache.labels(name, "miss")

    def __call__(self, hit: bool) -> None:
        (self.hit if hit else self.miss).inc()
