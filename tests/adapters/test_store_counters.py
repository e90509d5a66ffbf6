"""Counters in the store (wrong passwords during a Redis outage), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from app.adapters.counters import StoreCounters
from app.adapters.store import Store
from tests.helpers import FakeClock

WORKERS = 4
ADDS_EACH = 25


def _store(database_url: str) -> Store:
    store = Store(database_url)
    store.migrate()
    return store


def test_concurrent_counts_from_two_stores_lose_nothing(database_url: str) -> None:
    clock = FakeClock()
    # Two stores on one database, as two server processes have.
    stores = [_store(database_url), _store(database_url)]
    counters = [StoreCounters(store, clock) for store in stores]

    def add_many(n: int) -> list[int]:
        return [asyncio.run(counters[n % 2].incr("k", 60)) for _ in range(ADDS_EACH)]

    with ThreadPoolExecutor(WORKERS) as pool:
        seen = [value for values in pool.map(add_many, range(WORKERS)) for value in values]
    # Every increment saw a count of its own: none was lost or seen twice.
    assert sorted(seen) == list(range(1, WORKERS * ADDS_EACH + 1))
    assert asyncio.run(counters[0].incr("k", 60, -1)) == WORKERS * ADDS_EACH - 1
    for store in stores:
        store.close()


@pytest.mark.anyio
async def test_an_expired_count_starts_over_and_is_dropped(database_url: str) -> None:
    clock = FakeClock()
    store = _store(database_url)
    counters = StoreCounters(store, clock)
    assert [await counters.incr("old", 60) for _ in range(3)] == [1, 2, 3]
    clock.advance(30)
    assert await counters.incr("old", 60) == 4  # the expiry set at the start still holds
    clock.advance(31)
    assert await counters.incr("old", 60) == 1
    clock.advance(61)
    await counters.incr("new", 60)  # a new counter drops the expired ones
    with store.read() as tx:
        keys = tx.conn.execute(sa.text("SELECT counter_key FROM counts")).scalars().all()
    assert keys == ["new"]
    store.close()
