"""Answers to identical public queries, kept for retrievers whose publisher turned it on
(`display_config.extensions.query_cache_seconds`).

Bounded by bytes, not entries: each answer counts as the size of its JSON (the objects kept
take a few times that; they are kept as objects because decoding JSON on every hit cost a
fifth of the cached throughput in `scripts/bench`). Expired answers are dropped when seen and
in a sweep at most once a second; past the budget the least recently used go first.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from app import jsonutil
from app.schemas.search import Results

SWEEP_SECONDS = 1.0


class AnswerCache:
    def __init__(
        self,
        max_bytes: int,
        counter: Callable[[bool], None] = lambda hit: None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_bytes = max_bytes
        self.counter = counter  # told hit (True) or miss (False), for the metrics
        self.now = now
        self.bytes = 0
        self._answers: OrderedDict[bytes, tuple[float, int, Results]] = OrderedDict()
        self._swept = now()

    def __len__(self) -> int:
        return len(self._answers)

    def get(self, key: Any) -> Results | None:
        """The answer stored under `key` (any JSON-able value), unless it has expired."""
        name = _normalised(key)
        entry = self._answers.get(name)
        if entry is not None and entry[0] <= self.now():
            self._drop(name)
            entry = None
        self.counter(entry is not None)
        if entry is None:
            return None
        self._answers.move_to_end(name)
        return entry[2]

    def put(self, key: Any, answer: Results, ttl: float) -> None:
        name = _normalised(key)
        size = len(jsonutil.dumps(answer))
        if name in self._answers:
            self._drop(name)
        if size > self.max_bytes:
            return
        self._sweep()
        while self.bytes + size > self.max_bytes:
            self._drop(next(iter(self._answers)))
        self._answers[name] = (self.now() + ttl, size, answer)
        self.bytes += size

    def _drop(self, name: bytes) -> None:
        _, size, _ = self._answers.pop(name)
        self.bytes -= size

    def _sweep(self) -> None:
        now = self.now()
        if now - self._swept < SWEEP_SECONDS:
            return
        self._swept = now
        for name in [name for name, (expires, _, _) in self._answers.items() if expires <= now]:
            self._drop(name)


def _normalised(key: Any) -> bytes:
    return jsonutil.dumps(key)
