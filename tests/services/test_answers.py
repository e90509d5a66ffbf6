"""The answer cache: bounded by bytes, answers expire, the least recently used go first."""

from __future__ import annotations

import gc
from typing import Any

from app.schemas.search import Results
from app.services.answers import AnswerCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _answer(size: int, tag: str = "") -> Results:
    return _results([{"text": tag + "x" * size}])


def _results(documents: list[dict[str, Any]]) -> Results:
    return Results("exe_1", documents, 1, 10, len(documents), has_next=False)


def test_bytes_stay_within_the_budget() -> None:
    cache = AnswerCache(10_000, now=Clock())
    for n in range(100):
        cache.put(("q", n), _answer(1000), ttl=60)
        assert cache.bytes <= 10_000
    assert 5 <= len(cache) <= 10
    assert cache.get(("q", 99)) is not None
    assert cache.get(("q", 0)) is None


def test_an_answer_is_given_back_as_it_was_put() -> None:
    cache = AnswerCache(10_000, now=Clock())
    answer = _results([{"title": "Lamp", "price": 2**70}])
    cache.put("k", answer, ttl=60)
    assert cache.get("k") == answer


def test_expired_answers_are_not_served_and_are_swept() -> None:
    clock = Clock()
    cache = AnswerCache(1_000_000, now=clock)
    for n in range(50):
        cache.put(n, _answer(1000), ttl=10)
    clock.now = 5
    assert cache.get(1) is not None
    clock.now = 11
    assert cache.get(1) is None
    cache.put("fresh", _answer(10), ttl=10)  # a put sweeps what has expired
    assert len(cache) == 1
    assert cache.bytes < 1000  # the fresh one alone, not the 50 kB that expired


def test_the_least_recently_used_goes_first() -> None:
    cache = AnswerCache(3_500, now=Clock())
    for key in ("a", "b", "c"):
        cache.put(key, _answer(1000), ttl=60)
    assert cache.get("a") is not None  # used: now the newest
    cache.put("d", _answer(1000), ttl=60)
    assert cache.get("b") is None
    assert cache.get("a") is not None


def test_an_answer_over_the_whole_budget_is_not_kept() -> None:
    cache = AnswerCache(500, now=Clock())
    cache.put("big", _answer(1000), ttl=60)
    assert cache.get("big") is None
    assert cache.bytes == 0


def test_hits_and_misses_are_counted() -> None:
    seen: list[bool] = []
    cache = AnswerCache(10_000, counter=seen.append, now=Clock())
    cache.get("k")
    cache.put("k", _answer(10), ttl=60)
    cache.get("k")
    assert seen == [False, True]


def test_a_full_cache_gives_the_collector_nothing_to_walk() -> None:
    """Answers are kept as bytes: thousands of them add no objects that a full collection
    walks (kept as objects, documents with a list were 2.8 million of them at 64 MB)."""
    cache = AnswerCache(100_000_000, now=Clock())
    documents = [{"title": f"Lamp {n}", "tags": ["desk", "lamp"], "price": n} for n in range(20)]
    gc.collect()
    before = len(gc.get_objects())
    for n in range(2_000):
        cache.put(("q", n), _results(documents), ttl=60)
    gc.collect()
    assert len(gc.get_objects()) - before < 50
    assert cache.get(("q", 7)) == _results(documents)
