"""The refreshing cache: one load per key at a time, stale while refreshing, and a clear that
no earlier load can undo."""

from __future__ import annotations

import asyncio

import pytest

from app.adapters.cache import RefreshingCache
from app.errors import BadGateway, NotFound

pytestmark = pytest.mark.anyio


class Source:
    """A loader that counts its calls and can be held open until released."""

    def __init__(self) -> None:
        self.calls = 0
        self.value = "v1"
        self.gate: asyncio.Event | None = None
        self.error: Exception | None = None

    async def load(self, key: str) -> str:
        self.calls += 1
        value = self.value  # read when the load starts, as a store read would be
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return f"{key}:{value}"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _cache(source: Source, clock: Clock, **options: object) -> RefreshingCache[str, str]:
    return RefreshingCache(source.load, 1.0, 100, now=clock, **options)  # type: ignore[arg-type]


async def test_concurrent_misses_share_one_load() -> None:
    source, clock = Source(), Clock()
    cache = _cache(source, clock)
    source.gate = asyncio.Event()
    waiting = [asyncio.create_task(cache.get("a")) for _ in range(20)]
    await asyncio.sleep(0)
    source.gate.set()
    assert await asyncio.gather(*waiting) == ["a:v1"] * 20
    assert source.calls == 1


async def test_an_expired_entry_is_served_while_one_reload_runs() -> None:
    source, clock = Source(), Clock()
    cache = _cache(source, clock)
    assert await cache.get("a") == "a:v1"
    source.value = "v2"
    clock.now += 1.5
    source.gate = asyncio.Event()
    # Past the ttl: the old value at once, and a single reload in the background.
    assert [await cache.get("a") for _ in range(5)] == ["a:v1"] * 5
    source.gate.set()
    await asyncio.sleep(0.01)
    assert await cache.get("a") == "a:v2"
    assert source.calls == 2


async def test_a_clear_during_a_load_keeps_the_stale_answer_out() -> None:
    source, clock = Source(), Clock()
    cache = _cache(source, clock)
    source.gate = asyncio.Event()
    loading = asyncio.create_task(cache.get("a"))
    await asyncio.sleep(0)
    source.value = "v2"  # the owner changed it while the first load was under way
    cache.clear("a")
    source.gate.set()
    assert await loading == "a:v1"  # its caller asked before the change
    source.gate = None
    assert await cache.get("a") == "a:v2"  # not the stale load's answer
    assert source.calls == 2


async def test_a_failed_refresh_keeps_serving_what_it_had() -> None:
    source, clock = Source(), Clock()
    cache = _cache(source, clock)
    await cache.get("a")
    clock.now += 2
    source.error = BadGateway("down")
    assert await cache.get("a") == "a:v1"
    await asyncio.sleep(0.01)
    assert await cache.get("a") == "a:v1"


async def test_answers_that_are_errors_are_cached_and_others_are_not() -> None:
    source, clock = Source(), Clock()
    cache = _cache(source, clock, cache_errors=(NotFound,))
    source.error = NotFound("no such thing")
    for _ in range(3):
        with pytest.raises(NotFound):
            await cache.get("gone")
    assert source.calls == 1
    source.error = BadGateway("down")
    for _ in range(3):
        with pytest.raises(BadGateway):
            await cache.get("broken")
    assert source.calls == 4


async def test_the_cache_never_grows_past_its_bound() -> None:
    source, clock = Source(), Clock()
    cache: RefreshingCache[str, str] = RefreshingCache(source.load, 1.0, 10, now=clock)
    for n in range(25):
        await cache.get(str(n))
    assert len(cache._entries) <= 10


async def test_hits_and_misses_are_counted() -> None:
    seen: list[bool] = []
    source, clock = Source(), Clock()
    cache = _cache(source, clock, counter=seen.append)
    await cache.get("a")
    await cache.get("a")
    assert seen == [False, True]


async def test_a_long_idle_entry_is_reloaded_though_another_key_is_cleared() -> None:
    source, clock = Source(), Clock()
    cache = _cache(source, clock)
    assert await cache.get("a") == "a:v1"
    assert await cache.get("b") == "b:v1"
    source.value = "v2"  # another process's change
    clock.now += 2.5  # nobody asked for "a" for a whole ttl past its expiry
    source.gate = asyncio.Event()
    waiting = asyncio.create_task(cache.get("a"))
    await asyncio.sleep(0)
    cache.clear("b")  # this process changed another retriever meanwhile
    source.gate.set()
    assert await waiting == "a:v2"
    source.gate = None
    assert await cache.get("a") == "a:v2"


async def test_a_long_idle_entry_whose_reload_hangs_is_served_as_kept_after_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, cache, gate = await _long_idle_over_a_hung_store(monkeypatch)
    source.value = "v2"
    began = asyncio.get_running_loop().time()
    waiting = [asyncio.create_task(cache.get("a")) for _ in range(5)]
    assert await asyncio.gather(*waiting) == ["a:v1"] * 5  # the kept value, not a wait for ever
    assert asyncio.get_running_loop().time() - began < 1.0
    assert source.calls == 2  # (one reload, still under way)
    gate.set()
    await asyncio.sleep(0.01)
    assert await cache.get("a") == "a:v2"


async def test_a_value_cleared_while_its_reload_hangs_is_never_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source, cache, gate = await _long_idle_over_a_hung_store(monkeypatch)
    waiting = asyncio.create_task(cache.get("a"))
    await asyncio.sleep(0.05)
    source.value = "v2"
    cache.clear("a")  # this process's own change (say, the retriever unpublished)
    await asyncio.sleep(0.3)  # past the wait: the old value is not served...
    assert not waiting.done()  # ...the request waits for a load of its own
    gate.set()
    assert await waiting == "a:v2"


async def _long_idle_over_a_hung_store(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Source, RefreshingCache[str, str], asyncio.Event]:
    """ "a" kept, then idle a whole ttl past its expiry (the next request waits for its
    reload), with loads that hang until the gate is set (a store that does not answer)."""
    monkeypatch.setattr("app.adapters.cache.RELOAD_WAIT_SECONDS", 0.2)
    source, clock = Source(), Clock()
    cache = _cache(source, clock)
    assert await cache.get("a") == "a:v1"
    clock.now += 2.5
    source.gate = asyncio.Event()
    return source, cache, source.gate
