"""Every error that becomes an HTTP answer, drawn once. Raised low, rendered high.

    AppError                       500 internal_error
    ├── BadRequest                 400 bad_request
    ├── Unauthorized               401 unauthorized
    │   └── PasswordRequired       401 (a protected retriever; pages answer with the form)
    ├── Forbidden                  403 forbidden
    ├── NotFound                   404 not_found
    ├── Conflict                   409 conflict
    ├── PayloadTooLarge            413 payload_too_large
    ├── UnsupportedMediaType       415 unsupported_media_type
    ├── InvalidInput               422 validation_error
    │   └── InvalidJSON            422 invalid_json
    ├── TooManyRequests            429 rate_limited
    ├── BadGateway                 502 bad_gateway
    ├── StoreUnavailable           503 store_unavailable
    ├── LimitsUnavailable          503 rate_limits_unavailable
    ├── EmbedderUnavailable        503 embedder_unavailable
    ├── UpstreamUnavailable        503 upstream_unavailable
    └── GatewayTimeout             504 gateway_timeout

Nothing here knows HTTP frameworks: the web layer (`app/web/errors.py`) maps an error to
`{"success": false, "status": N, "error": {"message", "type", "details"}}` or to an HTML page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError


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


class PasswordRequired(Unauthorized):
    """A password-protected retriever asked for without a password or a valid cookie."""


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


class TooManyRequests(AppError):
    """Refused by a rate-limit window; `headers` carry Retry-After and RateLimit."""

    status = 429
    type = "rate_limited"

    def __init__(
        self, message: str, *, window: str, retry_after: int, headers: Mapping[str, str]
    ) -> None:
        super().__init__(
            message, details={"window": window, "retry_after": retry_after}, headers=headers
        )
        self.retry_after = retry_after


class BadGateway(AppError):
    status = 502
    type = "bad_gateway"

    def __init__(
        self, message: str, *, kind: str = "bad_answer", details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        # For the metrics and logs only (status, unreachable, refused, bad_answer): an
        # anonymous caller must not learn what lies behind the server.
        self.kind = kind


class StoreUnavailable(AppError):
    """The store, the engine or the disk under them cannot serve the request now: `reason`
    says why (`app/adapters/outages.py` lists them), Retry-After when to ask again."""

    status = 503
    type = "store_unavailable"

    def __init__(self, message: str, *, reason: str, retry_after: int) -> None:
        super().__init__(
            message, details={"reason": reason}, headers={"Retry-After": str(retry_after)}
        )
        self.reason = reason


class LimitsUnavailable(AppError):
    status = 503
    type = "rate_limits_unavailable"


class EmbedderUnavailable(AppError):
    """An embedder that cannot turn text into vectors now (down, too slow, a bad answer, not
    installed): the message names the embedder, never its address or key; `reason` says why."""

    status = 503
    type = "embedder_unavailable"

    def __init__(self, message: str, *, embedder: str, reason: str, retry_after: int) -> None:
        super().__init__(
            message,
            details={"embedder": embedder, "reason": reason},
            headers={"Retry-After": str(retry_after)},
        )
        self.embedder = embedder
        self.reason = reason


class UpstreamUnavailable(AppError):
    """A search upstream (a Typesense cluster) that cannot answer now: no node reached, or its
    key refused. The message names the upstream's kind, never its address or key; `reason`
    says why."""

    status = 503
    type = "upstream_unavailable"

    def __init__(self, message: str, *, upstream: str, reason: str, retry_after: int = 5) -> None:
        super().__init__(
            message,
            details={"upstream": upstream, "reason": reason},
            headers={"Retry-After": str(retry_after)},
        )
        self.reason = reason


class GatewayTimeout(AppError):
    status = 504
    type = "gateway_timeout"


def invalid(field: str, problem: str, message: str | None = None) -> InvalidInput:
    """A 422 about one field: `details.errors` names it and says what is wrong."""
    return InvalidInput(
        message or f"{field} {problem}.",
        details={"errors": [{"field": field, "message": problem}]},
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


def from_validation_error(exc: ValidationError, prefix: tuple[int | str, ...] = ()) -> InvalidInput:
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
