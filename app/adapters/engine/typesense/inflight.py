"""Identical searches in flight sent once: a search whose request (the same collection, the same
parameters, no write to the collection through this process since) is already on its way to
the node waits for that request's answer instead of sending its own.

Under load most of a Typesense-backed execute's cost is the node's (docs/performance.md,
"Typesense"), and popular words are asked many times at once (the bench's 32 connections over
100 words: a new search often finds its twin in flight). The answer is the one the node gives
for the same request sent a moment earlier: a write through this process starts a new
generation (`WholeWords.writes`), so a search made after it never takes an answer asked before
it; a write through another server can be missed by a search that joins a request sent before
the write ended, as it can be by a search sent just before it: for at most the time one search
takes (milliseconds), and the next search sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

Answer = dict[str, Any]


class InFlight:
    """The requests on their way, by key, each with the loop that sends it (a server has one;
    tests start several: a future belongs to its loop)."""

    def __init__(self) -> None:
        self._flying: dict[tuple[asyncio.AbstractEventLoop, Hashable], asyncio.Future[Answer]] = {}

    async def answer(self, key: Hashable, send: Callable[[], Awaitable[Answer]]) -> Answer:
        """The answer of the request in flight under `key`, or of `send()` sent now."""
        loop = asyncio.get_running_loop()
        flying = self._flying.get((loop, key))
        if flying is None:
            flying = asyncio.ensure_future(send())
            self._flying[loop, key] = flying
            flying.add_done_callback(lambda done: self._landed((loop, key), done))
        # (shielded: a caller that gives up does not take the answer from the others)
        return await asyncio.shield(flying)

    def _landed(self, key: tuple[asyncio.AbstractEventLoop, Hashable], done: Any) -> None:
        if self._flying.get(key) is done:
            del self._flying[key]
        if not done.cancelled():
            done.exception()  # (retrieved: the callers that waited have it)
