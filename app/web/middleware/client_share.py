"""One client's share of the server behind a trusted proxy.

The server holds each socket peer to its share of the connections (app/web/server.py), but a
trusted proxy carries many clients over its connections, so it is not held to one's share. Only
the headers say which client a request is for: here each forwarded address (an IPv6 /64, as the
rate limits count) may have at most that many requests in progress; one more gets 429.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app.web.clientip import Network, proxied_client_key
from app.web.responses import error_response
from app.web.server import RETRY_AFTER_SECONDS


class ClientShareMiddleware:
    def __init__(self, app: ASGIApp, share: int, trusted: Sequence[Network]) -> None:
        if share < 1:
            raise ValueError("share must be positive")
        self.app = app
        self.share = share
        self.trusted = tuple(trusted)
        self.in_progress: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = None
        if scope["type"] == "http" and self.trusted and scope.get("client"):
            forwarded = Headers(scope=scope).get("x-forwarded-for")
            client = proxied_client_key(scope["client"][0], forwarded, self.trusted)
        if client is None:  # no proxy: the server holds the peer to its share of connections
            await self.app(scope, receive, send)
            return
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
            await self.app(scope, receive, send)
        finally:
            self.in_progress[client] -= 1
            if self.in_progress[client] <= 0:
                del self.in_progress[client]
