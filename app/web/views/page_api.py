"""Pages in the API: the owner's `/v1/pages` (create, read, list, change, delete) and the
public federated search of a page's tabs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.schemas.pages import (
    CreatePageRequest,
    PageDeleteResponse,
    PageList,
    PageResponse,
    UpdatePageRequest,
)
from app.schemas.roles import Role
from app.web.requests import call, owner_namespace, paging, parse_body, services_of
from app.web.responses import respond
from app.web.routing import BODY_ERRORS, OWNER_ERRORS, PAGING, api, owner_operation, route

_WRITE = (*OWNER_ERRORS, *BODY_ERRORS, 409)
_TAG = "Pages"


@api(
    owner_operation(
        "Create a page of tabs", _TAG, PageResponse, CreatePageRequest, _WRITE, status=201
    )
)
async def create_page(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    body = await parse_body(request, CreatePageRequest)
    page = await call(services_of(request).pages.create, namespace, body)
    return respond(page, status_code=201)


@api(owner_operation("List pages", _TAG, PageList, query=PAGING))
async def list_pages(request: Request) -> Response:
    namespace = await owner_namespace(request)
    limit, offset = paging(request)
    return respond(await call(services_of(request).pages.list, namespace, limit, offset))


@api(owner_operation("Read a page (by id or slug)", _TAG, PageResponse))
async def get_page(request: Request) -> Response:
    namespace = await owner_namespace(request)
    page_id = request.path_params["page_id"]
    return respond(await call(services_of(request).pages.get, namespace, page_id))


@api(owner_operation("Change a page", _TAG, PageResponse, UpdatePageRequest, _WRITE))
async def update_page(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    body = await parse_body(request, UpdatePageRequest)
    page_id = request.path_params["page_id"]
    return respond(await call(services_of(request).pages.update, namespace, page_id, body))


@api(owner_operation("Delete a page", _TAG, PageDeleteResponse))
async def delete_page(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.OWNER)
    page_id = request.path_params["page_id"]
    return respond(await call(services_of(request).pages.delete, namespace, page_id))


routes = [
    route("/v1/pages", post=create_page, get=list_pages),
    route("/v1/pages/{page_id}", get=get_page, patch=update_page, delete=delete_page),
]
