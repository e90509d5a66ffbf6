"""The console's published versions of a page: who published each and when, what one would
change if published again, and a one-click rollback (itself a new version)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import InvalidInput, NotFound
from app.schemas.roles import Role
from app.services.console import Seat
from app.web.requests import call, services_of
from app.web.views.console.editor import who
from app.web.views.console.frame import NO_STORE, console_view, page

PAGE_SIZE = 50
MAX_PAGE = 10_000


def _number(request: Request) -> int:
    raw = request.path_params["number"]
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound(f"There is no version {raw[:20]!r}.")
    return int(raw)


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return min(int(raw), MAX_PAGE) if raw.isdigit() and len(raw) < 6 and int(raw) > 0 else 1


@console_view()
async def versions(request: Request, seat: Seat, form: FormData | None) -> Response:
    retriever_id = request.path_params["retriever_id"]
    services = services_of(request)
    draft = await call(services.console.editor.draft, seat.namespace, retriever_id)
    number = _page_number(request)
    listed = await call(
        services.versions.listing,
        seat.namespace,
        retriever_id,
        PAGE_SIZE,
        (number - 1) * PAGE_SIZE,
    )
    return page(
        request,
        "console/versions.html",
        seat,
        nav="retrievers",
        draft=draft,
        listed=listed,
        page_number=number,
        pages=max(1, -(-listed.total // PAGE_SIZE)),
        rolled=request.query_params.get("rolled", "")[:9],
    )


@console_view()
async def version(request: Request, seat: Seat, form: FormData | None) -> Response:
    """What publishing this version again would change on the page now."""
    retriever_id = request.path_params["retriever_id"]
    number = _number(request)
    services = services_of(request)
    draft = await call(services.console.editor.draft, seat.namespace, retriever_id)
    found = await call(services.versions.get, seat.namespace, retriever_id, number)
    changes = await call(services.versions.diff, seat.namespace, retriever_id, number)
    return page(
        request,
        "console/version.html",
        seat,
        nav="retrievers",
        draft=draft,
        version=found,
        changes=changes,
    )


@console_view(Role.EDITOR)
async def rollback(request: Request, seat: Seat, form: FormData | None) -> Response:
    """Publish an old version again, as a new one (the draft goes: the page is that now)."""
    retriever_id = request.path_params["retriever_id"]
    number = _number(request)
    services = services_of(request)
    try:
        made = await call(
            services.versions.rollback,
            seat.namespace,
            retriever_id,
            number,
            await who(request, seat),
        )
    except InvalidInput as error:
        # A version the retriever can no longer show (a field format or plugin gone).
        draft = await call(services.console.editor.draft, seat.namespace, retriever_id)
        found = await call(services.versions.get, seat.namespace, retriever_id, number)
        changes = await call(services.versions.diff, seat.namespace, retriever_id, number)
        return page(
            request,
            "console/version.html",
            seat,
            422,
            nav="retrievers",
            draft=draft,
            version=found,
            changes=changes,
            refused=error.message,
        )
    target = urls.console_retriever(retriever_id, "versions", [("rolled", str(made.number))])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)
