"""Counters for the rate limits: a `limits` async storage (memory, or Redis through redis-py).

The counting is `limits`', so that a Redis round trip never blocks the event loop; the window
arithmetic is the rate limiter's own (`app/services/limits.py`).
"""

from __future__ import annotations

import logging
from typing import Literal

from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string

from app.adapters.clock import Clock
from app.errors import LimitsUnavailable

logger = logging.getLogger("retriever_pages")

REDIS_TIMEOUT_SECONDS = 0.5
RETRY_STORAGE_AFTER_SECONDS = 5.0
OnFailure = Literal["fallback", "refuse"]


class Counters:
    """The counting storage, with the configured behaviour when it fails.

    "fallback" counts in this process's memory while the storage is down (and tries it again
    every few seconds); "refuse" answers 503 instead.
    """

    def __init__(self, uri: str, on_failure: OnFailure, clock: Clock) -> None:
        self.uri = uri
        self.on_failure = on_failure
        self.clock = clock
        self.shared = uri.startswith(("redis://", "rediss://"))
        self._memory = MemoryStorage()
        self._storage: Storage = _redis_storage(uri) if self.shared else self._memory
        self._down_since: float | None = None

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        storage = self._storage
        if self._down_since is not None:
            if self._now() - self._down_since < RETRY_STORAGE_AFTER_SECONDS:
                return await self._failed(key, expiry, amount)
            self._down_since = None
        try:
            return await storage.incr(key, expiry, amount)
        except Exception:
            if storage is self._memory:
                raise
            logger.warning("rate-limit storage is not answering; on_failure=%s", self.on_failure)
            self._down_since = self._now()
            return await self._failed(key, expiry, amount)

    async def _failed(self, key: str, expiry: int, amount: int) -> int:
        if self.on_failure == "refuse":
            raise LimitsUnavailable("Rate limits cannot be checked right now; try again shortly.")
        return await self._memory.incr(key, expiry, amount)

    async def check(self) -> bool:
        """Whether the storage answers (always, for memory)."""
        if not self.shared:
            return True
        try:
            ok = bool(await self._storage.check())
        except Exception:
            ok = False
        self._down_since = None if ok else (self._down_since or self._now())
        return ok

    def _now(self) -> float:
        return self.clock().timestamp()


def _redis_storage(uri: str) -> Storage:
    storage = storage_from_string(
        "async+" + uri,
        implementation="redispy",
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    assert isinstance(storage, Storage)
    return storage
