"""The console's collections: the list, an upload, a collection's documents, deleting one."""

from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import Conflict, InvalidInput, invalid
from app.schemas.roles import Role
from app.services.console import Seat
from app.services.console_collections import MAX_SEARCH_CHARS, check_collection_name
from app.services.importing import ImportReport
from app.web.requests import call, int_param, services_of
from app.web.views.console.frame import NO_STORE, console_view, page, text

MAX_PAGE = 10_000


async def _list_page(
    request: Request,
    seat: Seat,
    status: int = 200,
    report: ImportReport | None = None,
    uploaded_to: str = "",
    errors: dict[str, str] | None = None,
    typed: str = "",
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
        report=report,
        uploaded_to=uploaded_to,
        typed=typed or uploaded_to,  # a name refused is shown again as typed
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
        )
    except InvalidInput as error:
        errors = {
            str(item.get("field")): str(item.get("message"))
            for item in error.details.get("errors", [])
        }
        errors = errors or {"form": error.message}
        return await _list_page(request, seat, 422, errors=errors, typed=collection)
    if report.imported and services.engine.embedding(seat.namespace, collection) is not None:
        services.embedding.fill_later(seat.namespace, collection)
    return await _list_page(request, seat, report=report, uploaded_to=collection)


@console_view()
async def documents(request: Request, seat: Seat, form: FormData | None) -> Response:
    console = services_of(request).console.collections
    name = request.path_params["collection"]
    summary = await call(console.existing, seat.namespace, name)
    query = request.query_params.get("q", "")[:MAX_SEARCH_CHARS]
    number = int_param(request, "page", 1, 1, MAX_PAGE)
    found = await call(console.documents, seat.namespace, name, query, number)
    kept = [("q", query)] if query else []
    return page(
        request,
        "console/collection.html",
        seat,
        nav="collections",
        collection=summary,
        found=found,
        query=query,
        columns=summary.fields[:4],
        prev_url=urls.console_collection(name, query=[*kept, ("page", str(number - 1))])
        if number > 1
        else None,
        next_url=urls.console_collection(name, query=[*kept, ("page", str(number + 1))])
        if found.has_next
        else None,
    )


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
