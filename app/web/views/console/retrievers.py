"""The console's retrievers: the list with their state, and a new one over a collection of
this server or over a Mixpeek upstream."""

from __future__ import annotations

import re
from dataclasses import replace

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import Conflict, InvalidInput
from app.schemas.roles import Role
from app.services.console import Seat
from app.services.console_retrievers import (
    ADDRESS_POLICY,
    MODES,
    SOURCES,
    RetrieverForm,
    field_errors,
)
from app.web.requests import call, services_of
from app.web.views.console.frame import NO_STORE, console_view, page, text

MAX_FIELDS_SENT = 100
CHOOSE_A_SECRET = "Choose the secret that holds the API key."  # noqa: S105 - words, no secret


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
    services = services_of(request)
    console = services.console.collections
    names = await call(console.names, seat.namespace)
    # The secrets an upstream's key may be: their names only, listed for an owner (as the
    # API lists them); an editor types the name.
    secrets: list[str] | None = None
    if sent.source == "mixpeek" and seat.may(Role.OWNER):
        secrets = (await call(services.vault.names, seat.namespace)).secrets
    chosen = sent.collection if sent.collection in names else ""
    if not chosen and len(names) == 1:
        chosen = names[0]
    summary = await call(console.summary, seat.namespace, chosen) if chosen else None
    if request.method == "GET" and summary is not None and not summary.embeds:
        # Over a collection that computes no meaning, the mode it can do: words.
        sent = replace(sent, mode="keyword")
    if request.method == "GET" and summary is not None and not sent.retriever_name:
        # A name to start with, from the collection's ("my-books": "my books").
        sent = replace(sent, retriever_name=re.sub(r"[-_]+", " ", summary.name).strip())
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
        secrets=secrets,
        address_policy=ADDRESS_POLICY,
    )


@console_view(Role.EDITOR)
async def new_retriever(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: the form (`?collection=` picks the collection whose fields it offers); POST:
    the retriever, made by the API's own call."""
    if request.method == "GET":
        sent = RetrieverForm(
            collection=request.query_params.get("collection", "")[:200],
            source=_source(request.query_params.get("source", "")),
        )
        return await _form_page(request, seat, sent)
    assert form is not None
    fields = [v for v in form.getlist("search_fields") if isinstance(v, str)]
    sent = RetrieverForm(
        retriever_name=text(form, "retriever_name"),
        description=text(form, "description"),
        collection=text(form, "collection", 200),
        search_fields=tuple(f[:200] for f in fields[:MAX_FIELDS_SENT]),
        mode=text(form, "mode", 20),
        source=_source(text(form, "source", 20)),
        base_url=text(form, "base_url", 4096),
        upstream_retriever_id=text(form, "upstream_retriever_id", 500),
        upstream_namespace=text(form, "upstream_namespace", 500),
        api_key_secret_name=text(form, "api_key_secret_name", 500),
    )
    console = services_of(request).console.retrievers
    try:
        retriever_id = await call(console.create, seat.namespace, sent)
    except InvalidInput as error:
        errors = field_errors(error)
        key = "api_key_secret_name"
        if key in errors and not sent.api_key_secret_name.strip():
            errors[key] = CHOOSE_A_SECRET
        return await _form_page(request, seat, sent, 422, errors)
    except Conflict as error:
        return await _form_page(request, seat, sent, 409, {"retriever_name": error.message})
    # Straight on to the next step: the page's editor.
    target = urls.console_retriever(retriever_id, query=[("done", "created")])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


def _source(asked: str) -> str:
    return asked if asked in SOURCES else SOURCES[0]
