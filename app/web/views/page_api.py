"""Pages in the API: the owner's `/v1/pages` (create, read, list, change, delete) and the
public federated search of a page's tabs."""

from __future__ import annotations

import dataclasses

from starlette.requests import Request
from starlette.responses import Response

from app.errors import invalid
from app.schemas.pages import (
    ALL_TAB,
    CreatePageRequest,
    PageDeleteResponse,
    PageList,
    PageResponse,
    PageSearchError,
    PageSearchMerged,
    PageSearchRequest,
    PageSearchResponse,
    PageSearchTab,
    UpdatePageRequest,
)
from app.schemas.roles import Role
from app.schemas.search import FULL_TEXT_INPUT
from app.services.access import Caller
from app.services.inputs import MAX_TEXT_CHARS
from app.services.page_inputs import checked_given
from app.services.tab_pages import TabAnswer, fuse
from app.web.requests import (
    call,
    caller_of,
    owner_namespace,
    paging,
    parse_body,
    services_of,
)
from app.web.responses import respond
from app.web.routing import (
    BODY_ERRORS,
    OWNER_ERRORS,
    PAGING,
    Operation,
    api,
    owner_operation,
    route,
)

_WRITE = (*OWNER_ERRORS, *BODY_ERRORS, 409)
_TAG = "Pages"
_PUBLIC = "Public pages"


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


@api(
    Operation(
        "Search a page's tabs: one tab, or every tab at once and merged",
        _PUBLIC,
        PageSearchResponse,
        PageSearchRequest,
        (404, 413, 415, 422, 503),
        headers=("X-Retriever-Password",),
    )
)
async def search_page(request: Request) -> Response:
    services = services_of(request)
    page = await services.tab_pages.open(request.path_params["slug"])
    body = await parse_body(request, PageSearchRequest, public=True)
    inputs = {**(body.model_extra or {}), **(body.inputs or {})}
    if body.query is not None:
        inputs.setdefault(FULL_TEXT_INPUT, body.query)

    def callers(public_name: str) -> Caller:
        # A public key is one retriever's; a page's tabs are several: none is used here.
        caller = caller_of(request, public_name=public_name)
        return dataclasses.replace(caller, api_key=None)

    if body.tab_id is not None and body.tab_id != ALL_TAB:
        tab = page.tab(body.tab_id)
        if tab is None:
            keys = ", ".join(t.tab_id for t in page.tabs)
            allowed = f"one of this page's tabs: {keys}"
            raise invalid(
                "tab_id", allowed, f"tab_id: {body.tab_id!r} is not a tab of this page; {allowed}."
            )
        answers: tuple[TabAnswer, ...] = (
            await services.tab_pages.search_tab(tab, inputs, callers, body.page_size),
        )
        merged = fuse(list(answers))
    else:
        sent = inputs.pop(FULL_TEXT_INPUT, None)
        if sent is not None and (not isinstance(sent, str) or len(sent) > MAX_TEXT_CHARS):
            # One text for every tab: refused once, rather than by each tab in its answer.
            allowed = f"text of at most {MAX_TEXT_CHARS} characters"
            raise invalid(
                "inputs.query",
                allowed,
                f"inputs.query must be {allowed}: the words to search every tab for.",
            )
        text = (sent or body.query or "").strip()
        if not text:
            raise invalid(
                "inputs.query",
                "a text to search every tab for",
                "inputs.query: a text is needed to search every tab (or a tab_id to search one).",
            )
        shared = await services.tab_pages.shared_inputs(page)
        given = checked_given(shared, inputs)
        found = await services.tab_pages.federated(
            page, text, callers, body.page_size, "execute", given, shared
        )
        answers, merged = found.answers, list(found.merged)
    return respond(
        PageSearchResponse(
            slug=page.slug,
            tabs=[_tab_answer(answer) for answer in answers],
            merged=[
                PageSearchMerged(
                    tab_id=item.tab.tab_id,
                    found_in=list(item.found_in),
                    rrf_score=item.score,
                    document=item.document,
                )
                for item in merged
            ],
        )
    )


def _tab_answer(answer: TabAnswer) -> PageSearchTab:
    tab, results, error = answer.tab, answer.results, answer.error
    return PageSearchTab(
        tab_id=tab.tab_id,
        label=tab.label,
        public_name=tab.public_name,
        status="ok" if results is not None else "error",
        execution_id=results.execution_id if results else None,
        total=results.total if results else None,
        inputs=list(answer.inputs),
        documents=results.documents if results else [],
        error=PageSearchError(status=error.status, type=error.type, message=error.message)
        if error
        else None,
    )


public_routes = [route("/v1/public/pages/{slug}/search", post=search_page)]
