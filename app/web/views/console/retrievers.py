"""The console's retrievers: the list with their state, and a new one over a collection."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import Conflict, InvalidInput
from app.schemas.roles import Role
from app.services.console import Seat
from app.services.console_retrievers import MODES, RetrieverForm, field_errors
from app.web.requests import call, services_of
from app.web.views.console.frame import NO_STORE, console_view, page, text

MAX_FIELDS_SENT = 100


@console_view()
async def retrievers(request: Request, seat: Seat, form: FormData | None) -> Response:
    console = services_of(request).console
    rows = await call(console.retrievers.rows, seat.namespace)
    return page(
        request,
        "console/retrievers.html",
        seat,
        nav="retrievers",
        rows=rows,
        created=request.query_params.get("created", "")[:200],
    )


async def _form_page(
    request: Request,
    seat: Seat,
    sent: RetrieverForm,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    console = services_of(request).console.collections
    names = await call(console.names, seat.namespace)
    chosen = sent.collection if sent.collection in names else ""
    if not chosen and len(names) == 1:
        chosen = names[0]
    summary = await call(console.summary, seat.namespace, chosen) if chosen else None
    picked = set(sent.search_fields) if sent.search_fields or errors else None
    if picked is None and summary is not None:
        picked = set(summary.text_fields)
    return page(
        request,
        "console/retriever_new.html",
        seat,
        status,
        nav="retrievers",
        collections=names,
        chosen=chosen,
        summary=summary,
        sent=sent,
        picked=picked or set(),
        modes=MODES,
        errors=errors or {},
    )


@console_view(Role.EDITOR)
async def new_retriever(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: the form (`?collection=` picks the collection whose fields it offers); POST:
    the retriever, made by the API's own call."""
    if request.method == "GET":
        sent = RetrieverForm(collection=request.query_params.get("collection", "")[:200])
        return await _form_page(request, seat, sent)
    assert form is not None
    fields = [v for v in form.getlist("search_fields") if isinstance(v, str)]
    sent = RetrieverForm(
        retriever_name=text(form, "retriever_name"),
        description=text(form, "description"),
        collection=text(form, "collection", 200),
        search_fields=tuple(f[:200] for f in fields[:MAX_FIELDS_SENT]),
        mode=text(form, "mode", 20),
    )
    console = services_of(request).console.retrievers
    try:
        retriever_id = await call(console.create, seat.namespace, sent)
    except InvalidInput as error:
        return await _form_page(request, seat, sent, 422, field_errors(error))
    except Conflict as error:
        return await _form_page(request, seat, sent, 409, {"retriever_name": error.message})
    # Straight on to the next step: the page's editor.
    target = urls.console_retriever(retriever_id, query=[("done", "created")])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)
