"""Reading a request: the app's services, a JSON body, paging, the owner, the public caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from starlette.requests import ClientDisconnect, Request

from app.adapters.threads import in_thread
from app.errors import UnsupportedMediaType, invalid
from app.schemas.parsing import parse_json
from app.schemas.roles import Role
from app.services.access import Caller
from app.services.cookies import UnlockCookies
from app.services.keys import Owner
from app.services.wiring import Services
from app.web.clientip import client_ip
from app.web.middleware.private import mark_private

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

DEFAULT_PAGE_LIMIT = 20
MAX_PAGE_LIMIT = 100
MAX_SESSION_ID_CHARS = 100  # as an interaction body's own session_id


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def json_body(request: Request, *, public: bool = False) -> bytes:
    """The body, once its Content-Type says JSON (415 otherwise).

    On the public API a missing Content-Type is refused too: a cross-site page can POST a body
    without one with no CORS preflight, and must not spend a retriever's limits or write its
    interactions that way. (Owner calls need an Authorization header, which a cross-site
    request cannot send without a preflight, so a bare body is taken as JSON there.)
    """
    content_type = None
    for name, value in request.scope["headers"]:  # the first, as Starlette's `Headers.get`
        if name == b"content-type":
            content_type = value.decode("latin-1")
            break
    if content_type is None and not public:
        content_type = "application/json"
    if content_type is None:
        raise UnsupportedMediaType(
            "Send the body as JSON with Content-Type: application/json (none was sent)."
        )
    if not content_type.split(";")[0].strip().lower().endswith(("/json", "+json")):
        raise UnsupportedMediaType(
            f"Send the body as JSON (Content-Type: application/json), not {content_type[:80]!r}."
        )
    return await body_of(request)


async def body_of(request: Request) -> bytes:
    """`request.body()`, read off `receive` in a loop rather than through Starlette's stream
    generator (a few microseconds of every JSON call); the request is left as `body()` leaves
    it, so that a later read gets the same bytes."""
    if hasattr(request, "_body") or request._stream_consumed:
        return await request.body()
    chunks: list[bytes] = []
    while True:
        message = await request.receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            if chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        elif message["type"] == "http.disconnect":
            request._is_disconnected = True
            raise ClientDisconnect()
    request._stream_consumed = True
    request._body = body = b"".join(chunks)
    return body


async def parse_body(request: Request, model: type[M], *, public: bool = False) -> M:
    return parse_json(model, await json_body(request, public=public))


MAX_TEXT_PARAM_CHARS = 200


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    # A number too long to be in range is refused before it is read (Python refuses to read
    # one past 4,300 digits, with an error of its own).
    digits = raw.lstrip("-")
    if not digits.isdigit() or len(digits) > len(str(high)) or not low <= int(raw) <= high:
        raise invalid(
            name,
            f"integer {low}..{high}",
            f"Query parameter {name!r} must be a whole number from {low} to {high}, "
            f"not {raw[:40]!r}.",
        )
    return int(raw)


def text_param(request: Request, name: str, max_chars: int = MAX_TEXT_PARAM_CHARS) -> str | None:
    """A free-text query parameter: None when absent or blank, 422 when too long."""
    value = request.query_params.get(name, "").strip()
    if len(value) > max_chars:
        raise invalid(
            name, "too long", f"Query parameter {name!r} is at most {max_chars} characters."
        )
    return value or None


def bool_param(request: Request, name: str) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return False
    if raw.lower() not in ("true", "false", "1", "0"):
        raise invalid(name, "true or false", f"Query parameter {name!r} is true or false.")
    return raw.lower() in ("true", "1")


def paging(request: Request) -> tuple[int, int]:
    """`limit`/`offset`, or the SDK's `page`/`page_size`, as (limit, offset)."""
    if "page" in request.query_params or "page_size" in request.query_params:
        size = int_param(request, "page_size", DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT)
        page = int_param(request, "page", 1, 1, 100_000)
        return size, (page - 1) * size
    limit = int_param(request, "limit", DEFAULT_PAGE_LIMIT, 1, MAX_PAGE_LIMIT)
    return limit, int_param(request, "offset", 0, 0, 10_000_000)


async def owner_of(
    request: Request, needs: Role = Role.VIEWER, *, header_optional: bool = False
) -> Owner:
    """The owner making a call (namespace and role), once its key may make it."""
    keys = services_of(request).keys
    return await in_thread(
        keys.owner,
        request.headers.get("authorization"),
        request.headers.get("x-namespace"),
        header_optional=header_optional,
        needs=needs,
    )


async def owner_namespace(
    request: Request, needs: Role = Role.VIEWER, *, header_optional: bool = False
) -> str:
    """The namespace an owner call acts in, once its key may make it (`needs` a role)."""
    return (await owner_of(request, needs, header_optional=header_optional)).namespace


async def call(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking service call off the event loop."""
    return await in_thread(fn, *args)


# The headers a public caller is read from: found in one pass over the request's headers
# (the first of each, as Starlette's `Headers.get` gives, but every line of X-Forwarded-For),
# rather than one pass apiece.
_CALLER_HEADERS = frozenset(
    (b"x-forwarded-for", b"x-public-api-key", b"x-retriever-password", b"x-session-id", b"cookie")
)


def caller_of(request: Request, *, page: bool = False, public_name: str | None = None) -> Caller:
    """The public caller. A page is opened by its unlock cookie only, never by headers.
    `public_name`: whose cookie, when the path does not name the retriever (a page of tabs)."""
    settings = services_of(request).settings
    client = request.scope.get("client")
    found: dict[bytes, str] = {}
    for name, value in request.scope["headers"]:
        if name in _CALLER_HEADERS:
            if name not in found:
                found[name] = value.decode("latin-1")
            elif name == b"x-forwarded-for":
                # Its lines are one list, in order (RFC 9110, 5.3): a proxy may add its own
                # after the client's, and the first line alone is the client's to forge.
                found[name] += "," + value.decode("latin-1")
    cookie = None
    if b"cookie" in found:
        cookie_name = UnlockCookies.name(public_name or request.path_params["public_name"])
        cookie = request.cookies.get(cookie_name)
    return Caller(
        ip=client_ip(
            client[0] if client else None, found.get(b"x-forwarded-for"), settings.trusted_proxies
        ),
        api_key=None if page else found.get(b"x-public-api-key"),
        password=None if page else found.get(b"x-retriever-password"),
        cookie=cookie,
        session_id=None if page else _session_id(found.get(b"x-session-id")),
        keep_private=lambda: mark_private(request.scope),
    )


def session_id(request: Request) -> str | None:
    """The visit's id a client sends in X-Session-ID (a 422 when longer than the body's own
    session_id may be)."""
    return _session_id(request.headers.get("x-session-id"))


def _session_id(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_SESSION_ID_CHARS:
        raise invalid(
            "X-Session-ID",
            f"at most {MAX_SESSION_ID_CHARS} characters",
            f"X-Session-ID is at most {MAX_SESSION_ID_CHARS} characters.",
        )
    return value or None
