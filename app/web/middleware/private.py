"""Answers about a password-protected retriever never go into a shared cache.

A protected page's URL answers with the password form to one visitor and the unlocked page
to another (by the unlock cookie); the API answers by X-Retriever-Password or the cookie. So
every answer on a request that `Access` marked (through `Caller.keep_private`, when the
retriever has a password) is `Cache-Control: private, no-store` and varies on what opened it:
pages, their refusals and the password form alike. Answers about open retrievers keep their
own headers.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PRIVATE = "private, no-store"
MARK = "behind_password"  # the scope key `mark_private` sets


def mark_private(scope: Scope) -> None:
    """Keep this request's answer out of shared caches, whatever it turns out to be."""
    scope[MARK] = True


class PrivateAnswerMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start" and scope.get(MARK):
                headers = MutableHeaders(scope=message)
                headers["Cache-Control"] = PRIVATE
                headers.add_vary_header("Cookie")
                if scope["path"].startswith("/v1/"):  # only the API reads the header
                    headers.add_vary_header("X-Retriever-Password")
            await send(message)

        await self.app(scope, receive, send_private)
