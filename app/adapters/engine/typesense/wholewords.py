"""Whether a search's last word is a prefix on Typesense (`words.as_prefix`): a count of the word
in each search field (`query.counts`) is asked first, in one request, then the search, with the
word as typed when a count reaches WHOLE_WORD_THRESHOLD, else with the prefix. The answer is
kept for the collection, its search fields and the word (`WholeWords`), so that a word
searched again within AGE seconds is one search, with or without the prefix: the counts cost the
node about as much as the search (each scores every document holding the word). A write through
this process forgets its collection's answers; one through another server is seen within AGE
seconds, and changes anything only for a word whose count crosses the threshold meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from typing import Any

from app.adapters.engine.results import Search
from app.adapters.engine.typesense import query

AGE = 10.0  # seconds an answer is kept
MOST = 10_000  # answers kept at most (past it, all are forgotten)
Key = tuple[str, str, str]  # the collection's name, its search fields, the word
SearchMany = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
Answers = list[dict[str, Any]]
Steps = Generator[Answers, Answers, tuple[dict[str, Any], bool]]  # (see `steps`)


class WholeWords:
    def __init__(self) -> None:
        self._known: dict[Key, tuple[float, bool]] = {}
        self._writes: dict[str, int] = {}  # by collection, through this process
        self._lock = threading.Lock()

    def get(self, key: Key) -> bool | None:
        """Whether the word is a prefix, if known and young enough."""
        known = self._known.get(key)
        if known is None or time.monotonic() - known[0] >= AGE:
            return None
        return known[1]

    def put(self, key: Key, prefix: bool) -> None:
        with self._lock:
            if len(self._known) >= MOST:
                self._known.clear()
            self._known[key] = (time.monotonic(), prefix)

    def forget(self, name: str) -> None:
        """Forget a collection's answers (written to through this process)."""
        with self._lock:
            for key in [key for key in self._known if key[0] == name]:
                del self._known[key]
            self._writes[name] = self._writes.get(name, 0) + 1

    def writes(self, name: str) -> int:
        """How many writes to the collection this process has made (`inflight.py`)."""
        return self._writes.get(name, 0)


def key(name: str, params: dict[str, Any], counts: list[dict[str, Any]]) -> Key:
    return (name, str(params["query_by"]), str(counts[0]["q"]))


def steps(known: WholeWords, name: str, search: Search, params: dict[str, Any]) -> Steps:
    """The search's answer, and whether its last word was a prefix, as the requests it takes:
    each `yield` is the searches of one request (to `name`), answered by their answers in the
    same order; `by_words` sends them from a worker thread, `onloop.py` awaits them on the loop.
    One search when whether the last word is a prefix is known (or there are no words), else the
    word's counts first, then the one search they call for: with the prefix for a rare word, as
    typed for a common one. Sending the search with the prefix beside the counts saved a partly
    typed word a round trip, but made a common word cost the node a search it threw away, its
    dearest: the prefix expanded over a common word's documents (docs/performance.md,
    "Typesense")."""
    counts = query.counts(search, params)
    if not counts:
        return (yield [params])[0], True
    asked = key(name, params, counts)
    prefix = known.get(asked)
    if prefix is None:
        prefix = query.prefixed((yield counts))
        known.put(asked, prefix)
    sent = params if prefix else query.whole(params)
    return (yield [sent])[0], prefix


def by_words(
    search_many: SearchMany, known: WholeWords, name: str, search: Search, params: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """`steps`, each request sent by `search_many` (which blocks)."""
    run = steps(known, name, search, params)
    asked = next(run)
    while True:
        try:
            asked = run.send(search_many([{"collection": name, **each} for each in asked]))
        except StopIteration as done:
            answered: tuple[dict[str, Any], bool] = done.value
            return answered
