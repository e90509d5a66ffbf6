"""The pages end users see: the search page, its embed, the password form, the directory."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode, urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from app.context import context_of
from app.crypto import derive_key
from app.errors import AppError, BadRequest, Forbidden
from app.inputs import validate_inputs
from app.paths import STATIC_DIR, TEMPLATES_DIR
from app.ratelimit import TooManyRequests
from app.rendering.markdown import render_markdown
from app.rendering.page import PAGE_SIZE, cards, form_state
from app.searching import PublicRetriever
from app.views.public import caller_of, set_unlock_cookie

CSRF_MAX_AGE_SECONDS = 3600
templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # templates ship with the release: no stat() of every file per page
)
templates.filters["markdown"] = render_markdown


def _frame_ancestors(retriever: PublicRetriever | None) -> str:
    extensions = (retriever.display.extensions or {}) if retriever else {}
    allowed = extensions.get("frame_ancestors") or []
    return " ".join(["'self'", *allowed])


def _security_headers(nonce: str, retriever: PublicRetriever | None) -> dict[str, str]:
    policy = (
        "default-src 'none'; script-src 'self'; "
        f"style-src 'self' 'nonce-{nonce}'; img-src 'self' https: data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {_frame_ancestors(retriever)}"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def render(
    request: Request,
    template: str,
    status: int = 200,
    retriever: PublicRetriever | None = None,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """Every page goes through here: one context, one set of security headers."""
    ctx = context_of(request)
    nonce = secrets.token_urlsafe(16)
    context = {
        "request": request,
        "nonce": nonce,
        "public_url": ctx.settings.public_url,
        "retriever": retriever,
        "display": retriever.display if retriever else None,
        "theme_css": retriever.theme_css if retriever else "",
        "embed": request.url.path.endswith("/embed"),
        **values,
    }
    html = templates.get_template(template).render(context)
    return HTMLResponse(
        html, status_code=status, headers={**_security_headers(nonce, retriever), **(headers or {})}
    )


def error_page(
    request: Request, error: AppError, retriever: PublicRetriever | None = None
) -> Response:
    return render(
        request, "error.html", error.status, retriever, headers=error.headers, error=error
    )


def _csrf(request: Request) -> URLSafeTimedSerializer:
    key = derive_key(context_of(request).settings.effective_secret_key, b"page-forms-v1")
    return URLSafeTimedSerializer(key, salt="unlock-form")


def _page_url(request: Request, base: str, **changes: Any) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, str(v)) for k, v in changes.items() if v is not None]
    return base + ("?" + urlencode(params) if params else "")


async def search_page(request: Request) -> Response:
    ctx = context_of(request)
    retriever = await ctx.searching.lookup(request.path_params["public_name"])
    caller = caller_of(request)
    base = request.url.path
    if not await ctx.searching.unlocked(retriever, caller):
        token = _csrf(request).dumps(retriever.record.public_id)
        return render(  # 200: a page asking for a password, not a refused API call
            request,
            "password.html",
            200,
            retriever,
            token=token,
            next=_page_url(request, base),
            failed=False,
        )

    display = retriever.display
    state = form_state(display, request.query_params)
    result: dict[str, Any] | None = None
    problem: AppError | None = None
    headers: dict[str, str] = {}
    page_size = min(PAGE_SIZE, retriever.rate_limit.max_results_per_query)
    if state.can_search and not any(c.error for c in state.controls):
        try:
            decision = await ctx.searching.admit(retriever, caller)
            headers = decision.headers() if decision else {}
            inputs = validate_inputs(display.inputs, state.inputs)
            result = await ctx.searching.search(retriever, inputs, state.page, page_size)
        except TooManyRequests:
            raise  # a whole page that says how long to wait
        except AppError as error:
            problem = error
    status = problem.status if problem else 200
    found = result["documents"] if result else []
    paging = result["pagination"] if result else None
    values = {
        "state": state,
        "result": result,
        "problem": problem,
        "cards": cards(display, found, (state.page - 1) * page_size, ctx.clock()),
        "paging": paging,
        "prev_url": _page_url(request, base, page=state.page - 1 if state.page > 2 else None)
        if state.page > 1
        else None,
        "next_url": _page_url(request, base, page=state.page + 1)
        if paging and paging["has_next"]
        else None,
        "canonical": (display.seo.canonical_url if display.seo else None)
        or f"{ctx.settings.public_url}/r/{retriever.record.public_name}",
        "parent_origin": _parent_origin(request, retriever),
    }
    partial = request.headers.get("x-partial") == "results"
    template = "_results.html" if partial else "search.html"
    return render(request, template, status, retriever, headers=headers, **values)


def _parent_origin(request: Request, retriever: PublicRetriever) -> str | None:
    """The embedding site's origin, if the publisher allows that site to frame the page."""
    origin = request.query_params.get("origin", "")
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    allowed = (retriever.display.extensions or {}).get("frame_ancestors") or []
    for pattern in allowed:
        if (
            pattern == "*"
            or pattern == origin
            or (pattern.endswith(":*") and origin.rsplit(":", 1)[0] == pattern[:-2])
        ):
            return origin
    return None


async def unlock(request: Request) -> Response:
    ctx = context_of(request)
    retriever = await ctx.searching.lookup(request.path_params["public_name"])
    form = await request.form()
    base = f"/r/{retriever.record.public_name}"
    target = str(form.get("next") or base)
    if not (target == base or target.startswith((base + "?", base + "/embed"))):
        target = base
    origin = request.headers.get("origin")
    own = urlsplit(ctx.settings.public_url)
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
    valid = bool(password) and await ctx.searching.try_password(
        retriever, caller_of(request), password
    )
    if not valid:
        token = _csrf(request).dumps(retriever.record.public_id)
        return render(
            request, "password.html", 200, retriever, token=token, next=target, failed=True
        )
    response = RedirectResponse(target, status_code=303)
    cookie = await ctx.searching.unlock_cookie(retriever)
    if cookie:
        set_unlock_cookie(response, request, retriever.record.public_name, cookie)
    return response


async def directory(request: Request) -> Response:
    query = request.query_params.get("q", "")[:100]
    listing = await context_of(request).searching.directory(1, 100, query or None)
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
