"""What every HTTP request passes through, in one pure-ASGI layer with one `send` wrapper.

In the order they ran as six layers, outermost first: a request id on every answer and log
line (and the optional access log); metrics, each request counted and timed under its route's
template; one client's share of the server behind a trusted proxy (429 past it); the body
limit (413 before anything reads a body that is too large); answers about a retriever behind
a password kept out of shared caches; gzip, for a caller that accepts it. What the inner ones
add to an answer is added before what the outer ones add, and an answer one of them makes
itself (a 413, a 429) passes only the layers outside it, as before. One layer instead of six
makes one closure for `send`, one for `receive` only when a body has no length up front, and
reads the request's headers once (docs/performance.md, "The public execute's tail").
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Sequence

from prometheus_client import Counter as Series
from prometheus_client import Histogram
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.crypto import random_hex
from app.kept import Kept
from app.logs import request_id
from app.metrics import Metrics
from app.web.clientip import Network, proxied_client_key
from app.web.middleware.private import MARK, make_private
from app.web.middleware.request_id import HEADER, masked
from app.web.responses import error_response
from app.web.server import RETRY_AFTER_SECONDS

VALID = re.compile(rb"[A-Za-z0-9._\-]{8,64}")
access = logging.getLogger("retriever_pages.access")


class Front:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        max_bytes: int,
        share: int,
        trusted: Sequence[Network] = (),
        access_log: bool = False,
        gzip_minimum: int = 500,
    ) -> None:
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        if share < 1:
            raise ValueError("share must be positive")
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=gzip_minimum)
        self.gzip_minimum = gzip_minimum
        self.metrics = metrics
        self.max_bytes = max_bytes
        self.share = share
        self.trusted = tuple(trusted)
        self.access_log = access_log
        self.in_progress: Counter[str] = Counter()
        # A request's two series, by route, method and status: `labels()` takes a lock and
        # builds them afresh each time. Bounded: routes, methods and statuses are few.
        self._series: dict[tuple[str, str, int], tuple[Series, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = length = encodings = forwarded = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's `Headers`
            if name == HEADER:
                given = value if given is None else given
            elif name == b"content-length":
                length = value if length is None else length
            elif name == b"accept-encoding":
                encodings = value if encodings is None else encodings
            elif name == b"x-forwarded-for":  # every line, in order: one list (clientip.py)
                forwarded = value if forwarded is None else forwarded + b"," + value
        # A caller's own id is kept when it is well formed, so logs line up across services.
        rid = given.decode() if given and VALID.fullmatch(given) else random_hex(8)
        token = request_id.set(rid)
        scope["request_id"] = rid  # for the handler of unexpected errors, which runs outside
        started = time.perf_counter()
        status = 0
        id_header = (HEADER, rid.encode())

        async def outer_send(message: Message) -> None:  # the id's and the metrics' layers
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), id_header]
            await send(message)

        failed = False
        try:
            await self._share(scope, receive, outer_send, length, encodings, forwarded)
        except BaseException:
            # Left set, so that the server's own log line about this error carries the id.
            failed = True
            raise
        finally:
            elapsed = time.perf_counter() - started
            self._record(scope, status or 500, elapsed)
            if self.access_log:
                access.info(
                    "%s %s %s %.1fms %s",
                    scope["method"],
                    _printable(scope["path"]),
                    status or 500,
                    elapsed * 1000,
                    masked(scope.get("client")),
                )
            if not failed:
                request_id.reset(token)

    def _record(self, scope: Scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        series = self._series.get((template, method, status))
        if series is None:
            series = self._series[template, method, status] = (
                self.metrics.requests.labels(template, method, str(status)),
                self.metrics.latency.labels(template, method),
            )
        series[0].inc()
        series[1].observe(elapsed)

    async def _share(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        length: bytes | None,
        encodings: bytes | None,
        forwarded: bytes | None,
    ) -> None:
        """The trusted proxy's client held to its share (the server holds a peer to its
        share of connections, app/web/server.py); then bodies over the limit refused: by
        their length up front, or (a chunked body) counted as they arrive. A body with a
        length cannot run past it (the HTTP parser reads that many bytes), so only one
        without is counted."""
        client = None
        if self.trusted and scope.get("client"):
            text = forwarded.decode("latin-1") if forwarded is not None else None
            client = proxied_client_key(scope["client"][0], text, self.trusted)
        if client is not None:
            if self.in_progress[client] >= self.share:
                response = error_response(
                    429,
                    "too_many_requests_in_progress",
                    f"This address has {self.share} requests in progress, its share of the "
                    "server; wait for one to finish.",
                    {"in_progress": self.share},
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
                await response(scope, receive, send)
                return
            self.in_progress[client] += 1
        try:
            if length is None:
                await self._counted(scope, receive, send, encodings)
            elif not length.isdigit() or int(length) > self.max_bytes:
                await self._refuse(scope, receive, send)
            else:
                await self._inner(scope, receive, send, encodings)
        finally:
            if client is not None:
                self.in_progress[client] -= 1
                if self.in_progress[client] <= 0:
                    del self.in_progress[client]

    async def _counted(
        self, scope: Scope, receive: Receive, send: Send, encodings: bytes | None
    ) -> None:
        """A body without a length, counted as it arrives: refused (413) once past the
        limit, if the answer has not started."""
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._inner(scope, counting_receive, tracking_send, encodings)
        except _TooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"The request body is larger than the limit of {self.max_bytes} bytes.",
            {"max_bytes": self.max_bytes},
        )
        await response(scope, receive, send)

    async def _inner(
        self, scope: Scope, receive: Receive, send: Send, encodings: bytes | None
    ) -> None:
        """Private answers, then gzip (Starlette's) for a caller that accepts it; for one
        that does not, what Starlette's `IdentityResponder` does, inline: `Vary:
        Accept-Encoding` on an answer that would have been compressed."""

        async def private_send(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get(MARK):
                make_private(message, scope["path"])
            await send(message)

        if encodings is not None and b"gzip" in encodings:
            await self.gzip(scope, receive, private_send)
            return
        held: Message | None = None
        passing = False  # the answer goes as it is: nothing to hold or decide

        async def identity_send(message: Message) -> None:
            nonlocal held, passing
            kind = message["type"]
            if passing or kind in ("http.response.early_hint", "http.response.trailers"):
                await private_send(message)
            elif kind == "http.response.start":
                message.setdefault("headers", [])
                if message["status"] == 206 or _left_alone(message["headers"]):
                    passing = True
                    await private_send(message)
                else:
                    held = message
            elif held is not None and kind == "http.response.body":
                passing = True
                more = message.get("more_body", False)
                if more or len(message.get("body", b"")) >= self.gzip_minimum:
                    _vary(held["headers"])
                await private_send(held)
                await private_send(message)
            else:  # a pathsend: as it comes (after the start it waited for)
                passing = True
                if held is not None:
                    await private_send(held)
                await private_send(message)

        await self.app(scope, receive, identity_send)


def _vary(headers: list[tuple[bytes, bytes]]) -> None:
    """`MutableHeaders(raw=headers).add_vary_header("Accept-Encoding")`, without making the
    header object when the answer has no Vary yet (the common case): the same header added."""
    for name, _ in headers:
        if name == b"vary":
            MutableHeaders(raw=headers).add_vary_header("Accept-Encoding")
            return
    headers.append((b"vary", b"Accept-Encoding"))


def _left_alone(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether gzip would leave this answer as it is: encoded already, or of a type that is
    compressed already (Starlette's list)."""
    media_type = ""
    for name, value in headers:
        if name == b"content-encoding":
            return True
        if name == b"content-type" and not media_type:
            media_type = value.decode("latin-1").partition(";")[0].strip().lower()
    known = _KNOWN_TYPES.get(media_type)
    if known is None:
        media_types = {media_type, media_type.partition("/")[0] + "/*"}
        if media_type.startswith("application/grpc+"):
            media_types.add("application/grpc")
        known = _KNOWN_TYPES.put(
            media_type, not media_types.isdisjoint(DEFAULT_EXCLUDED_CONTENT_TYPES)
        )
    return known


# Whether a media type is left alone, by type: worked out once, not per answer.
MAX_KNOWN_TYPES = 256
_KNOWN_TYPES: Kept[str, bool] = Kept(MAX_KNOWN_TYPES)


class _TooLarge(Exception):
    pass


def _printable(path: str) -> str:
    """The path as one line of the log: a decoded %0A or %1B (a forged line, a terminal's
    escape) written as its escape instead."""
    return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")
