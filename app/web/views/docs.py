"""`/openapi.json` and `/docs`, a reference page rendered from it (local assets only)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.web import openapi
from app.web.requests import services_of
from app.web.responses import JSONResponse
from app.web.templates import render


def spec_of(request: Request) -> dict[str, Any]:
    """The app's document, built on first use from its own route table."""
    state = request.app.state
    if getattr(state, "openapi", None) is None:
        state.openapi = openapi.document(request.app.routes, services_of(request).renderers.names())
    spec: dict[str, Any] = state.openapi
    return spec


async def spec(request: Request) -> Response:
    return JSONResponse(spec_of(request))


async def reference(request: Request) -> Response:
    doc = spec_of(request)
    operations = [
        (path, method, operation)
        for path, methods in doc["paths"].items()
        for method, operation in methods.items()
    ]
    return render(request, "docs.html", operations=operations, doc=doc)


routes = [
    Route("/openapi.json", spec, methods=["GET"]),
    Route("/docs", reference, methods=["GET"]),
]
