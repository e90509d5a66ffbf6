"""The pages end users see: the search page, its embed, the password form, the directory."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from app import urls
from app.crypto import derive_key
from app.errors import AppError, BadRequest, Forbidden, PasswordRequired
from app.paths import STATIC_DIR
from app.rendering.card_slots import title_field
from app.rendering.cards import PAGE_SIZE, Links, cards
from app.rendering.facets import Choices, select
from app.rendering.filters import canonical, chips, clear_url, panel, url, value_labeller
from app.rendering.form import FormState, form_state
from app.rendering.formats import truncate
from app.rendering.page_kinds import result_layout, template_of
from app.schemas.extensions import typeahead_on
from app.schemas.search import FULL_TEXT_INPUT, FacetCount, Results
from app.services.access import Caller
from app.services.catalog import PublicRetriever
from app.services.query import words_kept
from app.services.searchlog import Surface
from app.services.wiring import Services
from app.web.requests import call, caller_of, services_of
from app.web.templates import frame_ancestors, origin_allowed, render
from app.web.views.public import set_unlock_cookie

CSRF_MAX_AGE_SECONDS = 3600


def _csrf(request: Request) -> URLSafeTimedSerializer:
    key = derive_key(services_of(request).settings.effective_secret_key, b"page-forms-v1")
    return URLSafeTimedSerializer(key, salt="unlock-form")


def _page_url(items: list[tuple[str, str]], base: str, **changes: Any) -> str:
    params = [(k, v) for k, v in items if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    return urls.with_query(base, params)


async def search_page(request: Request) -> Response:
    services = services_of(request)
    name = request.path_params["public_name"]
    caller = caller_of(request, page=True)
    base = request.url.path
    try:
        retriever = await services.query.open(name, caller)
    except PasswordRequired:
        here = _page_url(request.query_params.multi_items(), base)
        return await password_page(request, name, here)
    return await page_response(request, retriever, caller)


async def page_response(
    request: Request,
    retriever: PublicRetriever,
    caller: Caller,
    *,
    preview: bool = False,
    headers: dict[str, str] | None = None,
) -> Response:
    """The search page of `retriever` for this request's query. A `preview` (the console's,
    of a draft) is neither counted nor logged, and only the console may frame it."""
    status, headers, values = await search_values(
        request, retriever, caller, preview=preview, headers=headers
    )
    partial = request.headers.get("x-partial") == "results"
    template = "_results.html" if partial else "search.html"
    ancestors = "'self'" if preview else None
    return render(request, template, status, retriever, headers, None, ancestors, **values)


async def search_values(
    request: Request,
    retriever: PublicRetriever,
    caller: Caller,
    *,
    preview: bool = False,
    headers: dict[str, str] | None = None,
    keep: tuple[str, ...] = (),
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """What a search page of `retriever` shows for this request's query (the status, the
    headers and the templates' values), for the page itself and for a tab of a page of tabs
    (`keep`: its own query parameters, such as the tab, that its links carry)."""
    services = services_of(request)
    base = request.url.path
    display = retriever.display
    state = form_state(display, request.query_params)
    wants_panel = bool(display.components and display.components.show_filters)
    choices = await services.browse.choices(retriever)
    if not wants_panel:
        choices = Choices(sorts=choices.sorts)
    chosen = select(request.query_params, choices)
    results: Results | None = None
    problem: AppError | None = None
    headers = dict(headers or {})
    counts: dict[str, list[FacetCount]] = {}
    if (state.can_search or chosen.similar_to) and not any(c.error for c in state.controls):
        try:
            surface: Surface = "embed" if base.endswith("/embed") else "page"
            found = await services.browse.search(
                retriever,
                caller,
                state.inputs,
                chosen,
                choices,
                state.page,
                PAGE_SIZE,
                surface,
                counted=not preview,
            )
            results, counts = found.answer.results, found.counts
            headers.update(found.answer.headers)
        except AppError as error:
            # The publisher's own page, its form and query kept, saying what went wrong (a 429
            # says how long to wait; a store outage when to come back: their Retry-After and
            # RateLimit headers go out with it).
            problem = error
            headers.update(error.headers)
    status = problem.status if problem else 200
    page_size = results.page_size if results else PAGE_SIZE
    items = canonical(
        request.query_params.multi_items(), [*(i.field_name for i in display.inputs), *keep], chosen
    )
    links = Links(retriever.public_name, urlencode(items))
    label = value_labeller(display)
    values: dict[str, Any] = {
        "state": state,
        "selection": chosen,
        "result": results,
        "problem": problem,
        "cards": cards(
            display,
            results.documents if results else [],
            (state.page - 1) * page_size,
            services.clock(),
            services.renderers,
            retriever.frames,
            links,
        ),
        "panel": panel(choices, chosen, counts, label) if wants_panel else [],
        "chips": chips(base, items, chosen, label),
        # Each link drawn only where it shows: with chips or a panel, with a similar item.
        "clear_url": clear_url(base, items, chosen) if wants_panel or chosen.active else None,
        "unsimilar_url": url(base, items, frozenset({("similar_to", None)}))
        if chosen.similar_to
        else None,
        "similar_title": await _similar_title(services, retriever, caller, chosen.similar_to),
        "left_out": _left_out(state.inputs, results),
        "did_you_mean": await _did_you_mean(
            services, retriever, state.inputs, results, items, base
        ),
        "sorts": choices.sorts,
        "layout": result_layout(display),
        "kind": template_of(display),
        "prev_url": _page_url(items, base, page=state.page - 1 if state.page > 2 else None)
        if state.page > 1
        else None,
        "next_url": _page_url(items, base, page=state.page + 1)
        if results and results.has_next
        else None,
        "canonical": (display.seo.canonical_url if display.seo else None)
        or urls.absolute(services.settings.public_url, urls.page(retriever.public_name)),
        "parent_origin": parent_origin(request, retriever),
        "typeahead_url": None if preview else _typeahead_url(retriever, state),
        "preview": preview,
    }
    # One URL, two bodies (the page, or its results for the script): caches must tell them
    # apart, and a fragment is never worth keeping.
    headers["Vary"] = "X-Partial"
    if request.headers.get("x-partial") == "results":
        headers["Cache-Control"] = "no-store"
    return status, headers, values


async def password_page(request: Request, name: str, target: str) -> Response:
    """The form that asks for a retriever's password (a 200: a page, not a refused call)."""
    services = services_of(request)
    retriever = await services.catalog.lookup(name)
    return render(
        request, "password.html", 200, retriever, **unlock_form(request, retriever, target)
    )


