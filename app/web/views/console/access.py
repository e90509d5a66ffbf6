"""The console's access page of a retriever: its rate limits, its password, its public key
and the sites that may embed it, each a form of its own with its errors beside its fields."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import Forbidden, InvalidInput
from app.schemas.roles import Role
from app.services.console import Seat
from app.services.console_access import (
    FORM_FIELDS,
    NUMBERS,
    TIER_WINDOWS,
    TIERS,
    AccessState,
    LimitsForm,
    embed_snippets,
)
from app.services.console_retrievers import field_errors
from app.web.requests import call, services_of
from app.web.views.console.frame import NO_STORE, console_view, page, text

# What each part of the page says once saved (the form names its part).
SAVED = {
    "limits": "Saved the rate limits.",
    "secret": "The page now asks for the password.",
    "password": "The page now asks for the new password.",
    "clear-password": "The page no longer asks for a password.",
    "origins": "Saved the sites that may embed the page.",
}


async def _page(
    request: Request,
    seat: Seat,
    state: AccessState,
    status: int = 200,
    **values: Any,
) -> Response:
    """The access page; `values` carry what a refused form sent back, its errors and part."""
    services = services_of(request)
    secrets: list[str] = []
    if seat.may(Role.OWNER) and state.published:
        secrets = (await call(services.vault.names, seat.namespace)).secrets
    script, iframe = ("", "")
    if state.public_name:
        script, iframe = embed_snippets(services.settings.public_url, state.public_name)
    saved = request.query_params.get("saved", "")
    context: dict[str, Any] = {
        "limits": LimitsForm.of(state.limits),
        "origins": "\n".join(state.frame_ancestors),
        "secret_name": "",
        "new_secret_name": state.password_secret or _suggested_name(state),
        "errors": {},
        "part": "",
        "new_key": "",
    }
    context.update(values)
    return page(
        request,
        "console/access.html",
        seat,
        status,
        nav="retrievers",
        state=state,
        tiers=TIERS,
        tier_windows=TIER_WINDOWS,
        numbers=NUMBERS,
        secrets=secrets,
        script=script,
        iframe=iframe,
        saved=SAVED.get(saved, ""),
        **context,
    )


def _suggested_name(state: AccessState) -> str:
    return f"{state.public_name or 'page'}-password"[:100]


@console_view()
async def access(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: the settings; POST (editor, owner for a password typed in): one part of them,
    named by the form's `part`."""
    console = services_of(request).console.access
    retriever_id = request.path_params["retriever_id"]
    state = await call(console.state, seat.namespace, retriever_id)
    if form is None:
        return await _page(request, seat, state)
    part = text(form, "part", 40)
    needs = Role.OWNER if part == "password" else Role.EDITOR
    if not seat.may(needs):
        what = "a new password (a secret)" if part == "password" else "access settings"
        raise Forbidden(
            f"Changing {what} needs the {needs.value} role; this key's role is {seat.role.value}."
        )
    sent: dict[str, Any] = {}
    try:
        if part == "limits":
            limits = LimitsForm(
                enabled=text(form, "enabled", 10) == "on",
                tier=text(form, "tier", 40),
                numbers=tuple((n, text(form, n, 40)) for n in NUMBERS),
                enable_ip_limits=text(form, "enable_ip_limits", 10) == "on",
            )
            sent["limits"] = limits
            await call(console.set_limits, seat.namespace, retriever_id, limits)
        elif part == "secret":
            sent["secret_name"] = text(form, "secret_name", 200)
            await call(console.use_secret, seat.namespace, retriever_id, sent["secret_name"])
        elif part == "password":
            sent["new_secret_name"] = text(form, "new_secret_name", 200)
            password = text(form, "password", 10_001)  # never sent back to the page
            args = (seat.namespace, retriever_id, sent["new_secret_name"], password)
            await call(console.new_password, *args)
        elif part == "clear-password":
            await call(console.clear_password, seat.namespace, retriever_id)
        elif part == "origins":
            sent["origins"] = text(form, "origins", 20_000)
            await call(console.set_origins, seat.namespace, retriever_id, sent["origins"])
        else:
            raise InvalidInput("This form names no part of the access settings to change.")
    except InvalidInput as error:
        errors = field_errors(error, FORM_FIELDS)
        return await _page(request, seat, state, 422, errors=errors, part=part, **sent)
    target = urls.console_access(retriever_id, [("saved", part)])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@console_view(Role.OWNER)
async def rotate_key(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: the confirmation; POST: a new public key, shown on this answer only."""
    console = services_of(request).console.access
    retriever_id = request.path_params["retriever_id"]
    state = await call(console.state_or_404, seat.namespace, retriever_id)
    if form is None:
        return page(request, "console/rotate_key.html", seat, nav="retrievers", state=state)
    key = await call(console.rotate_key, seat.namespace, retriever_id)
    return await _page(request, seat, state, new_key=key)
