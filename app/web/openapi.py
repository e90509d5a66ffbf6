"""The OpenAPI 3.1 document, read off the route table (never written by hand).

Each route carries its operations (`app/web/routing.py`), and each operation names its
models; their JSON schemas come from pydantic and land in `components.schemas`. A test checks
that every API route is documented, and Schemathesis fuzzes the whole document against the app.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.schemas.base import COLLECTION_NAME, NAMESPACE, PUBLIC_NAME
from app.schemas.errors import ErrorResponse
from app.web.routing import MethodRoute, Operation

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "The form or request could not be used.",
    401: "No owner key, a malformed one, or (public API) a missing password.",
    403: "A key for another namespace or with too low a role, a wrong password, or a wrong "
    "public key.",
    404: "No such resource in this namespace, or no such (active) published retriever.",
    409: "A name is taken, or the resource is already published or in use.",
    413: "The body is larger than the server accepts.",
    415: "The body is not JSON.",
    422: "A field, parameter or header is missing or not allowed; details.errors names it.",
    429: "A rate limit or the wrong-password throttle refused the request (see Retry-After).",
    502: "The search backend failed or gave a bad answer.",
    503: "The store (or the disk under it) or the rate-limit storage cannot serve the request "
    "now. For the store, details.reason says why (not_answering, disk_full, read_only, busy, "
    "io_error) and Retry-After when to ask again.",
    504: "The search backend did not answer in time.",
}
_QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    "offset": {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0},
    "page": {"type": "integer", "minimum": 1, "maximum": 100_000, "default": 1},
    "page_size": {"type": "integer", "minimum": 1, "maximum": 100},
    "search": {"type": "string", "maxLength": 100},
    "name": {"type": "string"},
    "include_inactive": {"type": "boolean", "default": False},
    "dry_run": {"type": "boolean", "default": False},
    "q": {"type": "string", "minLength": 1, "maxLength": 200},
    "fields": {"type": "string", "maxLength": 1000, "pattern": "^[A-Za-z0-9_.,-]*$"},
}
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "public_name": {"type": "string", "pattern": f"^{PUBLIC_NAME.pattern}$"},
    "collection": {"type": "string", "pattern": f"^{COLLECTION_NAME.pattern}$"},
}


def _parameters(path: str, op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in _path_names(path):
        schema = _PATH_SCHEMAS.get(name, {"type": "string", "minLength": 1})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for raw in op.query:
        name = raw.rstrip("!")
        params.append(
            {
                "name": name,
                "in": "query",
                "required": raw.endswith("!"),
                "schema": dict(op.query_schemas).get(name) or _QUERY_SCHEMAS[name],
            }
        )
    if op.owner:
        params.append(
            {
                "name": "X-Namespace",
                "in": "header",
                "required": not op.namespace_optional,
                "description": "The namespace the call acts in.",
                "schema": {"type": "string", "pattern": f"^{NAMESPACE.pattern}$"},
            }
        )
    for name in op.headers:
        params.append(
            {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
        )
    return params


SUCCESS_TEXT = {200: "OK", 201: "Created", 204: "No content"}


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def operations(routes: Iterable[object]) -> list[tuple[str, str, Operation]]:
    """(path, method, operation) for every documented method of every route, in order."""
    return [
        (route.path, method, operation)
        for route in routes
        if isinstance(route, MethodRoute)
        for method, operation in route.operations.items()
    ]


def document(routes: Iterable[object], formats: list[str]) -> dict[str, Any]:
    """The document for these routes; `formats` are the field formats a config may name."""
    ops = operations(routes)
    requests = {op.request for _, _, op in ops if op.request}
    models = {op.response for _, _, op in ops} | requests | {ErrorResponse}
    modes: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (model, "validation" if model in requests else "serialization")
        for model in sorted(models, key=lambda m: m.__name__)
    ]
    _, definitions = models_json_schema(modes, ref_template=REF)
    schemas = definitions.get("$defs", {})
    for name, schema in schemas.items():
        if name.startswith("FieldConfig"):
            # A format is a name in the renderer registry, which only the running app knows.
            # Without one, the format is chosen from each value.
            schema["properties"]["format"] = {
                "anyOf": [{"type": "string", "enum": formats}, {"type": "null"}],
                "default": None,
            }
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op in ops:
        success: dict[str, Any] = {"description": SUCCESS_TEXT.get(op.status, "OK")}
        if op.status != 204:
            schema = {"$ref": REF.format(model=op.response.__name__)}
            success["content"] = {"application/json": {"schema": schema}}
        responses: dict[str, Any] = {str(op.status): success}
        for status in sorted(set(op.errors)):
            responses[str(status)] = {
                "description": ERROR_TEXT[status],
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}
                },
            }
        operation: dict[str, Any] = {
            "summary": op.summary,
            "operationId": f"{method}_{path.strip('/').replace('/', '_')}".replace("{", "").replace(
                "}", ""
            ),
            "tags": [op.tag],
            "parameters": _parameters(path, op),
            "responses": responses,
        }
        if op.request is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model=op.request.__name__)}}
                },
            }
        if op.owner:
            operation["security"] = [{"ownerKey": []}]
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "retriever-pages",
            "version": "1",
            "description": "Publish retrievers as public search pages; search them through "
            "the public API. Compatible with Mixpeek's published-retriever API.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "ownerKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An owner key (RETRIEVER_PAGES_API_KEYS or `keys create`).",
                }
            },
        },
    }
