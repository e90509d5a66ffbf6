"""Embedders: texts in, one unit vector a text out, behind one small protocol.

`Embedders` is the registry the rest of the server reads: a stored `embedder` object's `type`
names an entry, whose config model parses the object and whose factory makes the embedder for
a namespace. `builtin.py` registers the kinds this server ships, the way a plugin would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ValidationError

from app import jsonutil
from app.errors import from_validation_error, invalid

Kind = Literal["query", "document"]
Vectors = npt.NDArray[np.float32]
FIELD = "embedder"
MAX_BUILT = 1000  # embedders kept built, by namespace and config

ConfigT = TypeVar("ConfigT", bound=BaseModel)


class Embedder(Protocol):
    # The model, as stored beside its vectors: vectors made under two names never mix.
    name: str
    dimensions: int

    async def embed(self, texts: Sequence[str], kind: Kind) -> Vectors:
        """One float32 row a text, of length 1 (so an inner product is the cosine), or of
        zeros where the model finds nothing to embed (the built-in one, in blank text)."""
        ...


def _always() -> str | None:
    return None


@dataclass(frozen=True)
class EmbedderKind:
    config: type[BaseModel]
    factory: Callable[[Any, str], Embedder]  # (its config, the namespace) -> the embedder
    unavailable: Callable[[], str | None]  # why this server cannot run the kind, if it cannot


class Embedders(Mapping[str, EmbedderKind]):
    def __init__(self) -> None:
        self._kinds: dict[str, EmbedderKind] = {}
        self._built: dict[tuple[str, bytes], Embedder] = {}

    def register(
        self,
        name: str,
        config: type[ConfigT],
        factory: Callable[[ConfigT, str], Embedder],
        unavailable: Callable[[], str | None] = _always,
    ) -> None:
        if name in self._kinds:
            raise ValueError(f"embedder {name!r} is registered twice")
        self._kinds[name] = EmbedderKind(config, factory, unavailable)

    def __getitem__(self, name: str) -> EmbedderKind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def parse(self, embedder: object, field: str = FIELD) -> BaseModel:
        """An `embedder` object as its kind's config model; a 422 naming the field otherwise
        (an unknown kind, one this server cannot run, a bad option)."""
        kinds = ", ".join(repr(name) for name in self._kinds)
        if not isinstance(embedder, Mapping):
            raise invalid(field, f"an object whose type is one of {kinds}")
        kind_name = embedder.get("type")
        kind = self._kinds.get(kind_name) if isinstance(kind_name, str) else None
        if kind is None:
            shown = repr(kind_name)[:60]
            raise invalid(
                f"{field}.type",
                f"one of {kinds}",
                f"{field}.type {shown} is not an embedder this server runs: one of {kinds}.",
            )
        reason = kind.unavailable()
        if reason is not None:
            raise invalid(f"{field}.type", reason, f"{field}.type {kind_name!r}: {reason}.")
        try:
            return kind.config.model_validate(dict(embedder))
        except ValidationError as error:
            raise from_validation_error(error, (field,)) from None

    def build(self, config: BaseModel, namespace: str) -> Embedder:
        """The embedder a parsed config describes, for a collection of `namespace`."""
        kind: str = getattr(config, "type")  # noqa: B009 (every config model has its type)
        return self._kinds[kind].factory(config, namespace)

    def of(self, stored: Mapping[str, Any], namespace: str) -> Embedder:
        """The embedder of a stored config (as a collection keeps it), built once."""
        key = (namespace, jsonutil.dumps(dict(stored)))
        built = self._built.get(key)
        if built is None:
            if len(self._built) > MAX_BUILT:
                self._built.clear()
            built = self._built[key] = self.build(self.parse(stored), namespace)
        return built
