"""Embedders that run in this process: the model loaded once per process on first use, and
large batches embedded in a worker thread so that the event loop keeps serving.

A single short query may be embedded on the event loop itself, where that measures faster than
the hop to a thread and back (bench/embedders.py prints both, docs/design.md has the figures).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import numpy as np

from app.adapters.embedders import Kind, Vectors
from app.adapters.threads import in_thread
from app.errors import EmbedderUnavailable

T = TypeVar("T")
Encode = Callable[[list[str], Kind], Vectors]
NOT_LOADED_RETRY_AFTER_SECONDS = 60  # an operator has to install or repair something


class Once(Generic[T]):
    """A value made on first use, once per process however many threads ask at the same time;
    a failed attempt is not kept, so the next call tries again."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._value: T | None = None

    @property
    def ready(self) -> bool:
        return self._value is not None

    def get(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._make()
        return self._value


class LocalEmbedder:
    """An in-process model behind the `Embedder` protocol.

    Up to `inline_texts` texts of `inline_characters` in all are embedded on the event loop;
    anything larger, and the first load, in a worker thread."""

    def __init__(
        self,
        name: str,
        dimensions: int,
        model: Once[Encode],
        inline_texts: int = 0,
        inline_characters: int = 0,
    ) -> None:
        self.name = name
        self.dimensions = dimensions
        self.model = model
        self.inline_texts = inline_texts
        self.inline_characters = inline_characters

    def inline(self, texts: Sequence[str]) -> bool:
        return len(texts) <= self.inline_texts and (sum(map(len, texts)) <= self.inline_characters)

    async def embed(self, texts: Sequence[str], kind: Kind) -> Vectors:
        batch = list(texts)
        if not batch:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        encode = self.model.get() if self.model.ready else await in_thread(self._load)
        if self.inline(batch):
            return encode(batch, kind)
        return await in_thread(encode, batch, kind)

    def _load(self) -> Encode:
        try:
            return self.model.get()
        except EmbedderUnavailable:
            raise
        except (ImportError, OSError, RuntimeError, ValueError) as error:
            # A package half installed, a weights file missing or damaged: nothing a caller
            # can change, and nothing to hide from the operator who can.
            raise EmbedderUnavailable(
                f"The embedder {self.name} could not load its model ({type(error).__name__}).",
                embedder=self.name,
                reason="not_loaded",
                retry_after=NOT_LOADED_RETRY_AFTER_SECONDS,
            ) from error