def unlock_form(request: Request, retriever: PublicRetriever, target: str) -> dict[str, Any]:
    """The password form's values: a signed token for this retriever, and where to go back."""
    token = _csrf(request).dumps(retriever.record.public_id)
    return {"token": token, "next": target, "failed": False}


async def _similar_title(
    services: Services, retriever: PublicRetriever, caller: Caller, document_id: str | None
) -> str | None:
    """The title of the item whose similar items a page lists (None if it is gone)."""
    if document_id is None:
        return None
    try:
        found = await services.query.document(retriever, caller, document_id, counted=False)
    except AppError:
        return None
    title = found.document.get(title_field(retriever.display))
    return truncate(str(title), 80) if title not in (None, "") else None


async def _did_you_mean(
    services: Services,
    retriever: PublicRetriever,
    inputs: dict[str, Any],
    results: Results | None,
    items: list[tuple[str, str]],
    base: str,
) -> dict[str, str] | None:
    """When the query found nothing: a query near it that finds something, and the page's
    URL with it instead (filters kept)."""
    text = inputs.get(FULL_TEXT_INPUT)
    if results is None or results.total or not isinstance(text, str) or not text.strip():
        return None
    better = await call(services.typeahead.did_you_mean, retriever, text)
    if better is None:
        return None
    return {
        "query": better,
        "url": _page_url(items, base, **{FULL_TEXT_INPUT: better, "page": None}),
    }


