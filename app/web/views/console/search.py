"""What a retriever searches, in the console: the collection's fields to search (each with
its kind of value) and the mode, changed by the call the API's `PATCH /v1/retrievers/{id}`
makes, each refusal told beside its field."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import InvalidInput
from app.schemas.roles import Role
from app.services.console import Seat
from app.services.console_insights import about
from app.services.console_retrievers import (
    MODES,
    SearchedBy,
    change_search,
    field_errors,
    searched,
)
from app.web.requests import call, services_of
from app.web.views.console.frame import NO_STORE, console_view, page, text

MAX_FIELDS_SENT = 100
FORM_FIELDS = {"backend.search_fields": "search_fields", "backend.mode": "mode"}


async def _page(
    request: Request,
    seat: Seat,
    status: int = 200,
    sent: SearchedBy | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    services = services_of(request)
    retriever_id = request.path_params["retriever_id"]
    subject = await call(about, services.store, seat.namespace, retriever_id)
    now = await call(searched, services.store, seat.namespace, retriever_id)
    summary = None
    if now is not None and now.collection in await call(
        services.console.collections.names, seat.namespace
    ):
        summary = await call(services.console.collections.summary, seat.namespace, now.collection)
    return page(
        request,
        "console/search.html",
        seat,
        status,
        nav="retrievers",
        subject=subject,
        now=now,
        sent=sent or now,
        summary=summary,
        modes=MODES,
        errors=errors or {},
        saved=request.query_params.get("saved") == "1",
    )


@console_view()
async def search(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: what the retriever searches; POST (an editor): that changed."""
    if request.method == "GET":
        return await _page(request, seat)
    if not seat.may(Role.EDITOR):
        return await _page(request, seat, 403, errors={"form": "This needs the editor role."})
    retriever_id = request.path_params["retriever_id"]
    assert form is not None
    fields = [v[:200] for v in form.getlist("search_fields") if isinstance(v, str)]
    mode = text(form, "mode", 20)
    now = await call(searched, services_of(request).store, seat.namespace, retriever_id)
    sent = SearchedBy(now.collection if now else "", fields[:MAX_FIELDS_SENT], mode)
    retrievers = services_of(request).retrievers
    try:
        await call(
            change_search, retrievers, seat.namespace, retriever_id, sent.search_fields, mode
        )
    except InvalidInput as error:
        return await _page(request, seat, 422, sent, field_errors(error, FORM_FIELDS))
    target = urls.console_retriever(retriever_id, "search", [("saved", "1")])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)
