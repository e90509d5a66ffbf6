"""A small async cache for hot-path lookups: one load per key at a time, stale while refreshing.

When an entry is older than `ttl`, the first request to see it starts one background reload and
every request meanwhile gets the old value; only a key never seen waits, and then all its
waiters share one load. An entry that no request saw for a whole `ttl` past its expiry (a quiet
page, hours old) is not served while its reload runs: that request and any that come meanwhile
wait for the reload, so another process's change (a password added, a field taken back) is
never answered with a value older than twice the `ttl`, unless the reload takes longer than
RELOAD_WAIT_SECONDS: a store that answers at all reads a config in milliseconds, and one that
hangs must not hold every visitor for its whole time limit, so past that they get the old
value. A reload that fails (the store down) leaves the old value served, as before. `clear()`
drops entries at once (this process's own changes), and a reload that started before a clear
never writes its result back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

RELOAD_WAIT_SECONDS = 1.0

K = TypeVar("K")
V = TypeVar("V")


@dataclass
class _Entry(Generic[V]):
    expires: float
    value: V | None
    error: Exception | None

    def result(self) -> V:
        if self.error is not None:
            # Raised afresh each time: re-raising one instance would grow its traceback forever.
            raise self.error.with_traceback(None)
        return self.value  # type: ignore[return-value]


class RefreshingCache(Generic[K, V]):
    def __init__(
        self,
        load: Callable[[K], Awaitable[V]],
        ttl: float,
        max_entries: int,
        cache_errors: tuple[type[Exception], ...] = (),
        now: Callable[[], float] = time.monotonic,
        counter: Callable[[bool], None] = lambda hit: None,
    ) -> None:
        self.counter = counter  # told hit (True) or miss (False), for the metrics
        self.load = load
        self.ttl = ttl
        self.max_entries = max_entries
        self.cache_errors = cache_errors  # errors that are answers (say, "not found")
        self.now = now
        self._entries: dict[K, _Entry[V]] = {}
        self._pending: dict[K, asyncio.Future[_Entry[V]]] = {}
        self._generation = 0
        self._refreshing: dict[K, asyncio.Task[None]] = {}  # each key's one reload under way

    async def get(self, key: K) -> V:
        entry = self._entries.get(key)
        self.counter(entry is not None)
        if entry is not None:
            now = self.now()
            if entry.expires <= now:
                task = self._refreshing.get(key)
                if task is None:
                    task = asyncio.create_task(self._refresh(key, entry))
                    self._refreshing[key] = task
                    task.add_done_callback(lambda done: self._reloaded(key, done))
                if now - entry.expires >= self.ttl:
                    try:
                        await asyncio.wait_for(asyncio.shield(task), RELOAD_WAIT_SECONDS)
                    except TimeoutError:
                        if self._entries.get(key) is entry:  # (not cleared meanwhile)
                            return entry.result()
                    fresh = self._entries.get(key)
                    return fresh.result() if fresh is not None else await self.get(key)
            return entry.result()
        pending = self._pending.get(key)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._pending[key] = pending
            generation = self._generation
            try:
                fresh = await self._fetch(key)
            except BaseException as error:
                self._pending.pop(key, None)
                pending.set_exception(error)
                pending.exception()  # retrieved here, so no "never retrieved" warning later
                raise
            self._pending.pop(key, None)
            if generation == self._generation:
                self._store(key, fresh)
            pending.set_result(fresh)
            return fresh.result()
        return (await asyncio.shield(pending)).result()

    async def _fetch(self, key: K) -> _Entry[V]:
        try:
            value = await self.load(key)
        except self.cache_errors as error:
            return _Entry(self.now() + self.ttl, None, error)
        return _Entry(self.now() + self.ttl, value, None)

    async def _refresh(self, key: K, stale: _Entry[V]) -> None:
        # Kept only while `stale` is still the key's entry: a clear of this key (or of every
        # key) since may have come after the change the load read before, while a clear of
        # another key (any owner's change, in this process) must not throw it away, or a
        # request waiting for it would get the value older than twice the ttl.
        try:
            fresh = await self._fetch(key)
        except Exception:
            # Keep serving what we had, as just expired: the next request gets it at once and
            # tries again in the background.
            if self._entries.get(key) is stale:
                stale.expires = self.now()
            return
        if self._entries.get(key) is stale:
            self._store(key, fresh)

    def _reloaded(self, key: K, done: asyncio.Task[None]) -> None:
        if self._refreshing.get(key) is done:
            del self._refreshing[key]

    def _store(self, key: K, entry: _Entry[V]) -> None:
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._entries.clear()  # keys may come from URLs: never grow without bound
        self._entries[key] = entry

    def clear(self, key: K | None = None) -> None:
        self._generation += 1
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)
