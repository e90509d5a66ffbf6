"""Answers to identical public queries, kept for retrievers whose publisher turned it on
(`display_config.extensions.query_cache_seconds`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from app import jsonutil

MAX_CACHED_ANSWERS = 2_000


class AnswerCache:
    def __init__(
        self,
        counter: Callable[[bool], None] = lambda hit: None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.counter = counter  # told hit (True) or miss (False), for the metrics
        self.now = now
        self._answers: dict[bytes, tuple[float, dict[str, Any]]] = {}

    def get(self, key: Any) -> dict[str, Any] | None:
        """The answer stored under `key` (any JSON-able value), unless it has expired."""
        cached = self._answers.get(jsonutil.dumps(key))
        fresh = cached is not None and cached[0] > self.now()
        self.counter(fresh)
        return cached[1] if cached is not None and fresh else None

    def put(self, key: Any, answer: dict[str, Any], ttl: float) -> None:
        if len(self._answers) >= MAX_CACHED_ANSWERS:
            self._answers.clear()
        self._answers[jsonutil.dumps(key)] = (self.now() + ttl, answer)
