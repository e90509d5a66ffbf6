"""The plugin marketplace's API: a publisher's listing (seed 000's publish calls), the public
catalogue, and installing a listed plugin."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.schemas.marketplace import (
    InstallPluginRequest,
    ListingFields,
    PublishedPlugin,
    PublishedPluginList,
    PublishPluginRequest,
)
from app.schemas.plugins import PluginResponse
from app.schemas.roles import Role
from app.web.requests import (
    MAX_TEXT_PARAM_CHARS,
    call,
    int_param,
    owner_of,
    parse_body,
    services_of,
    text_param,
)
from app.web.responses import respond
from app.web.routing import BODY_ERRORS, OWNER_ERRORS, Operation, api, owner_operation, route

_TAG = "Plugin marketplace"
_WRITE = (*OWNER_ERRORS, *BODY_ERRORS, 409)
MAX_PAGE_SIZE = 100
_TEXT = {"type": "string", "maxLength": MAX_TEXT_PARAM_CHARS}


@api(
    owner_operation(
        "Publish a plugin", _TAG, PublishedPlugin, PublishPluginRequest, _WRITE, status=201
    )
)
async def publish_plugin(request: Request) -> Response:
    owner = await owner_of(request, Role.EDITOR)
    body = await parse_body(request, PublishPluginRequest)
    marketplace = services_of(request).marketplace
    listing = await call(marketplace.publish, owner, request.path_params["plugin_id"], body)
    return respond(listing, status_code=201)


@api(owner_operation("Update a published plugin", _TAG, PublishedPlugin, ListingFields, _WRITE))
async def update_listing(request: Request) -> Response:
    owner = await owner_of(request, Role.EDITOR)
    body = await parse_body(request, ListingFields)
    marketplace = services_of(request).marketplace
    return respond(await call(marketplace.update, owner, request.path_params["plugin_id"], body))


@api(owner_operation("A plugin's listing", _TAG, PublishedPlugin))
async def get_listing(request: Request) -> Response:
    owner = await owner_of(request)
    marketplace = services_of(request).marketplace
    return respond(await call(marketplace.get, owner, request.path_params["plugin_id"]))


@api(owner_operation("Unpublish a plugin", _TAG, PublishedPlugin, status=204))
async def unpublish_plugin(request: Request) -> Response:
    owner = await owner_of(request, Role.EDITOR)
    marketplace = services_of(request).marketplace
    await call(marketplace.unpublish, owner, request.path_params["plugin_id"])
    return Response(status_code=204)


@api(
    owner_operation(
        "Install a plugin from the marketplace",
        _TAG,
        PluginResponse,
        InstallPluginRequest,
        _WRITE,
        status=201,
    )
)
async def install_plugin(request: Request) -> Response:
    owner = await owner_of(request, Role.EDITOR)
    body = await parse_body(request, InstallPluginRequest)
    plugin = await call(services_of(request).marketplace.install, owner, body)
    return respond(plugin, status_code=201)


@api(
    Operation(
        "The plugin marketplace",
        _TAG,
        PublishedPluginList,
        errors=(422, 503),
        query=("search", "category", "tag", "page", "page_size"),
        query_schemas=(
            ("search", _TEXT),
            ("category", _TEXT),
            ("tag", _TEXT),
            ("page", {"type": "integer", "minimum": 0, "maximum": 100_000, "default": 0}),
            (
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": 24},
            ),
        ),
    )
)
async def marketplace(request: Request) -> Response:
    page = int_param(request, "page", 0, 0, 100_000)
    page_size = int_param(request, "page_size", 24, 1, MAX_PAGE_SIZE)
    words, category, tag = (text_param(request, name) for name in ("search", "category", "tag"))
    listing = services_of(request).marketplace.search
    return respond(await call(listing, words, category, tag, page, page_size))


@api(Operation("A plugin in the marketplace", _TAG, PublishedPlugin, errors=(404, 503)))
async def public_plugin(request: Request) -> Response:
    marketplace = services_of(request).marketplace
    return respond(await call(marketplace.public, request.path_params["public_name"]))


routes = [
    route(
        "/v1/plugins/{plugin_id}/publish",
        post=publish_plugin,
        patch=update_listing,
        get=get_listing,
        delete=unpublish_plugin,
    ),
    route("/v1/plugins/install", post=install_plugin),
    route("/v1/public/plugins", get=marketplace),
    route("/v1/public/plugins/{public_name}", get=public_plugin),
]
