"""The HTTP server's own limits: what uvicorn's httptools protocol lacks against a client that
sends too much, or too slowly, or opens too many connections.

- headers: the request line and headers at most `max_header_bytes` (431 beyond, 414 when the
  request line alone is longer), all within `header_timeout` of the first byte of a request or
  of the connection (408 after);
- bodies: `body_timeout` of grace, then at least `min_body_rate` bytes a second on average
  (the connection is closed after; the application sees a client that left);
- connections: at most `max_connections` per process; one more is answered 503 and closed;
  at most `max_connections_per_client` of them from one client address (an IPv6 /64); one more
  from it is answered 429 and closed. A trusted proxy is no one client: it is not held to that
  share, and each address it forwards is held to it in requests in progress instead
  (app/web/middleware/client_share.py), since only the headers name that address;
- idle keep-alive connections close after uvicorn's `timeout_keep_alive`.

httptools (llhttp) stays the parser: it is what `scripts/bench` measured fastest here
(docs/design.md).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from weakref import WeakKeyDictionary

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings, load_settings
from app.web.clientip import Network, peer_key

RETRY_AFTER_SECONDS = 5
SWEEP_SECONDS = 0.25
PROTOCOL = "app.web.server:GuardedProtocol"


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int
    header_timeout: float
    body_timeout: float
    min_body_rate: int
    max_connections: int
    max_connections_per_client: int
    trusted_proxies: Sequence[Network]

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            min_body_rate=settings.min_body_bytes_per_second,
            max_connections=settings.max_connections,
            max_connections_per_client=settings.effective_max_connections_per_client,
            trusted_proxies=tuple(settings.trusted_proxies),
        )


def _response(status: bytes, message: str, *extra: bytes) -> bytes:
    body = message.encode()
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(body)).encode() + b"\r\n",
            *extra,
            b"connection: close\r\n\r\n",
            body,
        ]
    )


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above. Named to uvicorn by its import path
    (`PROTOCOL`), so that worker processes, which read the settings themselves, use it too.

    A request costs a float and a counter: the deadlines are checked by one sweep of the
    process's connections every `SWEEP_SECONDS`, not by a timer per request (a timer per
    request, armed and cancelled, measured a fifth off the fastest route's throughput).
    """

    configured: ClassVar[ConnectionLimits | None] = None
    _sweeping: ClassVar[set[int]] = set()  # the connection sets (servers) being swept
    # Each server's open connections by client address (only addresses with one open).
    _by_client: ClassVar[WeakKeyDictionary[Any, Counter[str]]] = WeakKeyDictionary()

    @classmethod
    def limits(cls) -> ConnectionLimits:
        if cls.configured is None:
            cls.configured = ConnectionLimits.of(load_settings())
        return cls.configured

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refused = False  # this protocol reads no more: refused, timed out or handed over
        self._client: str | None = None  # the address this connection counts for, if any
        self._in_headers = True
        self._header_bytes = 0
        self._line_done = False  # the request line has ended (over the limit: 431, not 414)
        self._deadline: float | None = None
        self._body_started: float | None = None
        self._body_bytes = 0

    # The connection -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        limits = self.limits()
        if len(self.connections) >= limits.max_connections:
            self._turn_away(
                transport,
                b"503 Service Unavailable",
                "The server is at its connection limit; try again in a few seconds.",
            )
            return
        # Before a byte is read only the socket's peer is known: its connections are counted
        # here, so that one address holding connections open (never finishing its headers, or
        # reopening them as they close) fills its share and no more.
        peer = transport.get_extra_info("peername")
        client = peer_key(peer[0] if isinstance(peer, tuple) else None, limits.trusted_proxies)
        if client is not None:
            held = self._by_client.setdefault(self.server_state, Counter())
            if held[client] >= limits.max_connections_per_client:
                self._turn_away(
                    transport,
                    b"429 Too Many Requests",
                    f"This address has {held[client]} connections open, its share of the "
                    "server; close one, or try again in a few seconds.",
                )
                return
            held[client] += 1
            self._client = client
        super().connection_made(transport)
        self._deadline = self.loop.time() + limits.header_timeout
        self._sweep_soon()

    def connection_lost(self, exc: Exception | None) -> None:
        self._release_client()
        if self.transport is not None:  # None: turned away at once, never counted
            super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        # The connection is handed to another protocol, which uvicorn counts on its own.
        self._refused = True
        self._release_client()
        super().handle_websocket_upgrade()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        limit = self.limits().max_header_bytes
        # The parser is fed no more of a request line and headers than the limit: a read may
        # hold a whole request, so the read that ends the headers is measured too, and the
        # parser never holds more than the limit.
        while self._in_headers and data:
            room = limit - self._header_bytes
            if room <= 0:
                self._refuse_headers(limit)
                return
            piece, data = data[:room], data[room:]
            self._header_bytes += len(piece)
            self._line_done = self._line_done or b"\n" in piece
            super().data_received(piece)
            if self._refused or self.transport.is_closing():
                return
        # Of a request pipelined behind another in one read, what the parser took with the end
        # of the other is not counted (the size of a read bounds it); the rest is.
        if data:
            super().data_received(data)

    # The parser's callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        if self._deadline is None:
            self._deadline = self.loop.time() + self.limits().header_timeout

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
        self._line_done = False
        self._deadline = None
        super().on_headers_complete()
        if self._has_body():
            self._body_started = self.loop.time()
            self._body_bytes = 0
            self._deadline = self._body_started + self.limits().body_timeout

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_headers = True  # what comes next on the connection is the next request's
        self._deadline = None
        self._body_started = None
        super().on_message_complete()

    # The guards -----------------------------------------------------------------------------

    def _has_body(self) -> bool:
        if self.scope["method"] in ("GET", "HEAD"):
            return False
        for name, value in self.headers:
            if name == b"content-length":
                return value.strip() not in (b"", b"0")
            if name == b"transfer-encoding":
                return True
        return False

    def _expire(self, now: float) -> None:
        """Past the deadline: headers too slow get 408; a body below the rate is cut off."""
        if self._body_started is None:
            self._refuse(b"408 Request Timeout", "The request's headers took too long.")
            return
        limits = self.limits()
        # Each byte buys 1/min_body_rate seconds past the grace: a body must keep coming at
        # that rate on average, however it is cut up.
        deadline = (
            self._body_started + limits.body_timeout + self._body_bytes / limits.min_body_rate
        )
        if deadline > now:
            self._deadline = deadline
            return
        self._deadline = None
        self._refused = True
        self.transport.close()  # the application sees a client that left

    def _refuse_headers(self, limit: int) -> None:
        if self._line_done:
            self._refuse(
                b"431 Request Header Fields Too Large",
                f"The request line and headers are over {limit} bytes.",
            )
        else:
            self._refuse(
                b"414 URI Too Long",
                f"The request line is over {limit} bytes: the URL is too long.",
            )

    def _turn_away(self, transport: asyncio.Transport, status: bytes, message: str) -> None:
        """Answer a connection not taken on, before it sends anything, and close it."""
        self._refused = True
        retry = b"retry-after: " + str(RETRY_AFTER_SECONDS).encode() + b"\r\n"
        transport.write(_response(status, message, retry))
        transport.close()

    def _release_client(self) -> None:
        if self._client is None:
            return
        held = self._by_client.get(self.server_state)
        if held is not None:
            held[self._client] -= 1
            if held[self._client] <= 0:
                del held[self._client]
        self._client = None

    def _refuse(self, status: bytes, message: str) -> None:
        self._deadline = None
        self._refused = True
        if not self.transport.is_closing():
            self.transport.write(_response(status, message))
            self.transport.close()

    def _sweep_soon(self) -> None:
        cls = type(self)
        if id(self.connections) not in cls._sweeping:
            cls._sweeping.add(id(self.connections))
            self.loop.call_later(SWEEP_SECONDS, cls._sweep, self.loop, self.connections)

    @classmethod
    def _sweep(cls, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        now = loop.time()
        for connection in list(connections):
            deadline = getattr(connection, "_deadline", None)
            if deadline is not None and deadline <= now:
                connection._expire(now)
        if connections:
            loop.call_later(SWEEP_SECONDS, cls._sweep, loop, connections)
        else:
            cls._sweeping.discard(id(connections))
