"""What every API view needs: parse a JSON body, read paging, authenticate an owner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.context import context_of
from app.errors import InvalidInput, UnsupportedMediaType, from_validation_error
from app.jsonutil import JSONResponse

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

DEFAULT_PAGE_LIMIT = 20
MAX_PAGE_LIMIT = 100


async def parse_body(request: Request, model: type[M]) -> M:
    content_type = request.headers.get("content-type", "application/json")
    if not content_type.split(";")[0].strip().lower().endswith(("/json", "+json")):
        raise UnsupportedMediaType(
            f"Send the body as JSON (Content-Type: application/json), not {content_type!r}."
        )
    body = await request.body()
    if not body.strip():
        raise InvalidInput(
            "The request body is empty; send a JSON object.",
            details={"errors": [{"field": "body", "message": "required"}]},
        )
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.lstrip("-").isdigit() or not low <= int(raw) <= high:
        raise InvalidInput(
            f"Query parameter {name!r} must be a whole number from {low} to {high}, "
            f"not {raw[:40]!r}.",
            details={"errors": [{"field": name, "message": f"integer {low}..{high}"}]},
        )
    return int(raw)


def paging(request: Request) -> tuple[int, int]:
    """`limit`/`offset`, or the SDK's `page`/`page_size`, as (limit, offset)."""
    if "page" in request.query_params or "page_size" in request.query_params:
        size = int_param(request, "page_size", DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT)
        page = int_param(request, "page", 1, 1, 100_000)
        return size, (page - 1) * size
    limit = int_param(request, "limit", DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT)
    return limit, int_param(request, "offset", 0, 0, 10_000_000)


async def owner_namespace(request: Request, *, header_optional: bool = False) -> str:
    ctx = context_of(request)
    return await run_in_threadpool(
        lambda: ctx.owners.namespace_for(
            request.headers.get("authorization"),
            request.headers.get("x-namespace"),
            header_optional=header_optional,
        )
    )


async def call(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking service call off the event loop."""
    return await run_in_threadpool(fn, *args)


def route(path: str, **handlers: Callable[[Request], Awaitable[Response]]) -> Route:
    """One route for a path, whatever its methods, so that a 405's Allow lists them all."""

    async def dispatch(request: Request) -> Response:
        return await handlers[request.method.lower()](request)

    return Route(path, dispatch, methods=[method.upper() for method in handlers])


def respond(model: BaseModel, status_code: int = 200) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), status_code=status_code)
