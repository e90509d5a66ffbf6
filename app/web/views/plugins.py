"""The owner API of renderer plugins: Cortex's calls (seed 004) and DatoCMS's JSON:API update
(seed 003) on one resource."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import Response

from app import jsonutil
from app.errors import invalid
from app.schemas.base import StrictModel
from app.schemas.parsing import parse_json
from app.schemas.plugins import (
    CreatePluginRequest,
    PluginFields,
    PluginList,
    PluginResponse,
    PluginVersionList,
    ReplacePluginRequest,
)
from app.schemas.roles import Role
from app.web.requests import (
    bool_param,
    call,
    int_param,
    json_body,
    owner_of,
    parse_body,
    services_of,
)
from app.web.responses import JSONResponse, respond
from app.web.routing import BODY_ERRORS, OWNER_ERRORS, Operation, api, owner_operation, route

JSON_API = "application/vnd.api+json"
_TAG = "Plugins"
_PAGE = {"type": "integer", "minimum": 0, "maximum": 100_000, "default": 0}
_PAGE_SIZE = {"type": "integer", "minimum": 1, "maximum": 1000, "default": 250}
_BOOL = {"type": "boolean", "default": False}
_WRITE = (*OWNER_ERRORS, *BODY_ERRORS, 409)


class JsonApiResource(StrictModel):
    type: str
    id: str | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class JsonApiMeta(StrictModel):
    current_version: int | None = None


class JsonApiUpdate(StrictModel):
    """DatoCMS's update: only the attributes sent change; a stale `current_version` is 409."""

    data: JsonApiResource
    meta: JsonApiMeta | None = None


# DatoCMS's attribute names, as this server names them.
JSON_API_ATTRIBUTES = {"package_version": "version"}


def _op(
    summary: str,
    response: type[BaseModel],
    request: type[BaseModel] | None = None,
    errors: tuple[int, ...] = OWNER_ERRORS,
    query: tuple[str, ...] = (),
    status: int = 200,
) -> Operation:
    return owner_operation(
        summary,
        _TAG,
        response,
        request,
        errors,
        query=query,
        query_schemas=(
            ("page", _PAGE),
            ("page_size", _PAGE_SIZE),
            ("include_drafts", _BOOL),
            ("include_blob", _BOOL),
        ),
        status=status,
    )


@api(_op("Create a plugin", PluginResponse, CreatePluginRequest, _WRITE, status=201))
async def create_plugin(request: Request) -> Response:
    owner = await owner_of(request, Role.EDITOR)
    body = await parse_body(request, CreatePluginRequest)
    plugin = await call(services_of(request).plugins.create, owner, body)
    return respond(plugin, status_code=201)


@api(_op("List plugins", PluginList, query=("page", "page_size", "include_drafts")))
async def list_plugins(request: Request) -> Response:
    owner = await owner_of(request)
    page = int_param(request, "page", 0, 0, 100_000)
    page_size = int_param(request, "page_size", 250, 1, 1000)
    drafts = bool_param(request, "include_drafts")
    plugins = services_of(request).plugins
    return respond(await call(plugins.list, owner, page, page_size, drafts))


@api(_op("Read a plugin by tag or id", PluginResponse, query=("include_blob",)))
async def get_plugin(request: Request) -> Response:
    owner = await owner_of(request)
    blob = bool_param(request, "include_blob")
    plugins = services_of(request).plugins
    return respond(await call(plugins.get, owner, request.path_params["tag"], blob))


@api(
    _op(
        "Replace a plugin (or, as JSON:API, update it)",
        PluginResponse,
        ReplacePluginRequest,
        _WRITE,
    )
)
async def replace_plugin(request: Request) -> Response:
    owner = await owner_of(request, Role.EDITOR)
    plugins = services_of(request).plugins
    tag = request.path_params["tag"]
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == JSON_API:
        update = parse_json(JsonApiUpdate, await json_body(request))
        if update.data.type != "plugin":
            raise invalid("data.type", "plugin", "data.type must be 'plugin'.")
        attributes = {JSON_API_ATTRIBUTES.get(k, k): v for k, v in update.data.attributes.items()}
        fields = parse_json(PluginFields, jsonutil.dumps(attributes))
        expected = update.meta.current_version if update.meta else None
        if update.data.id is not None:
            current = await call(plugins.get, owner, tag)
            if update.data.id != current.plugin_id:
                raise invalid(
                    "data.id",
                    "the plugin's id",
                    f"data.id must be {current.plugin_id!r}, the id of the plugin at this URL.",
                )
        plugin = await call(plugins.update, owner, tag, fields, expected)
        return _json_api(plugin)
    body = await parse_body(request, ReplacePluginRequest)
    return respond(await call(plugins.replace, owner, tag, body))


@api(_op("Change some of a plugin's fields", PluginResponse, PluginFields, _WRITE))
async def update_plugin(request: Request) -> Response:
    owner = await owner_of(request, Role.EDITOR)
    body = await parse_body(request, PluginFields)
    plugins = services_of(request).plugins
    return respond(await call(plugins.update, owner, request.path_params["tag"], body))


@api(_op("Delete a plugin", PluginResponse, errors=(*OWNER_ERRORS, 409), status=204))
async def delete_plugin(request: Request) -> Response:
    owner = await owner_of(request, Role.OWNER)
    await call(services_of(request).plugins.delete, owner, request.path_params["tag"])
    return Response(status_code=204)


@api(_op("A plugin's versions", PluginVersionList))
async def plugin_versions(request: Request) -> Response:
    owner = await owner_of(request)
    plugins = services_of(request).plugins
    return respond(await call(plugins.versions, owner, request.path_params["tag"]))


def _json_api(plugin: PluginResponse) -> Response:
    attributes = plugin.model_dump(mode="json", exclude={"plugin_id", "meta", "blob"})
    attributes["package_version"] = attributes["version"]
    return JSONResponse(
        {
            "data": {"type": "plugin", "id": plugin.plugin_id, "attributes": attributes},
            "meta": {"version": plugin.meta.version},
        },
        headers={"Content-Type": JSON_API},
    )


routes = [
    route("/v1/plugins", post=create_plugin, get=list_plugins),
    route(
        "/v1/plugins/{tag}",
        get=get_plugin,
        put=replace_plugin,
        patch=update_plugin,
        delete=delete_plugin,
    ),
    route("/v1/plugins/{tag}/versions", get=plugin_versions),
]
