"""A request id on every response and every log line, and the optional access log."""

from __future__ import annotations

import ipaddress
import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.crypto import random_hex
from app.logs import request_id

HEADER = b"x-request-id"
VALID = re.compile(rb"[A-Za-z0-9._\-]{8,64}")
access = logging.getLogger("retriever_pages.access")


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, access_log: bool = False) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A caller's own id is kept when it is well formed, so logs line up across services.
        given = next((value for name, value in scope["headers"] if name == HEADER), b"")
        rid = given.decode() if VALID.fullmatch(given) else random_hex(8)
        token = request_id.set(rid)
        scope["request_id"] = rid  # for the handler of unexpected errors, which runs outside
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, rid.encode())]
            await send(message)

        failed = False
        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            # Left set, so that the server's own log line about this error carries the id.
            failed = True
            raise
        finally:
            if self.access_log:
                access.info(
                    "%s %s %s %.1fms %s",
                    scope["method"],
                    scope["path"],
                    status or 500,
                    (time.perf_counter() - started) * 1000,
                    masked(scope.get("client")),
                )
            if not failed:
                request_id.reset(token)


def masked(client: tuple[str, int] | None) -> str:
    """The client's network, never its full address: /24 for IPv4, /48 for IPv6."""
    if not client:
        return "-"
    try:
        address = ipaddress.ip_address(client[0])
    except ValueError:
        return "-"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
