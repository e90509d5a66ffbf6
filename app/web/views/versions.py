"""The owner API of a page's published versions: the list (who published each, and when,
with its display config), and a rollback, which publishes an old version again as a new one.
A viewer reads; an editor rolls back."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from app.adapters.store.page_versions import API
from app.errors import NotFound
from app.schemas.roles import Role
from app.schemas.versions import PageVersion, PageVersionList
from app.web.requests import call, owner_namespace, paging, services_of
from app.web.responses import respond
from app.web.routing import PAGING, api, owner_operation, route

_TAG = "Publishing"
MAX_NUMBER_DIGITS = 9


def _number(request: Request) -> int:
    raw: str = request.path_params["number"]
    if not raw.isdigit() or len(raw) > MAX_NUMBER_DIGITS:
        raise NotFound(f"There is no version {raw[:20]!r}: a version is a whole number.")
    return int(raw)


@api(
    owner_operation(
        "List a page's published versions, the newest first", _TAG, PageVersionList, query=PAGING
    )
)
async def list_versions(request: Request) -> Response:
    namespace = await owner_namespace(request)
    limit, offset = paging(request)
    retriever_id = request.path_params["retriever_id"]
    versions = services_of(request).versions
    return respond(await call(versions.listing, namespace, retriever_id, limit, offset))


@api(
    owner_operation(
        "Publish an old version of the page again, as a new version",
        _TAG,
        PageVersion,
    )
)
async def rollback(request: Request) -> Response:
    namespace = await owner_namespace(request, Role.EDITOR)
    number = _number(request)
    retriever_id = request.path_params["retriever_id"]
    versions = services_of(request).versions
    return respond(await call(versions.rollback, namespace, retriever_id, number, API.who))


routes = [
    route("/v1/retrievers/{retriever_id}/versions", get=list_versions),
    route("/v1/retrievers/{retriever_id}/versions/{number}/rollback", post=rollback),
]
