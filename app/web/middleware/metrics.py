"""Counts and times every HTTP request under its route's template."""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.metrics import Metrics


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # A request's two series, by route, method and status: `labels()` takes a lock and
        # builds them afresh each time. Bounded: routes, methods and statuses are few.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            series = self._series.get((template, method, status))
            if series is None:
                series = self._series[template, method, status] = (
                    self.metrics.requests.labels(template, method, str(status)),
                    self.metrics.latency.labels(template, method),
                )
            series[0].inc()
            series[1].observe(time.perf_counter() - started)
