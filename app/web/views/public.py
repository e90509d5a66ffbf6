"""The public API: directory, config, execute, verify, interactions. No owner key."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from app.errors import invalid
from app.schemas.collections import TypeaheadResponse
from app.schemas.public import (
    ExecuteRequest,
    ExecuteResponse,
    InteractionBatchRequest,
    InteractionBatchResponse,
    InteractionRequest,
    InteractionResponse,
    ListPublicRetrieversResponse,
    PublicRetrieverConfigResponse,
    PublicRetrieverTemplate,
    VerifyPasswordRequest,
    VerifyPasswordResponse,
)
from app.schemas.search import FULL_TEXT_INPUT, SearchRequest
from app.services.cookies import UnlockCookies
from app.services.searchlog import Searched
from app.web.requests import (
    bool_param,
    call,
    caller_of,
    int_param,
    json_body,
    parse_body,
    services_of,
)
from app.web.responses import JSONAnswer, JSONResponse, respond
from app.web.routing import PUBLIC_QUERY_ERRORS, Operation, api, route

MAX_DIRECTORY_PAGE_SIZE = 100
MAX_SEARCH_CHARS = 100
MAX_TYPEAHEAD_CHARS = 100
_PUBLIC = "Public"


def set_unlock_cookie(response: Response, request: Request, public_name: str, value: str) -> None:
    """HttpOnly always; over HTTPS also Secure, SameSite=None and Partitioned, so that the
    cookie works inside another site's iframe."""
    settings = services_of(request).settings
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


@api(
    Operation(
        "Directory of published retrievers",
        _PUBLIC,
        ListPublicRetrieversResponse,
        errors=(422, 503),
        query=("page", "page_size", "search", "include_inactive"),
    )
)
async def directory(request: Request) -> Response:
    page = int_param(request, "page", 1, 1, 100_000)
    page_size = int_param(request, "page_size", 20, 1, MAX_DIRECTORY_PAGE_SIZE)
    search = request.query_params.get("search") or None
    if search is not None and len(search) > MAX_SEARCH_CHARS:
        raise invalid(
            "search",
            "too long",
            f"Query parameter 'search' is at most {MAX_SEARCH_CHARS} characters.",
        )
    inactive = bool_param(request, "include_inactive")
    listing = services_of(request).directory.listing
    return respond(await listing(page, page_size, search, inactive))


@api(
    Operation(
        "A retriever's public config",
        _PUBLIC,
        PublicRetrieverConfigResponse,
        errors=(403, 404, 429, 503),
        headers=("X-Public-API-Key", "X-Retriever-Password"),
    )
)
async def config(request: Request) -> Response:
    query = services_of(request).query
    return JSONResponse(await query.config(request.path_params["public_name"], caller_of(request)))


@api(
    Operation(
        "Search-box suggestions",
        _PUBLIC,
        TypeaheadResponse,
        errors=(401, 403, 404, 422, 429, 503),
        query=("q!", "limit"),
        headers=("X-Public-API-Key", "X-Retriever-Password"),
        query_schemas=(("limit", {"type": "integer", "minimum": 1, "maximum": 20, "default": 8}),),
    )
)
async def typeahead(request: Request) -> Response:
    services = services_of(request)
    caller = caller_of(request)
    retriever = await services.query.open(request.path_params["public_name"], caller)
    async with services.query.counting(retriever, caller, typing=True) as headers:
        prefix = request.query_params.get("q", "").strip()
        if not 1 <= len(prefix) <= MAX_TYPEAHEAD_CHARS:
            raise invalid("q", f"1 to {MAX_TYPEAHEAD_CHARS} characters")
        limit = int_param(request, "limit", 8, 1, 20)
        started = time.perf_counter()
        suggestions = await call(services.typeahead.suggest, retriever, prefix, limit)
        services.query.log.record(
            Searched(
                retriever,
                "typeahead",
                "ok",
                (time.perf_counter() - started) * 1000,
                SearchRequest(inputs={FULL_TEXT_INPUT: prefix}, page_size=limit),
                len(suggestions.suggestions),
                session_id=caller.session_id,
                address=caller.ip,
            )
        )
    return respond(suggestions, headers=headers)


