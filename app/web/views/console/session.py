"""Signing in to the console with an owner key, signing out, and switching namespace."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from app import urls
from app.errors import AppError, InvalidInput, TooManyRequests, Unauthorized
from app.services.console import Seat
from app.web.requests import call, services_of
from app.web.views.console.frame import (
    NO_STORE,
    address,
    check_origin,
    clear_session,
    console_view,
    page,
    problem,
    read_form,
    seat_of,
    set_session,
    text,
)

MAX_KEY_CHARS = 500


def _next(target: str) -> str:
    return target if urls.is_console_target(target) else urls.console("collections")


async def home(request: Request) -> Response:
    seat = await seat_of(request)
    target = urls.console("collections") if seat else urls.console("sign-in")
    return RedirectResponse(target, status_code=303, headers=NO_STORE)


def _sign_in_page(
    request: Request,
    status: int = 200,
    errors: dict[str, str] | None = None,
    namespace: str = "",
    target: str | None = None,
) -> Response:
    sessions = services_of(request).console.sessions
    hours = sessions.max_age / 3600
    return page(
        request,
        "console/sign_in.html",
        None,
        status,
        token=sessions.sign_in_token(),
        session_hours=f"{hours:g} hours" if hours >= 1 else f"{sessions.max_age // 60} minutes",
        errors=errors or {},
        next=_next(request.query_params.get("next", "") if target is None else target),
        namespace=namespace,
    )


async def sign_in_form(request: Request) -> Response:
    if await seat_of(request) is not None:
        target = _next(request.query_params.get("next", ""))
        return RedirectResponse(target, status_code=303, headers=NO_STORE)
    return _sign_in_page(request)


async def sign_in(request: Request) -> Response:
    services = services_of(request)
    sessions = services.console.sessions
    try:
        check_origin(request)
    except AppError as error:
        return problem(request, None, error)
    form = await read_form(request)
    key = text(form, "key", MAX_KEY_CHARS)
    namespace = text(form, "namespace", 200)
    target = _next(text(form, "next", 2000))
    if not sessions.sign_in_token_valid(text(form, "token", 500)):
        expired = {"form": "This form has expired; enter the key again."}
        return _sign_in_page(request, 400, expired, namespace, target)
    try:
        seat = await sessions.sign_in(key, namespace, address(request))
    except Unauthorized as error:
        return _sign_in_page(request, 401, {"key": error.message}, namespace, target)
    except InvalidInput as error:
        return _sign_in_page(request, 422, {"namespace": error.message}, namespace, target)
    except TooManyRequests as error:
        response = _sign_in_page(request, 429, {"form": error.message}, namespace, target)
        response.headers.update(error.headers)
        return response
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    set_session(response, request, sessions.cookie(seat), sessions.max_age)
    return response


@console_view()
async def sign_out(request: Request, seat: Seat, form: FormData | None) -> Response:
    response = RedirectResponse(urls.console("sign-in"), status_code=303, headers=NO_STORE)
    clear_session(response, request)
    return response


@console_view()
async def switch_namespace(request: Request, seat: Seat, form: FormData | None) -> Response:
    sessions = services_of(request).console.sessions
    switched = await call(sessions.switch, seat, text(form, "namespace", 200))
    target = _next(text(form, "next", 2000))
    # A page of one namespace (a collection's) may not be in the next one: back to the list.
    if target.startswith(urls.console("collections") + "/"):
        target = urls.console("collections")
    response = RedirectResponse(target, status_code=303, headers=NO_STORE)
    set_session(response, request, sessions.cookie(switched), sessions.max_age)
    return response
