"""Counters for the rate limits: a `limits` async storage (memory, or Redis through redis-py),
or the store (`StoreCounters`, for counts that must outlive a Redis outage).

The counting is `limits`', so that a Redis round trip never blocks the event loop; the window
arithmetic is the rate limiter's own (`app/services/limits.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string

from app.adapters.clock import Clock
from app.adapters.store import Store
from app.adapters.store import counts as queries
from app.adapters.threads import in_thread
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
        return await self._counted(lambda storage: storage.incr(key, expiry, amount))

    async def get(self, key: str) -> int:
        return await self._counted(lambda storage: storage.get(key))

    async def _counted(self, operation: Callable[[Storage], Awaitable[int]]) -> int:
        """`operation` on the storage; on this process's memory (or refused) while it is down."""
        storage = self._storage
        if self._down_since is not None:
            if self._now() - self._down_since < RETRY_STORAGE_AFTER_SECONDS:
                return await self._failed(operation)
            self._down_since = None
        try:
            return await operation(storage)
        except Exception:
            if storage is self._memory:
                raise
            logger.warning("rate-limit storage is not answering; on_failure=%s", self.on_failure)
            self._down_since = self._now()
            return await self._failed(operation)

    async def _failed(self, operation: Callable[[Storage], Awaitable[int]]) -> int:
        if self.on_failure == "refuse":
            raise LimitsUnavailable("Rate limits cannot be checked right now; try again shortly.")
        return await operation(self._memory)

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


class StoreCounters:
    """Counters in the store, shared by every process that shares it. A write per count, so
    only for counts that are few and must not be lost (wrong passwords)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return await in_thread(self._incr, key, expiry, amount)

    def _incr(self, key: str, expiry: int, amount: int) -> int:
        now = self.clock().timestamp()
        with self.store.write() as tx:
            value = queries.add(tx.conn, key, amount, now + expiry, now)
        if amount > 0 and value == amount:
            # A new counter: a moment to drop the expired ones (in a transaction of its own, so
            # that the delete's row locks are never held while waiting for another's).
            with self.store.write() as tx:
                queries.prune(tx.conn, now)
        return value

    async def get(self, key: str) -> int:
        return await in_thread(self._get, key)

    def _get(self, key: str) -> int:
        with self.store.read() as tx:
            return queries.value(tx.conn, key, self.clock().timestamp())


def _redis_storage(uri: str) -> Storage:
    storage = storage_from_string(
        "async+" + uri,
        implementation="redispy",
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    assert isinstance(storage, Storage)
    return storage
