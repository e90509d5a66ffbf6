"""The console's plugins: those installed in the namespace, the marketplace's listings to
install with one click, and uninstalling one after a confirmation. Each change is the API's
own call (`Marketplace.install`, `Plugins.delete`), with the API's roles and errors."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import Conflict, InvalidInput, NotFound, from_validation_error
from app.schemas.marketplace import InstallPluginRequest
from app.schemas.roles import Role
from app.services.console import Seat
from app.services.console_retrievers import field_errors
from app.services.keys import Owner
from app.web.requests import call, int_param, services_of, text_param
from app.web.views.console.frame import NO_STORE, console_view, page, text

MAX_INSTALLED = 100
LISTINGS_PER_PAGE = 24
_INSTALL_FIELDS = {"public_name": "form", "tag": "tag"}


def owner_of(seat: Seat) -> Owner:
    """The session as the API's caller: its namespace and role."""
    return Owner(seat.namespace, seat.role)


async def _page(request: Request, seat: Seat, status: int = 200, **values: Any) -> Response:
    services = services_of(request)
    owner = owner_of(seat)
    query = text_param(request, "q")
    number = int_param(request, "page", 0, 0, 100_000)
    installed = await call(services.plugins.list, owner, 0, MAX_INSTALLED, True)
    listing = await call(services.marketplace.search, query, None, None, number, LISTINGS_PER_PAGE)
    ids = [item.public_id for item in listing.plugins]
    have = await call(services.console.plugins.installed, seat.namespace, ids)
    context: dict[str, Any] = {"refused": "", "errors": {}, "tag": ""}
    context.update(values)
    return page(
        request,
        "console/plugins.html",
        seat,
        status,
        nav="plugins",
        installed=installed,
        listing=listing,
        have=have,
        query=query or "",
        done=request.query_params.get("installed", "")[:200],
        removed=request.query_params.get("uninstalled", "")[:200],
        **context,
    )


@console_view()
async def plugins(request: Request, seat: Seat, form: FormData | None) -> Response:
    return await _page(request, seat)


@console_view(Role.EDITOR)
async def install(request: Request, seat: Seat, form: FormData | None) -> Response:
    """A listing installed in the namespace, under its own tag or the one sent."""
    assert form is not None
    public_name = text(form, "public_name", 200)
    tag = text(form, "tag", 200).strip()
    body: dict[str, Any] = {"public_name": public_name}
    if tag:
        body["tag"] = tag
    marketplace = services_of(request).marketplace
    try:
        try:
            sent = InstallPluginRequest.model_validate(body)
        except ValidationError as error:
            raise from_validation_error(error) from None
        plugin = await call(marketplace.install, owner_of(seat), sent)
    except InvalidInput as error:
        errors = field_errors(error, _INSTALL_FIELDS)
        return await _page(request, seat, 422, refused=public_name, errors=errors, tag=tag)
    except (Conflict, NotFound) as error:
        # The tag taken is the one refusal another tag answers: the field to change is it.
        field = "tag" if error.message.startswith("A plugin tagged") else "form"
        errors = {field: error.message}
        status = error.status
        return await _page(request, seat, status, refused=public_name, errors=errors, tag=tag)
    target = urls.console("plugins", [("installed", plugin.tag)])
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


@console_view(Role.OWNER)
async def uninstall(request: Request, seat: Seat, form: FormData | None) -> Response:
    """GET: the confirmation; POST: the plugin gone from the namespace (refused while a
    published retriever draws a field with it)."""
    services = services_of(request)
    owner = owner_of(seat)
    plugin = await call(services.plugins.get, owner, request.path_params["tag"])
    error = None
    if form is not None:
        try:
            await call(services.plugins.delete, owner, plugin.tag)
        except Conflict as refused:
            error = refused
        else:
            target = urls.console("plugins", [("uninstalled", plugin.tag)])
            return RedirectResponse(target, status_code=303, headers=NO_STORE)
    status = error.status if error else 200
    message = error.message if error else None
    return page(
        request, "console/uninstall.html", seat, status, nav="plugins", plugin=plugin, error=message
    )
