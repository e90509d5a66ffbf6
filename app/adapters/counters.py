"""Counters for the rate limits: in this process's memory (`MemoryCounts`), in Redis (a
`limits` async storage, through redis-py), or in the store (`StoreCounters`, for counts that must
outlive a Redis outage).

Redis is counted through `limits`, so that a round trip never blocks the event loop; memory is
counted here, with no await at all, so that one request's windows are counted in one pass that
nothing else can interleave with. The window arithmetic is the rate limiter's own
(`app/services/limits.py`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol, TypeVar

from limits.aio.storage import Storage
from limits.aio.storage.redis.redispy import RedispyBridge
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
SWEEP_EVERY_SECONDS = 10.0
T = TypeVar("T")
# limits' incr_expire.lua for each key in turn: a key's expiry is set when it is new.
INCR_MANY = """
local counts = {}
for i, key in ipairs(KEYS) do
    local amount = tonumber(ARGV[2 * i])
    local current = redis.call("incrby", key, amount)
    if tonumber(current) == amount then
        redis.call("expire", key, ARGV[2 * i - 1])
    end
    counts[i] = current
end
return counts
"""
Entry = tuple[str, int, int]  # a key, its expiry in seconds (if it is new), the amount to add


class Counting(Protocol):
    async def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...

    async def get(self, key: str) -> int: ...


class MemoryCounts:
    """Counts with an expiry in this process's memory, as `limits`' memory storage keeps them
    (a count's expiry is set when it goes from nothing to `amount`), by an injectable clock.
    Expired counts are dropped as they are read and, every few seconds, all at once."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.storage: dict[str, list[float]] = {}  # key: [count, expires at]
        self._sweep_at = 0.0

    def add(self, entries: Sequence[Entry]) -> list[int]:
        """Each entry's amount added to its count; the new counts. No await: atomic."""
        now = self.clock().timestamp()
        if now >= self._sweep_at:
            self._sweep(now)
        storage = self.storage
        counts = []
        for key, expiry, amount in entries:
            held = storage.get(key)
            if held is None or held[1] <= now:
                held = storage[key] = [0, now + expiry]
            count = int(held[0]) + amount
            held[0] = count
            if count == amount:
                held[1] = now + expiry
            counts.append(count)
        return counts

    def value(self, key: str) -> int:
        held = self.storage.get(key)
        if held is None or held[1] <= self.clock().timestamp():
            return 0
        return int(held[0])

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.add(((key, expiry, amount),))[0]

    async def get(self, key: str) -> int:
        return self.value(key)

    def _sweep(self, now: float) -> None:
        self._sweep_at = now + SWEEP_EVERY_SECONDS
        for key in [key for key, held in self.storage.items() if held[1] <= now]:
            del self.storage[key]


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
        self._memory = MemoryCounts(clock)
        self._storage: Counting = _redis_storage(uri) if self.shared else self._memory
        self._down_since: float | None = None
        self._incr_many: Any = None  # in Redis: a script that counts every entry in one call
        bridge = getattr(self._storage, "bridge", None)
        if self.shared and isinstance(bridge, RedispyBridge):
            self._prefixed = bridge.prefixed_key
            self._incr_many = bridge.get_connection().register_script(INCR_MANY.encode())

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return await self._counted(lambda storage: storage.incr(key, expiry, amount))

    async def incr_many(self, entries: Sequence[Entry]) -> list[int]:
        """`incr` of each entry, all at once: in memory in one pass, in Redis in one script
        (one round trip, atomic there too)."""
        if not self.shared:
            return self._memory.add(entries)
        return await self._counted(lambda storage: self._many(storage, entries))

    async def _many(self, storage: Counting, entries: Sequence[Entry]) -> list[int]:
        if storage is self._memory:
            return self._memory.add(entries)
        if self._incr_many is None:
            return [await storage.incr(key, expiry, amount) for key, expiry, amount in entries]
        keys = [self._prefixed(key) for key, _, _ in entries]
        arguments = [value for _, expiry, amount in entries for value in (expiry, amount)]
        return [int(count) for count in await self._incr_many(keys, arguments)]

    async def get(self, key: str) -> int:
        return await self._counted(lambda storage: storage.get(key))

    async def _counted(self, operation: Callable[[Counting], Awaitable[T]]) -> T:
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

    async def _failed(self, operation: Callable[[Counting], Awaitable[T]]) -> T:
        if self.on_failure == "refuse":
            raise LimitsUnavailable(
                "Rate limits cannot be checked right now; try again shortly.",
                # When the storage is asked again: a 503 says when to come back, as the store's do.
                headers={"Retry-After": str(math.ceil(RETRY_STORAGE_AFTER_SECONDS))},
            )
        return await operation(self._memory)

    async def check(self) -> bool:
        """Whether the storage answers (always, for memory)."""
        if not self.shared:
            return True
        try:
            assert isinstance(self._storage, Storage)
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

    async def incr_many(self, entries: Sequence[Entry]) -> list[int]:
        return [await self.incr(key, expiry, amount) for key, expiry, amount in entries]

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
