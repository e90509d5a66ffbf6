"""The console's page editor: a retriever's display config as a form (and as JSON), saved as
a draft, previewed by the public page's own renderer, and published."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from app import urls
from app.adapters.store.page_versions import Byline
from app.errors import Conflict, InvalidInput
from app.rendering.theme import Scheme
from app.schemas.display import MAX_EXPOSED_FIELDS
from app.schemas.roles import Role
from app.services.access import Caller
from app.services.configs import WHERE
from app.services.console import Seat
from app.services.console_editor import Draft
from app.services.console_retrievers import change_search, searched
from app.services.editor_fields import FORMAT_PARTS
from app.services.editor_form import GROUPS, Field, error_label
from app.services.editor_input import (
    MAX_JSON_CHARS,
    Sent,
    form_errors,
    from_form,
    from_json,
    unsearched,
    unshown_searched,
)
from app.services.format_kinds import check_formats, formats_for
from app.services.publishing import slugify
from app.web.requests import call, services_of
from app.web.views.console.frame import NO_STORE, address, console_view, page, text
from app.web.views.pages import page_response

# Every field of the form, with a row of 25 for each of 100 fields.
MAX_EDITOR_FIELDS = 4000
SCHEMES: tuple[Scheme, ...] = ("light", "dark")


async def who(request: Request, seat: Seat) -> str:
    """Who saves or publishes, as the versions list shows it."""
    editor = services_of(request).console.editor
    return await call(editor.who, seat.key_hash, seat.role.value, seat.namespace)


def value_of(config: dict[str, Any], field: Field) -> Any:
    """A field's value as its control shows it ('' for not set)."""
    value: Any = config
    for part in field.path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return field.default if field.kind in ("bool", "select") else ""
    if field.kind == "lines" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if field.kind == "tristate" and isinstance(value, bool):
        return "yes" if value else "no"
    if field.kind == "json" and isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


async def _editor_page(
    request: Request,
    seat: Seat,
    draft: Draft,
    config: dict[str, Any] | None = None,
    status: int = 200,
    errors: dict[str, str] | None = None,
    json_text: str | None = None,
    json_errors: list[str] | None = None,
    public_name: str | None = None,
    rows: list[str] | None = None,
    stop: list[str] | None = None,
) -> Response:
    """`rows`: the field of each format row in the order a refused form sent them; `stop`:
    the fields it asked to stop searching."""
    shown = config if config is not None else draft.config
    row_fields = rows if rows and draft.collection is not None else _row_fields(draft, shown)
    renderers = services_of(request).renderers
    # A format that does not fit its field (published through the API, say), told at once.
    unfit = _unfitting(shown, draft, row_fields) if not errors else {}
    response = page(
        request,
        "console/editor.html",
        seat,
        status,
        nav="retrievers",
        draft=draft,
        config=shown,
        groups=GROUPS,
        value_of=value_of,
        row_fields=row_fields,
        listed=draft.collection is not None,
        exposed=set(_exposed(shown)),
        error_label=error_label,
        format_parts=FORMAT_PARTS,
        formats=renderers.names(),
        # The formats a field may have, by the kind of value it holds (all, over an upstream).
        formats_of=lambda name: formats_for(draft.kinds.get(name), renderers.names()),
        errors=errors or unfit,
        unfit=bool(unfit),
        json_text=_pretty(draft.config) if json_text is None else json_text,
        json_errors=json_errors or [],
        schemes=SCHEMES,
        note=request.query_params.get("done", "")[:20],
        stop=stop or [],
        public_name=public_name if public_name is not None else slugify(draft.retriever_name),
    )
    # The one console page that frames anything: its previews, from this server only.
    policy = response.headers["content-security-policy"]
    response.headers["content-security-policy"] = policy.replace(
        "form-action", "frame-src 'self'; form-action", 1
    )
    return response


def _unfitting(config: dict[str, Any], draft: Draft, rows: list[str]) -> dict[str, str]:
    """Each format the config holds that does not fit its field's kind, beside its row."""
    try:
        check_formats(config, draft.kinds, WHERE)
    except InvalidInput as error:
        return form_errors(error, {"field_config": list(rows)})
    return {}


def _exposed(config: dict[str, Any]) -> list[str]:
    found = config.get("exposed_fields")
    return [f for f in found if isinstance(f, str)] if isinstance(found, list) else []


def _row_fields(draft: Draft, config: dict[str, Any]) -> list[str]:
    """The fields the form offers a row for: those shown, then (over a collection of this
    server) the collection's others, to tick; an upstream's fields are typed instead."""
    exposed = _exposed(config)
    if draft.collection is None:
        return exposed
    return (exposed + [f for f in draft.fields if f not in exposed])[:MAX_EXPOSED_FIELDS]


