"""The owner API: retrievers, publishing and organization secrets."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.context import context_of
from app.errors import InvalidInput
from app.schemas.publishing import PublishRetrieverRequest, UpdatePublishedRetrieverRequest
from app.schemas.retrievers import CreateRetrieverRequest
from app.schemas.secrets import CreateSecretRequest, UpdateSecretRequest
from app.views.common import call, owner_namespace, paging, parse_body, respond, route


async def create_retriever(request: Request) -> Response:
    namespace = await owner_namespace(request)
    body = await parse_body(request, CreateRetrieverRequest)
    return respond(await call(context_of(request).publishing.create_retriever, namespace, body))


async def list_retrievers(request: Request) -> Response:
    namespace = await owner_namespace(request)
    limit, offset = paging(request)
    publishing = context_of(request).publishing
    return respond(await call(publishing.list_retrievers, namespace, limit, offset))


async def get_retriever(request: Request) -> Response:
    namespace = await owner_namespace(request)
    retriever_id = request.path_params["retriever_id"]
    return respond(
        await call(context_of(request).publishing.get_retriever, namespace, retriever_id)
    )


async def delete_retriever(request: Request) -> Response:
    namespace = await owner_namespace(request)
    retriever_id = request.path_params["retriever_id"]
    publishing = context_of(request).publishing
    return respond(await call(publishing.delete_retriever, namespace, retriever_id))


async def publish(request: Request) -> Response:
    namespace = await owner_namespace(request)
    body = await parse_body(request, PublishRetrieverRequest)
    retriever_id = request.path_params["retriever_id"]
    return respond(
        await call(context_of(request).publishing.publish, namespace, retriever_id, body)
    )


async def get_published(request: Request) -> Response:
    namespace = await owner_namespace(request)
    retriever_id = request.path_params["retriever_id"]
    publishing = context_of(request).publishing
    return respond(await call(publishing.get_published, namespace, retriever_id))


async def update_published(request: Request) -> Response:
    namespace = await owner_namespace(request)
    body = await parse_body(request, UpdatePublishedRetrieverRequest)
    retriever_id = request.path_params["retriever_id"]
    publishing = context_of(request).publishing
    return respond(await call(publishing.update_published, namespace, retriever_id, body))


async def unpublish(request: Request) -> Response:
    namespace = await owner_namespace(request)
    retriever_id = request.path_params["retriever_id"]
    return respond(await call(context_of(request).publishing.unpublish, namespace, retriever_id))


async def list_published(request: Request) -> Response:
    namespace = await owner_namespace(request)
    limit, offset = paging(request)
    publishing = context_of(request).publishing
    return respond(await call(publishing.list_published, namespace, limit, offset))


async def availability(request: Request) -> Response:
    namespace = await owner_namespace(request)
    name = request.query_params.get("name")
    if not name:
        raise InvalidInput(
            "Query parameter 'name' is required: the public name to check.",
            details={"errors": [{"field": "name", "message": "required"}]},
        )
    retriever_id = request.path_params["retriever_id"]
    publishing = context_of(request).publishing
    return respond(await call(publishing.availability, namespace, retriever_id, name))


async def secrets_namespace(request: Request) -> str:
    # The SDK's secret calls carry no X-Namespace: a key bound to a namespace implies it.
    return await owner_namespace(request, header_optional=True)


async def create_secret(request: Request) -> Response:
    namespace = await secrets_namespace(request)
    body = await parse_body(request, CreateSecretRequest)
    vault = context_of(request).vault
    return respond(await call(vault.create, namespace, body.secret_name, body.secret_value))


async def list_secrets(request: Request) -> Response:
    namespace = await secrets_namespace(request)
    return respond(await call(context_of(request).vault.names, namespace))


async def replace_secret(request: Request) -> Response:
    namespace = await secrets_namespace(request)
    body = await parse_body(request, UpdateSecretRequest)
    name = request.path_params["secret_name"]
    return respond(
        await call(context_of(request).vault.replace, namespace, name, body.secret_value)
    )


async def delete_secret(request: Request) -> Response:
    namespace = await secrets_namespace(request)
    name = request.path_params["secret_name"]
    return respond(await call(context_of(request).vault.delete, namespace, name))


routes = [
    route("/v1/retrievers", post=create_retriever, get=list_retrievers),
    # Literal paths before /v1/retrievers/{retriever_id}, which would swallow them.
    route("/v1/retrievers/published", get=list_published),
    route("/v1/retrievers/{retriever_id}", get=get_retriever, delete=delete_retriever),
    route(
        "/v1/retrievers/{retriever_id}/publish",
        post=publish,
        get=get_published,
        patch=update_published,
        delete=unpublish,
    ),
    route("/v1/retrievers/{retriever_id}/publish/availability", get=availability),
    route("/v1/organizations/secrets", post=create_secret, get=list_secrets),
    route("/v1/organizations/secrets/{secret_name}", put=replace_secret, delete=delete_secret),
]
