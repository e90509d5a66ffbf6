"""What a search must know of a collection before asking Typesense (which columns its
documents have made concrete: Typesense refuses a search naming any other; its embedding
settings, which every search reads first), read once and kept for a second, so that a search
is one request and not three.

A write through this process forgets what it kept at once (it may have added columns); a
write through another server is seen within `FRESH_SECONDS`, and a search that names a column
gone meanwhile (its collection dropped and made again) reads the schema again (`core.py`).
Beside the columns: which synonym roots (`synonyms.py`) this process has put on the
collection, forgotten with it, and so put again on a collection made anew.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FRESH_SECONDS = 1.0


@dataclass
class Held:
    columns: frozenset[str]
    created: int  # when Typesense made the collection: another one, once dropped and made again
    read: float  # time.monotonic() when read
    documents: int  # how many it held then
    synonyms: set[str] = field(default_factory=set)
    vector: tuple[str, int] | None = None  # its vector column and its dimensions, if it embeds
    vectors: int = 0  # how many documents had their vector
    embedding: dict[str, Any] | None = None  # its embedding settings (`vectors.py`), if any


class Schemas:
    def __init__(self, fresh_seconds: float = FRESH_SECONDS) -> None:
        self._fresh = fresh_seconds
        self._held: dict[str, Held] = {}
        self._lock = threading.Lock()

    def get(self, name: str, read: Callable[[], dict[str, Any] | None]) -> Held | None:
        """The collection's columns, read by `read` (its schema; None: no such collection)
        when not known for the last second."""
        now = time.monotonic()
        with self._lock:
            held = self._held.get(name)
        if held is not None and now - held.read < self._fresh:
            return held
        found = read()
        if found is None:
            self.forget(name)
            return None
        columns = frozenset(entry["name"] for entry in found["fields"] if ".*" not in entry["name"])
        created = int(found.get("created_at", 0))
        kept = held.synonyms if held is not None and held.created == created else set()
        vector = next(
            ((entry["name"], int(entry["num_dim"])) for entry in found["fields"]
             if entry["name"].startswith("_vec_") and entry.get("num_dim")),
            None,
        )  # fmt: skip
        documents = int(found.get("num_documents", 0))
        fresh = Held(columns, created, now, documents, kept, vector, int(found.get("_vectors", 0)),
                     found.get("_embedding"))  # fmt: skip
        with self._lock:
            self._held[name] = fresh
        return fresh

    def peek(self, name: str) -> tuple[Held | None, bool]:
        """What is known of the collection, without reading, and whether it is to be read again
        (older than a second): None, not known, or made stale by a write through this process."""
        with self._lock:
            held = self._held.get(name)
        if held is None or held.read == float("-inf"):
            return None, True
        return held, time.monotonic() - held.read >= self._fresh

    def forget(self, name: str) -> None:
        with self._lock:
            self._held.pop(name, None)

    def forget_all(self) -> None:
        with self._lock:
            self._held.clear()

    def stale(self, name: str) -> None:
        """Read the columns again next time, keeping what else is known of the collection."""
        with self._lock:
            held = self._held.get(name)
            if held is not None:
                held.read = float("-inf")
