"""The public API: directory, config, execute, verify, interactions. No owner key."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.clientip import client_ip
from app.context import context_of
from app.errors import AppError, InvalidInput
from app.jsonutil import JSONResponse
from app.passwords import UnlockCookies
from app.schemas.public import (
    ExecuteRequest,
    InteractionRequest,
    VerifyPasswordRequest,
    VerifyPasswordResponse,
)
from app.searching import Caller, PublicRetriever
from app.views.common import int_param, parse_body, respond

MAX_DIRECTORY_PAGE_SIZE = 100
MAX_SEARCH_CHARS = 100


def caller_of(request: Request) -> Caller:
    settings = context_of(request).settings
    peer = request.client.host if request.client else None
    return Caller(
        ip=client_ip(peer, request.headers.get("x-forwarded-for"), settings.trusted_proxies),
        api_key=request.headers.get("x-public-api-key"),
        password=request.headers.get("x-retriever-password"),
        cookie=request.cookies.get(UnlockCookies.name(request.path_params["public_name"])),
    )


def set_unlock_cookie(response: Response, request: Request, public_name: str, value: str) -> None:
    """HttpOnly always; over HTTPS also Secure, SameSite=None and Partitioned, so that the
    cookie works inside another site's iframe."""
    settings = context_of(request).settings
    attributes = [
        f"{UnlockCookies.name(public_name)}={value}",
        f"Max-Age={settings.unlock_cookie_max_age_seconds}",
        "Path=/",
        "HttpOnly",
    ]
    if settings.public_url.startswith("https://"):
        attributes += ["Secure", "SameSite=None", "Partitioned"]
    else:
        attributes.append("SameSite=Lax")
    # Written by hand: the standard library learns the Partitioned attribute only in 3.14.
    response.headers.append("set-cookie", "; ".join(attributes))


async def _retriever(request: Request) -> PublicRetriever:
    return await context_of(request).searching.lookup(request.path_params["public_name"])


async def directory(request: Request) -> Response:
    page = int_param(request, "page", 1, 1, 100_000)
    page_size = int_param(request, "page_size", 20, 1, MAX_DIRECTORY_PAGE_SIZE)
    search = request.query_params.get("search") or None
    if search is not None and len(search) > MAX_SEARCH_CHARS:
        raise InvalidInput(
            f"Query parameter 'search' is at most {MAX_SEARCH_CHARS} characters.",
            details={"errors": [{"field": "search", "message": "too long"}]},
        )
    listing = await context_of(request).searching.directory(page, page_size, search)
    return respond(listing)


async def config(request: Request) -> Response:
    retriever = await _retriever(request)
    return JSONResponse(context_of(request).searching.config(retriever))


async def execute(request: Request) -> Response:
    searching = context_of(request).searching
    retriever = await _retriever(request)
    caller = caller_of(request)
    await searching.check_access(retriever, caller)
    decision = await searching.admit(retriever, caller)
    headers = decision.headers() if decision else {}
    try:
        body = await parse_body(request, ExecuteRequest)
        result = await searching.execute(retriever, body)
    except AppError as error:
        # Counted, so it says how much is left, whatever went wrong after.
        error.headers.update(headers)
        raise
    return JSONResponse(result, headers=headers)


async def verify(request: Request) -> Response:
    searching = context_of(request).searching
    retriever = await _retriever(request)
    body = await parse_body(request, VerifyPasswordRequest)
    valid = await searching.try_password(retriever, caller_of(request), body.password)
    response = respond(VerifyPasswordResponse(valid=valid))
    cookie = await searching.unlock_cookie(retriever) if valid else None
    if cookie:
        set_unlock_cookie(response, request, retriever.record.public_name, cookie)
    return response


async def interactions(request: Request) -> Response:
    searching = context_of(request).searching
    retriever = await _retriever(request)
    caller = caller_of(request)
    await searching.check_access(retriever, caller)
    await searching.admit_interaction(retriever, caller)
    body = await parse_body(request, InteractionRequest)
    recorded = await searching.record_interaction(
        retriever, body, request.headers.get("x-session-id")
    )
    return respond(recorded)


routes = [
    Route("/v1/public/retrievers/", directory, methods=["GET"]),
    Route("/v1/public/retrievers/{public_name}/config", config, methods=["GET"]),
    Route("/v1/public/retrievers/{public_name}/execute", execute, methods=["POST"]),
    Route("/v1/public/retrievers/{public_name}/verify", verify, methods=["POST"]),
    Route("/v1/public/retrievers/{public_name}/interactions", interactions, methods=["POST"]),
]
