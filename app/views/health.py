"""Liveness and readiness."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.context import context_of
from app.errors import AppError, error_response
from app.jsonutil import JSONResponse
from app.views.common import call


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when every part answers; 503 naming what is down. A Redis outage with the
    `fallback` setting is reported but does not make the server unready: it still serves."""
    ctx = context_of(request)
    parts: dict[str, str] = {}
    ready = True
    try:
        await call(ctx.store.ping)
        parts["store"] = "ok"
    except AppError:
        parts["store"] = "down"
        ready = False
    if ctx.counters.shared:
        if await ctx.counters.check():
            parts["rate_limits"] = "ok"
        elif ctx.counters.on_failure == "fallback":
            parts["rate_limits"] = "down, counting in process memory"
        else:
            parts["rate_limits"] = "down"
            ready = False
    if not ready:
        down = ", ".join(name for name, state in parts.items() if state == "down")
        return error_response(503, "not_ready", f"Not ready: {down} not answering.", parts)
    return JSONResponse({"status": "ready", **parts})


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/readyz", readyz, methods=["GET", "HEAD"]),
]