def _left_out(inputs: dict[str, Any], results: Results | None) -> dict[str, str] | None:
    """What the results header says when no document had every word: the query as typed,
    and the words the best results have."""
    left_out = list(results.words_left_out) if results else []
    text = inputs.get(FULL_TEXT_INPUT)
    if not left_out or not isinstance(text, str):
        return None
    return {"query": text, "showing": " ".join(words_kept(text, left_out))}


def _typeahead_url(retriever: PublicRetriever, state: FormState) -> str | None:
    """Where the search box asks for suggestions as one types: the public typeahead, over this
    server's engine (an upstream has none), unless the publisher turned it off or the page
    shows no search box."""
    components = retriever.display.components
    shown = not components or components.show_search
    has_box = any(c.name == FULL_TEXT_INPUT and c.widget == "text" for c in state.controls)
    local = retriever.backend.type == "local"
    if not (shown and has_box and local and typeahead_on(retriever.display.extensions)):
        return None
    return urls.public_typeahead(retriever.public_name)


def parent_origin(request: Request, retriever: PublicRetriever) -> str | None:
    """The embedding site's origin, if the publisher allows that site to frame the page."""
    return origin_among(request, frame_ancestors(retriever))


def origin_among(request: Request, ancestors: list[str]) -> str | None:
    """The embedding site's origin (`?origin=`), if one of `ancestors` allows it."""
    origin = request.query_params.get("origin", "")
    if not origin:
        return None
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    if any(origin_allowed(pattern, origin) for pattern in ancestors):
        return origin
    return None


async def unlock(request: Request) -> Response:
    services = services_of(request)
    retriever = await services.catalog.lookup(request.path_params["public_name"])
    form = await request.form()
    base = urls.page(retriever.record.public_name)
    target = str(form.get("next") or base)
    name = retriever.record.public_name
    if not (urls.is_page_target(name, target) or urls.is_tab_page_target(target)):
        target = base
    origin = request.headers.get("origin")
    own = urlsplit(services.settings.public_url)
    request_origin = f"{request.url.scheme}://{request.url.netloc}"
    if origin and origin not in (f"{own.scheme}://{own.netloc}", request_origin):
        raise Forbidden("This form was sent from another site.")
    try:
        signed = _csrf(request).loads(str(form.get("token", "")), max_age=CSRF_MAX_AGE_SECONDS)
    except (BadSignature, SignatureExpired):
        signed = None
    if signed != retriever.record.public_id:
        raise BadRequest("The form has expired; please enter the password again.")
    password = str(form.get("password", ""))
    valid = bool(password) and await services.access.try_password(
        retriever, caller_of(request), password
    )
    if not valid:
        token = _csrf(request).dumps(retriever.record.public_id)
        return render(
            request, "password.html", 200, retriever, token=token, next=target, failed=True
        )
    response = RedirectResponse(target, status_code=303)
    cookie = await services.access.unlock_cookie(retriever)
    if cookie:
        set_unlock_cookie(response, request, retriever.record.public_name, cookie)
    return response


async def directory(request: Request) -> Response:
    query = request.query_params.get("q", "")[:100]
    listing = await services_of(request).directory.listing(1, 100, query or None)
    return render(request, "directory.html", 200, None, listing=listing, query=query)


async def embed_script(request: Request) -> Response:
    return FileResponse(
        STATIC_DIR / "embed.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"},
    )


routes = [
    Route("/", directory, methods=["GET"]),
    Route("/embed.js", embed_script, methods=["GET"]),
    Route("/r/{public_name}", search_page, methods=["GET"]),
    Route("/r/{public_name}/embed", search_page, methods=["GET"]),
    Route("/r/{public_name}/unlock", unlock, methods=["POST"]),
]