def _pretty(config: dict[str, Any]) -> str:
    return json.dumps(config, indent=2, ensure_ascii=False)


def _form_values(form: FormData) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            found.setdefault(name[:200], []).append(value[:MAX_JSON_CHARS])
    return found


def _back(retriever_id: str, done: str) -> Response:
    target = urls.console_retriever(retriever_id, query=[("done", done)])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@console_view()
async def editor(request: Request, seat: Seat, form: FormData | None) -> Response:
    retriever_id = request.path_params["retriever_id"]
    draft = await call(services_of(request).console.editor.draft, seat.namespace, retriever_id)
    return await _editor_page(request, seat, draft)


@console_view(Role.EDITOR, MAX_EDITOR_FIELDS)
async def save(request: Request, seat: Seat, form: FormData | None) -> Response:
    """The form, or the JSON view, saved as the draft once every check passes; each error
    beside its field otherwise (422)."""
    assert form is not None
    retriever_id = request.path_params["retriever_id"]
    editor = services_of(request).console.editor
    draft = await call(editor.draft, seat.namespace, retriever_id)
    if text(form, "mode", 10) == "json":
        sent_json = text(form, "config_json", MAX_JSON_CHARS)
        try:
            config = from_json(sent_json)
            await call(editor.save, seat.namespace, retriever_id, config, await who(request, seat))
        except InvalidInput as error:
            listed = [
                f"{item.get('field', 'config')}: {item.get('message', error.message)}"
                for item in error.details.get("errors", [])
            ] or [error.message]
            return await _editor_page(
                request, seat, draft, status=422, json_text=sent_json, json_errors=listed
            )
        return _back(retriever_id, "saved")
    # "Save and publish" (the publish button, with the form changed): its address too.
    then_publish = text(form, "then", 10) == "publish"
    typed = text(form, "public_name", 200).strip() or None
    sent, errors, rows, stop = await _read_form(request, seat, draft, form)
    if errors:
        return await _editor_page(
            request, seat, draft, sent.config, 422, errors, public_name=typed, rows=rows, stop=stop
        )
    try:
        if stop:  # checked first, so that the search changes only with the draft saved
            await call(editor.check, seat.namespace, sent.config, draft.kinds)
            await _stop_searching(request, seat, draft, stop)
        await call(editor.save, seat.namespace, retriever_id, sent.config, await who(request, seat))
    except InvalidInput as error:
        errors = form_errors(error, sent.numbers)
        return await _editor_page(
            request, seat, draft, sent.config, 422, errors, public_name=typed, rows=rows, stop=stop
        )
    if then_publish:
        return await _publish(request, seat, retriever_id, typed)
    return _back(retriever_id, "saved-unsearched" if stop else "saved")


async def _stop_searching(request: Request, seat: Seat, draft: Draft, stop: list[str]) -> None:
    """The retriever searches the fields it did but `stop`, in the same mode."""
    services = services_of(request)
    now = await call(searched, services.store, seat.namespace, draft.retriever_id)
    assert now is not None  # over a collection: only then is a field offered to stop
    kept = [f for f in now.search_fields if f not in stop]
    await call(
        change_search, services.retrievers, seat.namespace, draft.retriever_id, kept, now.mode
    )


async def _read_form(
    request: Request, seat: Seat, draft: Draft, form: FormData, check: bool = False
) -> tuple[Sent, dict[str, str], list[str], list[str]]:
    """The config the editor's form describes, the errors to tell beside its fields, the
    field of each format row in the order sent, and the fields to stop searching. With
    `check`, the models' and the publish call's checks run too (saving runs them itself)."""
    values = _form_values(form)
    sent = from_form(draft.config, values)
    # The page re-drawn keeps the rows in the order sent, so that each error finds its row.
    rows = [str(name) for name in sent.numbers.get("field_config", [])]
    errors = dict(sent.errors)
    hidden: dict[str, str] = {}
    stop: list[str] = []
    if draft.collection is not None:
        stop, hidden = unsearched(draft.searched, draft.must_show, rows, values)
        # Unticked now (a draft made in the JSON view may hide one: publishing tells it).
        before = tuple(f for f in draft.must_show if f in _exposed(draft.config) and f not in stop)
        only = len(draft.searched) == 1
        hidden.update(unshown_searched(before, rows, sent.config, only))
    if (hidden or check) and not sent.errors:  # told with whatever else the models refuse
        try:
            await call(
                services_of(request).console.editor.check, seat.namespace, sent.config, draft.kinds
            )
        except InvalidInput as error:
            errors = form_errors(error, sent.numbers)
    errors.update(hidden)
    return sent, errors, rows, stop