@api(
    Operation(
        "A retriever as a template for your own",
        _PUBLIC,
        PublicRetrieverTemplate,
        errors=(401, 403, 404, 503),
        headers=("X-Public-API-Key", "X-Retriever-Password"),
    )
)
async def template(request: Request) -> Response:
    services = services_of(request)
    name = request.path_params["public_name"]
    url = services.publishing.page_url(name)
    return JSONResponse(await services.query.template(name, caller_of(request), url))


@api(
    Operation(
        "Run a query",
        _PUBLIC,
        ExecuteResponse,
        request=ExecuteRequest,
        errors=(*PUBLIC_QUERY_ERRORS, 413, 415),
        headers=("X-Public-API-Key", "X-Retriever-Password"),
    )
)
async def execute(request: Request) -> Response:
    query = services_of(request).query
    caller = caller_of(request)
    retriever = await query.open(request.path_params["public_name"], caller)
    body = await json_body(request, public=True)
    answer = await query.run(retriever, caller, body)
    return JSONAnswer(answer.body, answer.headers)


@api(
    Operation(
        "Check a password",
        _PUBLIC,
        VerifyPasswordResponse,
        VerifyPasswordRequest,
        (404, 413, 415, 422, 429, 503),
    )
)
async def verify(request: Request) -> Response:
    services = services_of(request)
    retriever = await services.catalog.lookup(request.path_params["public_name"])
    body = await parse_body(request, VerifyPasswordRequest, public=True)
    valid = await services.access.try_password(retriever, caller_of(request), body.password)
    response = respond(VerifyPasswordResponse(valid=valid))
    cookie = await services.access.unlock_cookie(retriever) if valid else None
    if cookie:
        set_unlock_cookie(response, request, retriever.public_name, cookie)
    return response


@api(
    Operation(
        "Record a view or click",
        _PUBLIC,
        InteractionResponse,
        InteractionRequest,
        (403, 404, 413, 415, 422, 429, 503),
        headers=("X-Public-API-Key", "X-Session-ID"),
    )
)
async def interactions(request: Request) -> Response:
    return respond(await _interactions(request, InteractionRequest))


@api(
    Operation(
        "Record a batch of interactions (up to 100)",
        _PUBLIC,
        InteractionBatchResponse,
        InteractionBatchRequest,
        (403, 404, 413, 415, 422, 429, 503),
        headers=("X-Public-API-Key", "X-Session-ID"),
    )
)
async def interaction_batch(request: Request) -> Response:
    return respond(await _interactions(request, InteractionBatchRequest))


async def _interactions(
    request: Request, model: type[InteractionRequest] | type[InteractionBatchRequest]
) -> InteractionResponse | InteractionBatchResponse:
    """Record one interaction or a batch: no password (they read nothing), but the public key
    when sent, and a limit per address that counts each interaction of a batch."""
    services = services_of(request)
    caller = caller_of(request)
    retriever = await services.query.open(
        request.path_params["public_name"], caller, password=False
    )
    body = await parse_body(request, model, public=True)
    items = body.interactions if isinstance(body, InteractionBatchRequest) else [body]
    await services.interactions.admit(retriever, caller, len(items))
    ids = await services.interactions.record(retriever, items, caller.session_id)
    if isinstance(body, InteractionBatchRequest):
        return InteractionBatchResponse(count=len(ids), interaction_ids=ids)
    return InteractionResponse(interaction_id=ids[0])


routes = [
    route("/v1/public/retrievers/", get=directory),
    route("/v1/public/retrievers/{public_name}/config", get=config),
    route("/v1/public/retrievers/{public_name}/template", get=template),
    route("/v1/public/retrievers/{public_name}/typeahead", get=typeahead),
    route("/v1/public/retrievers/{public_name}/execute", post=execute),
    route("/v1/public/retrievers/{public_name}/verify", post=verify),
    route("/v1/public/retrievers/{public_name}/interactions", post=interactions),
    route("/v1/public/retrievers/{public_name}/interactions/batch", post=interaction_batch),
]
