"""`/openapi.json` and `/docs`, a reference page rendered from it (local assets only)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import openapi
from app.jsonutil import JSONResponse
from app.views.pages import render


async def spec(request: Request) -> Response:
    return JSONResponse(openapi.document())


async def reference(request: Request) -> Response:
    doc = openapi.document()
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
