"""Answers to identical public queries, kept for retrievers whose publisher turned it on
(`display_config.extensions.query_cache_seconds`).

Bounded by bytes, not entries: each answer is kept as its JSON, and counts as its size.
Kept as bytes rather than as the documents' objects, because the garbage collector never looks
into bytes: 64 MB of answers whose documents have a list or highlights is 2.8 million objects,
0.9 s of CPU for every full collection; `bench.servers` measures a hit's decoding at no cost it
can tell from noise (docs/design.md, "The collector and the GIL"). Expired answers are
dropped when seen and in a sweep at most once a second; past the budget the least recently used
go first.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import orjson

from app import jsonutil
from app.schemas.search import FacetCount, Results

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
        # key -> (expires, the answer as JSON, whether only the standard library can read it)
        self._answers: OrderedDict[bytes, tuple[float, bytes, bool]] = OrderedDict()
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
        return _unpacked(entry[1], entry[2])

    def put(self, key: Any, answer: Results, ttl: float) -> None:
        name = _normalised(key)
        packed, wide = _packed(answer)
        size = len(packed)
        if name in self._answers:
            self._drop(name)
        if size > self.max_bytes:
            return
        self._sweep()
        while self.bytes + size > self.max_bytes:
            self._drop(next(iter(self._answers)))
        self._answers[name] = (self.now() + ttl, packed, wide)
        self.bytes += size

    def _drop(self, name: bytes) -> None:
        _, packed, _ = self._answers.pop(name)
        self.bytes -= len(packed)

    def _sweep(self) -> None:
        now = self.now()
        if now - self._swept < SWEEP_SECONDS:
            return
        self._swept = now
        for name in [name for name, (expires, _, _) in self._answers.items() if expires <= now]:
            self._drop(name)


def _normalised(key: Any) -> bytes:
    return jsonutil.dumps(key)


def _packed(answer: Results) -> tuple[bytes, bool]:
    """The answer as JSON, and whether it needed the standard library (an integer past 64
    bits, which orjson would read back as a float)."""
    fields = {
        "execution_id": answer.execution_id,
        "documents": answer.documents,
        "page_number": answer.page_number,
        "page_size": answer.page_size,
        "total": answer.total,
        "has_next": answer.has_next,
        "facets": None
        if answer.facets is None
        else {name: [[c.value, c.count] for c in counts] for name, counts in answer.facets.items()},
        "words_left_out": answer.words_left_out,
    }
    try:
        return orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS), False
    except orjson.JSONEncodeError:
        return jsonutil.dumps(fields), True


def _unpacked(packed: bytes, wide: bool) -> Results:
    fields = json.loads(packed) if wide else orjson.loads(packed)
    facets = fields["facets"]
    return Results(
        execution_id=fields["execution_id"],
        documents=fields["documents"],
        page_number=fields["page_number"],
        page_size=fields["page_size"],
        total=fields["total"],
        has_next=fields["has_next"],
        facets=None
        if facets is None
        else {name: [FacetCount(v, c) for v, c in counts] for name, counts in facets.items()},
        words_left_out=tuple(fields["words_left_out"]),
    )
