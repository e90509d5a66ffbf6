"""What every console page shares: the session read from its cookie, the checks a form
passes (the session's token, this site's origin, the role it needs), and the page itself,
rendered in the console's layout, never cached, never framed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import AppError, Forbidden, InvalidInput, Unauthorized
from app.schemas.roles import Role
from app.services.console import Seat
from app.web.clientip import client_ip
from app.web.requests import call, services_of
from app.web.templates import render

COOKIE = "rp_console"
NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY"}
MAX_FORM_FIELDS = 200
MAX_FORM_FILES = 1

View = Callable[[Request, Seat, FormData | None], Awaitable[Response]]


def page(
    request: Request,
    template: str,
    seat: Seat | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> Response:
    """A console page, with the session's namespace, role, switcher and form token."""
    console = services_of(request).console.sessions
    context: dict[str, Any] = {"seat": seat, "csrf": "", "namespaces": [], "here": _here(request)}
    if seat is not None:
        context["csrf"] = console.csrf_token(seat)
        context["namespaces"] = console.namespaces(seat)
    context.update(values)
    response = render(
        request,
        template,
        status,
        None,
        headers={**NO_STORE, **(headers or {})},
        ancestors="'none'",
        **context,
    )
    body = bytes(response.body)
    if b"\x00" in body:
        # A NUL in a stored value is shown as a browser would show it, and never sent raw.
        response.body = body.replace(b"\x00", "\ufffd".encode())
        response.headers["content-length"] = str(len(response.body))
    return response


def problem(request: Request, seat: Seat | None, error: AppError) -> Response:
    """An error as a console page: what went wrong, and the way on."""
    return page(
        request, "console/problem.html", seat, error.status, dict(error.headers), error=error
    )


def _here(request: Request) -> str:
    return urls.with_query(request.url.path, request.url.query)


def set_session(response: Response, request: Request, value: str, max_age: int) -> None:
    """HttpOnly, SameSite=Strict, only under /console; Secure over HTTPS."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        COOKIE,
        value,
        max_age=max_age,
        path=urls.CONSOLE,
        httponly=True,
        secure=secure,
        samesite="strict",
    )


def clear_session(response: Response, request: Request) -> None:
    response.delete_cookie(
        COOKIE,
        path=urls.CONSOLE,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


async def seat_of(request: Request) -> Seat | None:
    sessions = services_of(request).console.sessions
    return await call(sessions.open, request.cookies.get(COOKIE))


def address(request: Request) -> str:
    settings = services_of(request).settings
    peer = request.client.host if request.client else None
    forwarded = ",".join(request.headers.getlist("x-forwarded-for")) or None  # every line
    return client_ip(peer, forwarded, settings.trusted_proxies)


def check_origin(request: Request) -> None:
    """A form must come from this site: a browser names the page's origin in `Origin`."""
    origin = request.headers.get("origin")
    if origin is None:
        return  # SameSite=Strict and the token stand alone
    own = urlsplit(services_of(request).settings.public_url)
    here = f"{request.url.scheme}://{request.url.netloc}"
    if origin not in (f"{own.scheme}://{own.netloc}", here):
        raise Forbidden("This form was sent from another site.")


async def read_form(request: Request, max_fields: int = MAX_FORM_FIELDS) -> FormData:
    """The form sent. One the parser cannot read (more fields than `max_fields`, a multipart
    body without its boundary) is bad input, told as such (422) with the parser's reason."""
    try:
        return await request.form(max_files=MAX_FORM_FILES, max_fields=max_fields)
    except HTTPException as error:
        if error.status_code != 400:
            raise
        raise InvalidInput(
            f"This form could not be read: {error.detail}",
            details={"max_fields": max_fields, "max_files": MAX_FORM_FILES},
        ) from None


def console_view(
    needs: Role = Role.VIEWER, max_fields: int = MAX_FORM_FIELDS
) -> Callable[[View], Callable[[Request], Any]]:
    """A console endpoint: signed in (else the sign-in page, or 401 for a form), its form
    checked (the session's token and this site's origin, else 403), its role enough (else
    403); an `AppError` it raises is shown as a console page."""

    def decorate(view: View) -> Callable[[Request], Any]:
        @wraps(view)
        async def endpoint(request: Request) -> Response:
            seat = await seat_of(request)
            if seat is None:
                if request.method == "GET":
                    target = urls.console("sign-in", [("next", _here(request))])
                    return RedirectResponse(target, status_code=303, headers=NO_STORE)
                error = Unauthorized("Your session has ended; sign in again.")
                return problem(request, None, error)
            form = None
            try:
                if request.method == "POST":
                    check_origin(request)
                    form = await read_form(request, max_fields)
                    token = form.get("csrf")
                    sessions = services_of(request).console.sessions
                    if not isinstance(token, str) or not sessions.csrf_valid(seat, token):
                        raise Forbidden("This form has expired; go back, reload and try again.")
                if not seat.may(needs):
                    raise Forbidden(
                        f"This needs the {needs.value} role; this key's role is {seat.role.value}."
                    )
                return await view(request, seat, form)
            except AppError as error:
                return problem(request, seat, error)
            finally:
                if form is not None:
                    await form.close()

        return endpoint

    return decorate


def text(form: FormData | None, name: str, max_chars: int = 10_000) -> str:
    """A text field of a form ('' when absent), cut at `max_chars`."""
    value = form.get(name) if form is not None else None
    return value[:max_chars] if isinstance(value, str) else ""
