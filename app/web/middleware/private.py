"""Answers about a password-protected retriever never go into a shared cache (applied by
`front.Front`).

A protected page's URL answers with the password form to one visitor and the unlocked page
to another (by the unlock cookie); the API answers by X-Retriever-Password or the cookie. So
every answer on a request that `Access` marked (through `Caller.keep_private`, when the
retriever has a password) is `Cache-Control: private, no-store` and varies on what opened it:
pages, their refusals and the password form alike. Answers about open retrievers keep their
own headers.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Scope

PRIVATE = "private, no-store"
MARK = "behind_password"  # the scope key `mark_private` sets


def mark_private(scope: Scope) -> None:
    """Keep this request's answer out of shared caches, whatever it turns out to be."""
    scope[MARK] = True


def make_private(message: Message, path: str) -> None:
    """Make the answer starting with `message` private, varying on what opened it."""
    headers = MutableHeaders(scope=message)
    headers["Cache-Control"] = PRIVATE
    headers.add_vary_header("Cookie")
    if path.startswith("/v1/"):  # only the API reads the header
        headers.add_vary_header("X-Retriever-Password")