@console_view(Role.EDITOR, MAX_EDITOR_FIELDS)
async def check_live(request: Request, seat: Seat, form: FormData | None) -> Response:
    """The editor's unsaved form checked as saving would check it, nothing saved: whether it
    is valid, and each error by the name of its field (JSON, for the editor's script to tell
    beside the field)."""
    assert form is not None
    retriever_id = request.path_params["retriever_id"]
    draft = await call(services_of(request).console.editor.draft, seat.namespace, retriever_id)
    _, errors, rows, _ = await _read_form(request, seat, draft, form, check=True)
    named = {name: error_label(name, rows) for name in errors if name != "form"}
    # A check answered, whatever it found: what is wrong is in the answer, by field.
    body = {"valid": not errors, "errors": errors, "labels": named}
    return JSONResponse(body, headers=NO_STORE)


@console_view(Role.EDITOR, MAX_EDITOR_FIELDS)
async def preview_live(request: Request, seat: Seat, form: FormData | None) -> Response:
    """The public page drawn from the editor's unsaved form (each check passed, nothing
    saved), into a preview's frame."""
    assert form is not None
    retriever_id = request.path_params["retriever_id"]
    editor = services_of(request).console.editor
    draft = await call(editor.draft, seat.namespace, retriever_id)
    sent, errors, rows, _ = await _read_form(request, seat, draft, form, check=True)
    if errors:
        listed = "; ".join(f"{error_label(n, rows)}: {m}" for n, m in errors.items())
        raise InvalidInput(f"The preview waits for these to be fixed: {listed}")
    return await _preview_response(request, seat, retriever_id, sent.config)


@console_view(Role.EDITOR)
async def publish(request: Request, seat: Seat, form: FormData | None) -> Response:
    """The saved draft made the public page, by the call the owner API's publish makes."""
    # The public address, chosen before the first publish (empty: made from the name).
    typed = text(form, "public_name", 200).strip() or None
    return await _publish(request, seat, request.path_params["retriever_id"], typed)


async def _publish(request: Request, seat: Seat, retriever_id: str, typed: str | None) -> Response:
    services = services_of(request)
    draft = await call(services.console.editor.draft, seat.namespace, retriever_id)
    if draft.published and not draft.pending:  # the page shows the draft: no new version
        return _back(retriever_id, "unchanged")
    if draft.collection is not None:
        hidden = unshown_searched(
            draft.must_show,
            _row_fields(draft, draft.config),
            draft.config,
            len(draft.searched) == 1,
        )
        if hidden:
            return await _editor_page(
                request, seat, draft, status=422, errors=hidden, public_name=typed
            )
    try:
        model = await call(services.console.editor.check, seat.namespace, draft.config, draft.kinds)
        await call(
            services.versions.publish,
            seat.namespace,
            retriever_id,
            model,
            Byline(await who(request, seat)),
            None if draft.published else typed,
        )
    except InvalidInput as error:
        named = [e for e in error.details.get("errors", []) if e.get("field") == "public_name"]
        errors = (
            {"public_name": str(named[0].get("message", error.message))}
            if named
            else form_errors(error)
        )
        return await _editor_page(
            request, seat, draft, status=422, errors=errors, public_name=typed
        )
    except Conflict as error:  # the address is taken
        errors = {"public_name": error.message}
        return await _editor_page(
            request, seat, draft, status=409, errors=errors, public_name=typed
        )
    return _back(retriever_id, "published")


@console_view(Role.EDITOR)
async def discard(request: Request, seat: Seat, form: FormData | None) -> Response:
    retriever_id = request.path_params["retriever_id"]
    await call(services_of(request).console.editor.discard, seat.namespace, retriever_id)
    return _back(retriever_id, "discarded")


@console_view()
async def preview(request: Request, seat: Seat, form: FormData | None) -> Response:
    """The public page, rendered from the draft: only for a session, framed only by the
    console, never counted or logged as a search."""
    retriever_id = request.path_params["retriever_id"]
    return await _preview_response(request, seat, retriever_id)


async def _preview_response(
    request: Request, seat: Seat, retriever_id: str, config: dict[str, Any] | None = None
) -> Response:
    """The preview of the saved draft, or of `config` (checked) when given."""
    asked = request.query_params.get("scheme", "auto")
    scheme: Scheme = "light" if asked == "light" else "dark" if asked == "dark" else "auto"
    editor = services_of(request).console.editor
    retriever = await call(editor.preview, seat.namespace, retriever_id, scheme, config)
    headers = {"Cache-Control": "no-store", "X-Frame-Options": "SAMEORIGIN"}
    caller = Caller(ip=address(request))  # the page's own checks never run for a preview
    response = await page_response(request, retriever, caller, preview=True, headers=headers)
    response.headers["X-Robots-Tag"] = "noindex"
    return response
