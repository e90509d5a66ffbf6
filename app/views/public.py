"""The public API: directory, config, execute, verify, interactions. No owner key."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.context import context_of
from app.jsonutil import JSONResponse
from app.schemas.public import (
    ExecuteRequest,
    InteractionRequest,
    VerifyPasswordRequest,
    VerifyPasswordResponse,
)
from app.searching import PublicRetriever
from app.views.common import int_param, parse_body, respond

MAX_DIRECTORY_PAGE_SIZE = 100


async def _retriever(request: Request, *, check_access: bool) -> PublicRetriever:
    searching = context_of(request).searching
    retriever = await searching.lookup(request.path_params["public_name"])
    if check_access:
        await searching.check_access(
            retriever,
            request.headers.get("x-public-api-key"),
            request.headers.get("x-retriever-password"),
        )
    return retriever


async def directory(request: Request) -> Response:
    page = int_param(request, "page", 1, 1, 100_000)
    page_size = int_param(request, "page_size", 20, 1, MAX_DIRECTORY_PAGE_SIZE)
    search = request.query_params.get("search") or None
    listing = await context_of(request).searching.directory(page, page_size, search)
    return respond(listing)


async def config(request: Request) -> Response:
    retriever = await _retriever(request, check_access=False)
    return JSONResponse(context_of(request).searching.config(retriever))


async def execute(request: Request) -> Response:
    retriever = await _retriever(request, check_access=True)
    body = await parse_body(request, ExecuteRequest)
    return JSONResponse(await context_of(request).searching.execute(retriever, body))


async def verify(request: Request) -> Response:
    retriever = await _retriever(request, check_access=False)
    body = await parse_body(request, VerifyPasswordRequest)
    valid = await context_of(request).searching.password_matches(retriever, body.password)
    return respond(VerifyPasswordResponse(valid=valid))


async def interactions(request: Request) -> Response:
    retriever = await _retriever(request, check_access=True)
    body = await parse_body(request, InteractionRequest)
    searching = context_of(request).searching
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
