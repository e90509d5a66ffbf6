"""Liveness, readiness and the Prometheus metrics."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import crypto
from app.web.requests import services_of
from app.web.responses import JSONResponse, error_response


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """200 when every part answers; 503 naming what is down."""
    ready, parts, down = await services_of(request).readiness.report()
    if not ready:
        named = ", ".join(down)
        return error_response(503, "not_ready", f"Not ready: {named} not answering.", parts)
    return JSONResponse({"status": "ready", **parts})


async def metrics(request: Request) -> Response:
    services = services_of(request)
    token = services.settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not crypto.same(given.strip(), token):
            return error_response(
                401,
                "unauthorized",
                "GET /metrics needs 'Authorization: Bearer <RETRIEVER_PAGES_METRICS_TOKEN>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
    body = services.metrics.render()
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


routes = [
    Route("/healthz", healthz, methods=["GET", "HEAD"]),
    Route("/readyz", readyz, methods=["GET", "HEAD"]),
    Route("/metrics", metrics, methods=["GET"]),
]
