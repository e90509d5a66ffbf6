"""The owner API: retrievers, publishing, organization secrets, documents, interactions."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from app.errors import invalid
from app.schemas.base import FIELD_NAME
from app.schemas.collections import (
    TypeaheadResponse,
)
from app.schemas.parsing import parse_json
from app.schemas.publishing import (
    GenericDeleteResponse,
    PublicNameAvailabilityResponse,
    PublishedRetrieverList,
    PublishedRetrieverResponse,
    PublishRetrieverRequest,
    PublishRetrieverResponse,
    PublishStats,
    ReconcileResponse,
    UpdatePublishedRetrieverRequest,
)
from app.schemas.retrievers import (
    CreateRetrieverRequest,
    InteractionList,
    ListRetrieversRequest,
    RetrieverList,
    RetrieverResponse,
    UpdateRetrieverRequest,
    UpdateRetrieverResponse,
)
from app.schemas.roles import Role
from app.schemas.secrets import (
    CreateSecretRequest,
    SecretResponse,
    SecretsListResponse,
    UpdateSecretRequest,
)
from app.web.requests import (
    bool_param,
    call,
    int_param,
    owner_namespace,
    paging,
    parse_body,
    services_of,
)
from app.web.responses import JSONResponse, respond
from app.web.routing import (
    BODY_ERRORS,
    OWNER_ERRORS,
    PAGING,
    Operation,
    api,
    owner_operation,
    route,
)

_WRITE = (*OWNER_ERRORS, *BODY_ERRORS)
MAX_TYPEAHEAD_CHARS = 200
MAX_TYPEAHEAD_FIELDS = 5


_owner = owner_operation


# Retrievers ---------------------------------------------------------------------------------


@api(
    _owner(
        "Register a retriever",
        "Retrievers",
        RetrieverResponse,
        CreateRetrieverRequest,
        (*_WRITE, 409),
    )
)
async def create_retriever(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    body = await parse_body(request, CreateRetrieverRequest)
    return respond(await call(services_of(request).retrievers.create, namespace, body))


@api(_owner("List retrievers", "Retrievers", RetrieverList, query=PAGING))
async def list_retrievers(request: Request) -> Response:
    namespace = await owner_namespace(request)
    limit, offset = paging(request)
    return respond(await call(services_of(request).retrievers.list, namespace, limit, offset))


@api(
    _owner(
        "Prefix suggestions for a search box",
        "Retrievers",
        TypeaheadResponse,
        query=("q!", "fields", "limit"),
    )
)
async def typeahead(request: Request) -> Response:
    namespace = await owner_namespace(request)
    prefix = request.query_params.get("q", "")
    if not 1 <= len(prefix) <= MAX_TYPEAHEAD_CHARS:
        raise invalid("q", f"1 to {MAX_TYPEAHEAD_CHARS} characters")
    fields = [f.strip() for f in request.query_params.get("fields", "").split(",") if f.strip()]
    if len(fields) > MAX_TYPEAHEAD_FIELDS or not all(FIELD_NAME.fullmatch(f) for f in fields):
        raise invalid("fields", f"at most {MAX_TYPEAHEAD_FIELDS} comma-separated field names")
    limit = int_param(request, "limit", 10, 1, 50)
    typeahead = services_of(request).typeahead
    return respond(await call(typeahead.namespace, namespace, prefix, fields, limit))


@api(_owner("Publish limit of this namespace", "Publishing", PublishStats))
async def publish_stats(request: Request) -> Response:
    namespace = await owner_namespace(request)
    return respond(await call(services_of(request).publish_state.stats, namespace))


@api(
    _owner(
        "Check a retriever's published state",
        "Publishing",
        ReconcileResponse,
        query=("dry_run",),
        errors=OWNER_ERRORS,
    )
)
async def reconcile(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    dry_run = bool_param(request, "dry_run")
    state = services_of(request).publish_state
    retriever_id = request.path_params["retriever_id"]
    return respond(await call(state.reconcile, namespace, retriever_id, dry_run))


@api(
    _owner(
        "List retrievers (the SDK's search form)",
        "Retrievers",
        RetrieverList,
        ListRetrieversRequest,
        (*OWNER_ERRORS, *BODY_ERRORS),
        query=PAGING,
    )
)
async def search_retrievers(request: Request) -> Response:
    namespace = await owner_namespace(request)
    limit, offset = paging(request)
    raw = await request.body()
    body = parse_json(ListRetrieversRequest, raw) if raw.strip() else ListRetrieversRequest()
    retrievers = services_of(request).retrievers
    found = await call(retrievers.list, namespace, limit, offset, body.search, body.case_sensitive)
    return respond(found)


@api(_owner("Read a retriever", "Retrievers", RetrieverResponse))
async def get_retriever(request: Request) -> Response:
    namespace = await owner_namespace(request)
    retriever_id = request.path_params["retriever_id"]
    return respond(await call(services_of(request).retrievers.get, namespace, retriever_id))


@api(
    _owner(
        "Change a retriever (what it searches, its name, description or stored display config)",
        "Retrievers",
        UpdateRetrieverResponse,
        UpdateRetrieverRequest,
        (*_WRITE, 409),
    )
)
async def update_retriever(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    body = await parse_body(request, UpdateRetrieverRequest)
    retriever_id = request.path_params["retriever_id"]
    retrievers = services_of(request).retrievers
    return respond(await call(retrievers.update, namespace, retriever_id, body))


@api(_owner("Delete a retriever (and unpublish it)", "Retrievers", GenericDeleteResponse))
async def delete_retriever(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.OWNER)
    retriever_id = request.path_params["retriever_id"]
    return respond(await call(services_of(request).retrievers.delete, namespace, retriever_id))


# Publishing ---------------------------------------------------------------------------------


@api(
    _owner(
        "Publish a retriever",
        "Publishing",
        PublishRetrieverResponse,
        PublishRetrieverRequest,
        (*_WRITE, 409),
    )
)
async def publish(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    body = await parse_body(request, PublishRetrieverRequest)
    retriever_id = request.path_params["retriever_id"]
    publishing = services_of(request).publishing
    return respond(await call(publishing.publish, namespace, retriever_id, body))


@api(_owner("Read a published retriever", "Publishing", PublishedRetrieverResponse))
async def get_published(request: Request) -> Response:
    namespace = await owner_namespace(request)
    retriever_id = request.path_params["retriever_id"]
    publishing = services_of(request).publishing
    return respond(await call(publishing.get_published, namespace, retriever_id))


@api(
    _owner(
        "Update a published retriever",
        "Publishing",
        PublishedRetrieverResponse,
        UpdatePublishedRetrieverRequest,
        _WRITE,
    )
)
async def update_published(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    body = await parse_body(request, UpdatePublishedRetrieverRequest)
    retriever_id = request.path_params["retriever_id"]
    publishing = services_of(request).publishing
    return respond(await call(publishing.update_published, namespace, retriever_id, body))


@api(_owner("Unpublish a retriever", "Publishing", GenericDeleteResponse))
async def unpublish(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.OWNER)
    retriever_id = request.path_params["retriever_id"]
    return respond(await call(services_of(request).publishing.unpublish, namespace, retriever_id))


@api(_owner("List published retrievers", "Publishing", PublishedRetrieverList, query=PAGING))
async def list_published(request: Request) -> Response:
    namespace = await owner_namespace(request)
    limit, offset = paging(request)
    publishing = services_of(request).publishing
    return respond(await call(publishing.list_published, namespace, limit, offset))


@api(
    _owner(
        "Check whether a public name is free",
        "Publishing",
        PublicNameAvailabilityResponse,
        query=("name!",),
    )
)
async def availability(request: Request) -> Response:
    namespace = await owner_namespace(request)
    name = request.query_params.get("name")
    if not name:
        raise invalid(
            "name", "required", "Query parameter 'name' is required: the public name to check."
        )
    retriever_id = request.path_params["retriever_id"]
    publishing = services_of(request).publishing
    return respond(await call(publishing.availability, namespace, retriever_id, name))


@api(_owner("Views and clicks recorded on the page", "Publishing", InteractionList, query=PAGING))
async def list_interactions(request: Request) -> Response:
    namespace = await owner_namespace(request)
    limit, offset = paging(request)
    retriever_id = request.path_params["retriever_id"]
    interactions = services_of(request).interactions
    return JSONResponse(await call(interactions.listing, namespace, retriever_id, limit, offset))


# Organization secrets -----------------------------------------------------------------------


def _secrets(
    summary: str,
    response: type[BaseModel],
    request: type[BaseModel] | None = None,
    errors: tuple[int, ...] = OWNER_ERRORS,
) -> Operation:
    return _owner(summary, "Secrets", response, request, errors, namespace_optional=True)


async def secrets_namespace(request: Request) -> str:
    # The SDK's secret calls carry no X-Namespace: a key bound to a namespace implies it.
    return await owner_namespace(request, Role.OWNER, header_optional=True)


@api(_secrets("Create a secret", SecretResponse, CreateSecretRequest, (*_WRITE, 409)))
async def create_secret(request: Request) -> Response:
    namespace = await secrets_namespace(request)
    body = await parse_body(request, CreateSecretRequest)
    vault = services_of(request).vault
    return respond(await call(vault.create, namespace, body.secret_name, body.secret_value))


@api(_secrets("List secret names", SecretsListResponse))
async def list_secrets(request: Request) -> Response:
    namespace = await secrets_namespace(request)
    return respond(await call(services_of(request).vault.names, namespace))


@api(_secrets("Replace a secret's value", SecretResponse, UpdateSecretRequest, _WRITE))
async def replace_secret(request: Request) -> Response:
    namespace = await secrets_namespace(request)
    body = await parse_body(request, UpdateSecretRequest)
    name = request.path_params["secret_name"]
    vault = services_of(request).vault
    return respond(await call(vault.replace, namespace, name, body.secret_value))


@api(_secrets("Delete a secret", SecretResponse, errors=(*OWNER_ERRORS, 409)))
async def delete_secret(request: Request) -> Response:
    namespace = await secrets_namespace(request)
    name = request.path_params["secret_name"]
    return respond(await call(services_of(request).vault.delete, namespace, name))


routes = [
    route("/v1/retrievers", post=create_retriever, get=list_retrievers),
    # Literal paths before /v1/retrievers/{retriever_id}, which would swallow them.
    route("/v1/retrievers/published", get=list_published),
    route("/v1/retrievers/list", post=search_retrievers),
    route("/v1/retrievers/typeahead", get=typeahead),
    route("/v1/retrievers/publish/stats", get=publish_stats),
    route(
        "/v1/retrievers/{retriever_id}",
        get=get_retriever,
        patch=update_retriever,
        delete=delete_retriever,
    ),
    route(
        "/v1/retrievers/{retriever_id}/publish",
        post=publish,
        get=get_published,
        patch=update_published,
        delete=unpublish,
    ),
    route("/v1/retrievers/{retriever_id}/publish/availability", get=availability),
    route("/v1/retrievers/{retriever_id}/publish/reconcile", post=reconcile),
    route("/v1/retrievers/{retriever_id}/interactions", get=list_interactions),
    route("/v1/organizations/secrets", post=create_secret, get=list_secrets),
    route("/v1/organizations/secrets/{secret_name}", put=replace_secret, delete=delete_secret),
]
