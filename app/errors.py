"""The exception tree, drawn once, and its mapping to the JSON error shape.

Every API failure leaves the server as
`{"success": false, "status": N, "error": {"message", "type", "details"}}`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from app.jsonutil import JSONResponse

logger = logging.getLogger("retriever_pages")


class AppError(Exception):
    """Base of every error that becomes an HTTP response."""

    status = 500
    type = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = dict(headers or {})


class BadRequest(AppError):
    status = 400
    type = "bad_request"


class Unauthorized(AppError):
    status = 401
    type = "unauthorized"


class Forbidden(AppError):
    status = 403
    type = "forbidden"


class NotFound(AppError):
    status = 404
    type = "not_found"


class Conflict(AppError):
    status = 409
    type = "conflict"


class PayloadTooLarge(AppError):
    status = 413
    type = "payload_too_large"


class UnsupportedMediaType(AppError):
    status = 415
    type = "unsupported_media_type"


class InvalidInput(AppError):
    status = 422
    type = "validation_error"


class InvalidJSON(InvalidInput):
    type = "invalid_json"


class BadGateway(AppError):
    status = 502
    type = "bad_gateway"

    @property
    def kind(self) -> str:
        """For the metrics: what went wrong with the upstream, in one word."""
        if "upstream_status" in self.details:
            return "status"
        if "reason" in self.details:
            return "unreachable"
        return "bad_answer"


class GatewayTimeout(AppError):
    status = 504
    type = "gateway_timeout"


class StoreUnavailable(AppError):
    status = 503
    type = "store_unavailable"


def error_body(status: int, type_: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "success": False,
        "status": status,
        "error": {"message": message, "type": type_, "details": details},
    }


def error_response(
    status: int,
    type_: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(status, type_, message, details or {}), status_code=status, headers=headers
    )


def _location(loc: tuple[int | str, ...]) -> str:
    """`("display_config", "inputs", 0, "label")` -> `display_config.inputs[0].label`."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "body"


def from_validation_error(exc: ValidationError, prefix: tuple[str, ...] = ()) -> InvalidInput:
    """A pydantic error as a 422 whose message names each field and what is allowed."""
    errors = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = _location(prefix + tuple(error["loc"]))
        if error["type"] == "json_invalid":
            return InvalidJSON(
                "The request body is not valid JSON: "
                + error["msg"].removeprefix("Invalid JSON: "),
                details={"errors": [{"field": "body", "message": error["msg"]}]},
            )
        message = error["msg"].removeprefix("Value error, ")
        errors.append({"field": loc, "message": message, "type": error["type"]})
    shown = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return InvalidInput(f"Invalid request: {shown}{more}", details={"errors": errors})


async def handle_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if not request.url.path.startswith("/v1/"):
        from app.views.pages import error_page  # pages sit above errors

        return error_page(request, exc)
    return error_response(exc.status, exc.type, exc.message, exc.details, exc.headers)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404 and not request.url.path.startswith("/v1/"):
        return await handle_app_error(request, NotFound(f"Nothing is at {request.url.path}."))
    messages = {
        404: ("not_found", f"No route matches {request.url.path}."),
        405: ("method_not_allowed", f"{request.method} is not allowed on {request.url.path}."),
    }
    type_, message = messages.get(exc.status_code, ("http_error", str(exc.detail)))
    return error_response(exc.status_code, type_, message, headers=exc.headers)


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    # The traceback goes to the log only; the client learns nothing about internals.
    logger.exception("unhandled error on %s %s", request.method, request.url.path)
    from app.logs import request_id

    rid = request_id.get()
    # Outside the middleware that adds it, so the id (for the logs) is added here.
    return error_response(
        500,
        "internal_error",
        f"The server hit an unexpected error (request {rid}).",
        {"request_id": rid},
        {"X-Request-ID": rid},
    )
