"""What is worked out once and read again, kept in memory by key: at most so many entries, the
oldest dropped first (parts of pages, marked texts, plans of loaded configs, rate-limit windows).

Two kinds of key. A value's own inputs (a text and the words marked in it): any equal key finds
it. A loaded config object (`made`): keyed by its `id`, the entry holding the object itself, so
that its id is never reused while the entry stands; such objects are never changed (a new
version, and each reload of the catalog, is a new object).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import suppress
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class Kept(Generic[K, V]):
    """At most `most` values by key, the oldest dropped first. `get` is the dictionary's own
    (read for every result of a search: no call of ours in the way)."""

    __slots__ = ("_entries", "get", "most")

    def __init__(self, most: int) -> None:
        self._entries: dict[K, V] = {}
        self.most = most
        self.get = self._entries.get

    def put(self, key: K, value: V) -> V:
        """Keep `value` under `key`; `value`."""
        entries = self._entries
        if len(entries) >= self.most and key not in entries:
            # The oldest goes (another thread may take it first, or change the dictionary
            # between `iter` and `next`).
            with suppress(KeyError, StopIteration, RuntimeError):
                del entries[next(iter(entries))]
        entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()


def made(kept: Kept[Any, tuple[Any, Any]], key: Hashable, holder: Any, make: Callable[[], T]) -> T:
    """What `make` returns for `key`, made once and kept while the entry stands. `key` names
    `holder` (a loaded config object) by its id; the entry holds it, so its id is never reused
    meanwhile."""
    entry = kept.get(key)
    if entry is not None:
        found: T = entry[1]
        return found
    value = make()
    kept.put(key, (holder, value))
    return value
