"""The OpenAPI 3.1 document, generated from the pydantic models (never written by hand).

Each operation names its models; their JSON schemas come from pydantic and land in
`components.schemas`. A test checks that every API route is documented, and Schemathesis
fuzzes the whole document against the app.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.schemas.collections import UpsertDocumentsRequest, UpsertDocumentsResponse
from app.schemas.errors import ErrorResponse
from app.schemas.public import (
    ExecuteRequest,
    ExecuteResponse,
    InteractionRequest,
    InteractionResponse,
    ListPublicRetrieversResponse,
    PublicRetrieverConfigResponse,
    VerifyPasswordRequest,
    VerifyPasswordResponse,
)
from app.schemas.publishing import (
    GenericDeleteResponse,
    PublicNameAvailabilityResponse,
    PublishedRetrieverList,
    PublishedRetrieverResponse,
    PublishRetrieverRequest,
    PublishRetrieverResponse,
    UpdatePublishedRetrieverRequest,
)
from app.schemas.retrievers import (
    CreateRetrieverRequest,
    InteractionList,
    RetrieverList,
    RetrieverResponse,
)
from app.schemas.secrets import (
    CreateSecretRequest,
    SecretResponse,
    SecretsListResponse,
    UpdateSecretRequest,
)

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "The form or request could not be used.",
    401: "No owner key, a malformed one, or (public API) a missing password.",
    403: "A key for another namespace, a wrong password, or a wrong public key.",
    404: "No such resource in this namespace, or no such (active) published retriever.",
    409: "A name is taken, or the resource is already published or in use.",
    413: "The body is larger than the server accepts.",
    415: "The body is not JSON.",
    422: "A field, parameter or header is missing or not allowed; details.errors names it.",
    429: "A rate limit or the wrong-password throttle refused the request (see Retry-After).",
    502: "The search backend failed or gave a bad answer.",
    503: "The store or the rate-limit storage is not answering.",
    504: "The search backend did not answer in time.",
}
PAGING = ("limit", "offset", "page", "page_size")


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    summary: str
    tag: str
    response: type[BaseModel]
    request: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    owner: bool = False
    namespace_optional: bool = False
    query: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


_OWNER = (401, 403, 404, 422, 503)
_BODY = (413, 415, 422)
_PUBLIC_QUERY = (401, 403, 404, 422, 429, 502, 503, 504)

OPERATIONS = [
    Op(
        "post",
        "/v1/retrievers",
        "Register a retriever",
        "Retrievers",
        RetrieverResponse,
        CreateRetrieverRequest,
        (*_OWNER, *_BODY, 409),
        owner=True,
    ),
    Op(
        "get",
        "/v1/retrievers",
        "List retrievers",
        "Retrievers",
        RetrieverList,
        errors=_OWNER,
        owner=True,
        query=PAGING,
    ),
    Op(
        "get",
        "/v1/retrievers/published",
        "List published retrievers",
        "Publishing",
        PublishedRetrieverList,
        errors=_OWNER,
        owner=True,
        query=PAGING,
    ),
    Op(
        "get",
        "/v1/retrievers/{retriever_id}",
        "Read a retriever",
        "Retrievers",
        RetrieverResponse,
        errors=_OWNER,
        owner=True,
    ),
    Op(
        "delete",
        "/v1/retrievers/{retriever_id}",
        "Delete a retriever (and unpublish it)",
        "Retrievers",
        GenericDeleteResponse,
        errors=_OWNER,
        owner=True,
    ),
    Op(
        "post",
        "/v1/retrievers/{retriever_id}/publish",
        "Publish a retriever",
        "Publishing",
        PublishRetrieverResponse,
        PublishRetrieverRequest,
        (*_OWNER, *_BODY, 409),
        owner=True,
    ),
    Op(
        "get",
        "/v1/retrievers/{retriever_id}/publish",
        "Read a published retriever",
        "Publishing",
        PublishedRetrieverResponse,
        errors=_OWNER,
        owner=True,
    ),
    Op(
        "patch",
        "/v1/retrievers/{retriever_id}/publish",
        "Update a published retriever",
        "Publishing",
        PublishedRetrieverResponse,
        UpdatePublishedRetrieverRequest,
        (*_OWNER, *_BODY),
        owner=True,
    ),
    Op(
        "delete",
        "/v1/retrievers/{retriever_id}/publish",
        "Unpublish a retriever",
        "Publishing",
        GenericDeleteResponse,
        errors=_OWNER,
        owner=True,
    ),
    Op(
        "get",
        "/v1/retrievers/{retriever_id}/publish/availability",
        "Check whether a public name is free",
        "Publishing",
        PublicNameAvailabilityResponse,
        errors=_OWNER,
        owner=True,
        query=("name!",),
    ),
    Op(
        "get",
        "/v1/retrievers/{retriever_id}/interactions",
        "Views and clicks recorded on the page",
        "Publishing",
        InteractionList,
        errors=_OWNER,
        owner=True,
        query=PAGING,
    ),
    Op(
        "post",
        "/v1/collections/{collection}/documents",
        "Add or replace documents of the embedded engine",
        "Collections",
        UpsertDocumentsResponse,
        UpsertDocumentsRequest,
        (*_OWNER, *_BODY),
        owner=True,
    ),
    Op(
        "post",
        "/v1/organizations/secrets",
        "Create a secret",
        "Secrets",
        SecretResponse,
        CreateSecretRequest,
        (*_OWNER, *_BODY, 409),
        owner=True,
        namespace_optional=True,
    ),
    Op(
        "get",
        "/v1/organizations/secrets",
        "List secret names",
        "Secrets",
        SecretsListResponse,
        errors=_OWNER,
        owner=True,
        namespace_optional=True,
    ),
    Op(
        "put",
        "/v1/organizations/secrets/{secret_name}",
        "Replace a secret's value",
        "Secrets",
        SecretResponse,
        UpdateSecretRequest,
        (*_OWNER, *_BODY),
        owner=True,
        namespace_optional=True,
    ),
    Op(
        "delete",
        "/v1/organizations/secrets/{secret_name}",
        "Delete a secret",
        "Secrets",
        SecretResponse,
        errors=(*_OWNER, 409),
        owner=True,
        namespace_optional=True,
    ),
    Op(
        "get",
        "/v1/public/retrievers/",
        "Directory of published retrievers",
        "Public",
        ListPublicRetrieversResponse,
        errors=(422, 503),
        query=("page", "page_size", "search"),
    ),
    Op(
        "get",
        "/v1/public/retrievers/{public_name}/config",
        "A retriever's public config",
        "Public",
        PublicRetrieverConfigResponse,
        errors=(404, 503),
    ),
    Op(
        "post",
        "/v1/public/retrievers/{public_name}/execute",
        "Run a query",
        "Public",
        ExecuteResponse,
        ExecuteRequest,
        (*_PUBLIC_QUERY, 413, 415),
        headers=("X-Public-API-Key", "X-Retriever-Password"),
    ),
    Op(
        "post",
        "/v1/public/retrievers/{public_name}/verify",
        "Check a password",
        "Public",
        VerifyPasswordResponse,
        VerifyPasswordRequest,
        (404, 413, 415, 422, 429, 503),
    ),
    Op(
        "post",
        "/v1/public/retrievers/{public_name}/interactions",
        "Record a view or click",
        "Public",
        InteractionResponse,
        InteractionRequest,
        (*_PUBLIC_QUERY, 413, 415),
        headers=("X-Public-API-Key", "X-Retriever-Password", "X-Session-Id"),
    ),
]

_QUERY_SCHEMAS: dict[str, dict[str, Any]] = {
    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    "offset": {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0},
    "page": {"type": "integer", "minimum": 1, "maximum": 100_000, "default": 1},
    "page_size": {"type": "integer", "minimum": 1, "maximum": 100},
    "search": {"type": "string", "maxLength": 100},
    "name": {"type": "string"},
}
_PATH_SCHEMAS: dict[str, dict[str, Any]] = {
    "public_name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*[a-z0-9]$"},
    "collection": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"},
}


def _parameters(op: Op) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in _path_names(op.path):
        schema = _PATH_SCHEMAS.get(name, {"type": "string", "minLength": 1})
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    for raw in op.query:
        name = raw.rstrip("!")
        params.append(
            {
                "name": name,
                "in": "query",
                "required": raw.endswith("!"),
                "schema": _QUERY_SCHEMAS[name],
            }
        )
    if op.owner:
        params.append(
            {
                "name": "X-Namespace",
                "in": "header",
                "required": not op.namespace_optional,
                "description": "The namespace the call acts in.",
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$"},
            }
        )
    for name in op.headers:
        params.append(
            {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
        )
    return params


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    models = {op.response for op in OPERATIONS} | {op.request for op in OPERATIONS if op.request}
    models.add(ErrorResponse)
    requests = _requests()
    modes: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        (model, "validation" if model in requests else "serialization")
        for model in sorted(models, key=lambda m: m.__name__)
    ]
    _, definitions = models_json_schema(modes, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        responses: dict[str, Any] = {
            "200": {
                "description": "OK",
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model=op.response.__name__)}}
                },
            }
        }
        for status in sorted(set(op.errors)):
            responses[str(status)] = {
                "description": ERROR_TEXT[status],
                "content": {
                    "application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}
                },
            }
        operation: dict[str, Any] = {
            "summary": op.summary,
            "operationId": f"{op.method}_{op.path.strip('/').replace('/', '_')}".replace(
                "{", ""
            ).replace("}", ""),
            "tags": [op.tag],
            "parameters": _parameters(op),
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
        paths.setdefault(op.path, {})[op.method] = operation
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
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {
                "ownerKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An owner key (RETRIEVER_PAGES_API_KEYS or `keys create`).",
                }
            },
        },
    }


def _requests() -> set[type[BaseModel]]:
    return {op.request for op in OPERATIONS if op.request}
