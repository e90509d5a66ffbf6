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
    ctx = context_of(request)
    try:
        await call(ctx.store.ping)
    except AppError:
        return error_response(503, "not_ready", "The store is not answering.", {"store": "down"})
    return JSONResponse({"status": "ready", "store": "ok"})


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/readyz", readyz, methods=["GET", "HEAD"]),
]
