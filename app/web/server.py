"""The HTTP server's own limits: what uvicorn's httptools protocol lacks against a client that
sends too much, or too slowly, or opens too many connections.

- headers: at most `max_header_bytes` (431 beyond), all within `header_timeout` of the first
  byte of a request or of the connection (408 after);
- bodies: `body_timeout` of grace, then at least `min_body_rate` bytes a second on average
  (the connection is closed after; the application sees a client that left);
- connections: at most `max_connections` per process; one more is answered 503 and closed;
- idle keep-alive connections close after uvicorn's `timeout_keep_alive`.

httptools (llhttp) stays the parser: it is what `scripts/bench` measured fastest here (README,
design notes).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.settings import Settings, load_settings

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

    @classmethod
    def of(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            max_header_bytes=settings.max_header_bytes,
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            min_body_rate=settings.min_body_bytes_per_second,
            max_connections=settings.max_connections,
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

    @classmethod
    def limits(cls) -> ConnectionLimits:
        if cls.configured is None:
            cls.configured = ConnectionLimits.of(load_settings())
        return cls.configured

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._refused = False
        self._in_headers = True
        self._header_bytes = 0
        self._deadline: float | None = None
        self._body_started: float | None = None
        self._body_bytes = 0

    # The connection -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.limits().max_connections:
            self._refused = True
            transport.write(
                _response(
                    b"503 Service Unavailable",
                    "The server is at its connection limit; try again in a few seconds.",
                    b"retry-after: " + str(RETRY_AFTER_SECONDS).encode() + b"\r\n",
                )
            )
            transport.close()
            return
        super().connection_made(transport)
        self._deadline = self.loop.time() + self.limits().header_timeout
        self._sweep_soon()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:  # None: refused at once, never counted
            super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_headers:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._in_headers and self._header_bytes > self.limits().max_header_bytes:
            self._refuse(
                b"431 Request Header Fields Too Large",
                f"The request's headers are over {self.limits().max_header_bytes} bytes.",
            )

    # The parser's callbacks -----------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_headers = True
        if self._deadline is None:
            self._deadline = self.loop.time() + self.limits().header_timeout

    def on_headers_complete(self) -> None:
        self._in_headers = False
        self._header_bytes = 0
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
