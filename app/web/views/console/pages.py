"""The console's pages of tabs: the namespace's pages, a form to make one (or change one) over
its published retrievers, and deleting one after a confirmation. Each change is the owner API's
own call (`Pages`), with its roles, models and errors, each refusal beside its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import Conflict, InvalidInput
from app.schemas.pages import PageResponse
from app.schemas.roles import Role
from app.services.console import Seat
from app.services.console_pages import (
    MODES,
    ConsolePages,
    PageForm,
    TabRow,
    form_errors,
    kept_sections,
)
from app.web.requests import call, services_of
from app.web.views.console.frame import NO_STORE, console_view, page, text

MAX_FIELDS = 2_000  # a page's fields and four for each retriever offered as a tab


def _console(request: Request) -> ConsolePages:
    services = services_of(request)
    return ConsolePages(services.pages, services.console.retrievers)


@console_view()
async def pages(request: Request, seat: Seat, form: FormData | None) -> Response:
    found = await call(_console(request).listing, seat.namespace)
    return page(
        request,
        "console/pages.html",
        seat,
        nav="pages",
        pages=found,
        done=request.query_params.get("done", "")[:200],
    )


def _read(form: FormData | None, offered: list[TabRow]) -> PageForm:
    """The form as sent, its tab rows in the order offered."""
    rows = [
        TabRow(
            row.retriever_id,
            row.name,
            picked=text(form, f"tab-{row.retriever_id}", 10) != "",
            tab_id=text(form, f"tab-{row.retriever_id}-tab_id", 100),
            label=text(form, f"tab-{row.retriever_id}-label", 100),
            order=text(form, f"tab-{row.retriever_id}-order", 20),
        )
        for row in offered
    ]
    rows = [r for r in rows if r.picked] + [r for r in rows if not r.picked]
    mode = text(form, "all_mode", 20)
    return PageForm(
        slug=text(form, "slug", 200),
        title=text(form, "title", 500),
        description=text(form, "description", 2_000),
        tabs=rows,
        all_enabled=text(form, "all_enabled", 10) != "",
        all_mode=mode if mode in MODES else "merged",
        hero_headline=text(form, "hero_headline", 500),
        hero_subheadline=text(form, "hero_subheadline", 2_000),
        stats=text(form, "stats", 5_000),
        featured_title=text(form, "featured_title", 200),
        featured_tab=text(form, "featured_tab", 100),
        featured_ids=text(form, "featured_ids", 20_000),
        markdown_title=text(form, "markdown_title", 200),
        markdown=text(form, "markdown", 40_000),
        custom_html=text(form, "custom_html", 200_000),
        is_active=text(form, "is_active", 10) != "" if form is not None else True,
    )


def _form_page(
    request: Request,
    seat: Seat,
    form: PageForm,
    status: int = 200,
    errors: dict[str, str] | None = None,
    **values: Any,
) -> Response:
    return page(
        request,
        "console/pages_form.html",
        seat,
        status,
        nav="pages",
        form=form,
        errors=errors or {},
        modes=MODES,
        **values,
    )


async def _save(
    request: Request,
    seat: Seat,
    sent: PageForm,
    stored: PageResponse | None,
    save: Callable[..., PageResponse],
    *args: Any,
) -> Response:
    """`save(*args)` (a create, or an update of `stored`): the list saying so, or the form as
    sent again with each refusal beside its field."""
    try:
        saved = await call(save, *args)
    except InvalidInput as error:
        return _form_page(request, seat, sent, 422, form_errors(error, sent), stored=stored)
    except Conflict as error:
        return _form_page(request, seat, sent, 409, {"slug": error.message}, stored=stored)
    done = "Saved" if stored is not None else "Made"
    target = urls.console("pages", [("done", f"{done} the page {saved.slug}.")])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@console_view(Role.EDITOR, max_fields=MAX_FIELDS)
async def new_page(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: the empty form; POST: the page made, or the form again with each refusal."""
    console = _console(request)
    blank = await call(console.blank, seat.namespace)
    if request.method == "GET":
        return _form_page(request, seat, blank, stored=None)
    sent = _read(form, blank.tabs)
    return await _save(request, seat, sent, None, console.create, seat.namespace, sent)


@console_view(max_fields=MAX_FIELDS)
async def edit_page(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: the page's form (read only for a viewer); POST: the change (an editor's)."""
    console = _console(request)
    stored = await call(console.pages.get, seat.namespace, request.path_params["page_id"])
    shown = await call(console.form_of, seat.namespace, stored)
    if request.method == "GET":
        return _form_page(request, seat, shown, stored=stored, kept=kept_sections(stored))
    if not seat.may(Role.EDITOR):
        return _form_page(
            request,
            seat,
            shown,
            403,
            {"form": f"Changing a page needs the editor role; this key's is {seat.role.value}."},
            stored=stored,
        )
    sent = _read(form, shown.tabs)
    args = (seat.namespace, stored.page_id, sent, stored)
    return await _save(request, seat, sent, stored, console.update, *args)


@console_view(Role.OWNER)
async def delete_page(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: the confirmation; POST: the deletion."""
    console = _console(request)
    stored = await call(console.pages.get, seat.namespace, request.path_params["page_id"])
    if request.method == "POST":
        await call(console.pages.delete, seat.namespace, stored.page_id)
        target = urls.console("pages", [("done", f"Deleted the page {stored.slug}.")])
        return RedirectResponse(target, status_code=303, headers=NO_STORE)
    return page(request, "console/pages_delete.html", seat, nav="pages", stored=stored)
