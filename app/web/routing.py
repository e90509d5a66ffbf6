"""Routes that carry their operations: a path and its methods are written once, and the
OpenAPI document (`app/web/openapi.py`) is read off the route table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.errors import invalid

Endpoint = Callable[[Request], Awaitable[Response]]

OWNER_ERRORS = (401, 403, 404, 422, 503)
BODY_ERRORS = (413, 415, 422)
PUBLIC_QUERY_ERRORS = (401, 403, 404, 422, 429, 502, 503, 504)
PAGING = ("limit", "offset", "page", "page_size")


@dataclass(frozen=True)
class Operation:
    """What the API documents about one method of one path."""

    summary: str
    tag: str
    response: type[BaseModel]
    request: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    owner: bool = False
    namespace_optional: bool = False
    query: tuple[str, ...] = ()  # a trailing "!" marks a required parameter
    headers: tuple[str, ...] = ()
    # Query parameters whose schema differs from the shared one of that name (_QUERY_SCHEMAS).
    query_schemas: tuple[tuple[str, dict[str, Any]], ...] = ()
    status: int = 200  # what success answers: 201 for a create, 204 (no body) for a delete


def owner_operation(
    summary: str,
    tag: str,
    response: type[BaseModel],
    request: type[BaseModel] | None = None,
    errors: tuple[int, ...] = OWNER_ERRORS,
    *,
    query: tuple[str, ...] = (),
    namespace_optional: bool = False,
    query_schemas: tuple[tuple[str, dict[str, Any]], ...] = (),
    status: int = 200,
) -> Operation:
    """An operation of the owner API (an owner key and, most often, X-Namespace)."""
    return Operation(
        summary,
        tag,
        response,
        request,
        errors,
        owner=True,
        namespace_optional=namespace_optional,
        query=query,
        query_schemas=query_schemas,
        status=status,
    )


def api(operation: Operation) -> Callable[[Endpoint], Endpoint]:
    """Attach an endpoint's operation, for the route that serves it."""

    def attach(endpoint: Endpoint) -> Endpoint:
        endpoint.operation = operation  # type: ignore[attr-defined]
        return endpoint

    return attach


class MethodRoute(Route):
    """One route for a path, whatever its methods, so that a 405's Allow lists them all."""

    def __init__(self, path: str, handlers: dict[str, Endpoint]) -> None:
        self.handlers = {method.upper(): handler for method, handler in handlers.items()}
        self.operations: dict[str, Operation] = {}
        for method, handler in self.handlers.items():
            found: Any = getattr(handler, "operation", None)
            if isinstance(found, Operation):
                self.operations[method.lower()] = found

        async def dispatch(request: Request) -> Response:
            method = "GET" if request.method == "HEAD" else request.method
            operation = self.operations.get(method.lower())
            if operation is not None and request.scope["query_string"] and request.query_params:
                known_parameters(operation, request)
            return await self.handlers[method](request)

        super().__init__(path, dispatch, methods=list(self.handlers))


def known_parameters(operation: Operation, request: Request) -> None:
    """A 422 naming a query parameter the call does not take: one that is accepted and
    ignored would let a misspelt `limit` or `q` go unnoticed."""
    known = [name.rstrip("!") for name in operation.query]
    unknown = sorted(set(request.query_params) - set(known))
    if unknown:
        takes = ", ".join(known) if known else "none"
        raise invalid(
            unknown[0][:100],
            "a query parameter this call takes",
            f"{unknown[0][:100]!r} is not a query parameter of this call; it takes {takes}.",
        )


def route(path: str, **handlers: Endpoint) -> MethodRoute:
    return MethodRoute(path, handlers)
