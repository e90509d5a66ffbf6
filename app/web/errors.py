"""The one place errors become answers: JSON under /v1/, a friendly page elsewhere."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match

from app.errors import AppError, NotFound
from app.logs import request_id
from app.web.responses import error_response
from app.web.templates import render

logger = logging.getLogger("retriever_pages")
CLIENT_CLOSED_REQUEST = 499  # nginx's code for it: no standard one exists


def _api(request: Request) -> bool:
    return request.url.path.startswith("/v1/")


def error_page(request: Request, error: AppError) -> Response:
    return render(request, "error.html", error.status, headers=error.headers, error=error)


async def handle_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if not _api(request):
        return error_page(request, exc)
    return error_response(exc.status, exc.type, exc.message, exc.details, exc.headers)


def _other_slash(request: Request) -> str | None:
    """The path with its trailing slash toggled, when that path has a route."""
    path = request.url.path
    other = path[:-1] if path.endswith("/") else path + "/"
    if not other.startswith("/") or other.startswith("//"):
        return None
    scope = {**request.scope, "path": other}
    if any(route.matches(scope)[0] != Match.NONE for route in request.app.routes):
        return other
    return None


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        other = _other_slash(request)
        if other is not None:
            # A relative Location: never built from the Host header a client sent.
            query = request.url.query
            return RedirectResponse(other + ("?" + query if query else ""), status_code=307)
    if exc.status_code == 404 and not _api(request):
        return error_page(request, NotFound(f"Nothing is at {request.url.path}."))
    messages = {
        404: ("not_found", f"No route matches {request.url.path}."),
        405: ("method_not_allowed", f"{request.method} is not allowed on {request.url.path}."),
    }
    type_, message = messages.get(exc.status_code, ("http_error", str(exc.detail)))
    return error_response(exc.status_code, type_, message, headers=exc.headers)


async def handle_disconnect(request: Request, exc: Exception) -> Response:
    """The client went away before its body arrived: nobody to answer, nothing went wrong."""
    logger.info("client disconnected during %s %s", request.method, request.url.path)
    return Response(status_code=CLIENT_CLOSED_REQUEST)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    # This runs outside the request-id middleware: the id comes from the scope it marked.
    rid = str(request.scope.get("request_id") or request_id.get())
    token = request_id.set(rid)
    try:
        # The traceback goes to the log only; the client learns nothing about internals.
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
    finally:
        request_id.reset(token)
    return error_response(
        500,
        "internal_error",
        f"The server hit an unexpected error (request {rid}).",
        {"request_id": rid},
        {"X-Request-ID": rid},
    )
