"""Vectors the publisher brings: each document carries its own in a named field, and a query
carries one too. No model runs here, so there is no text to embed; what comes in is checked
(its length, finite numbers) and made a unit vector."""

from __future__ import annotations

from collections.abc import Sequence

from app.adapters.embedders import Kind, Vectors
from app.adapters.embedders.vectors import checked
from app.errors import InvalidInput, invalid
from app.schemas.embedders import ProvidedConfig


class ProvidedVectors:
    def __init__(self, config: ProvidedConfig) -> None:
        self.config = config
        self.name = f"provided:{config.field}"
        self.dimensions = config.dimensions

    async def embed(self, texts: Sequence[str], kind: Kind) -> Vectors:
        """Refused: the publisher brings this collection's vectors, and no model here makes
        them from text."""
        raise invalid(
            self.config.field,
            f"a vector of {self.dimensions} numbers",
            f"{self.config.field}: this collection's vectors come with its documents, and no "
            f"model here turns text into them: send a vector of {self.dimensions} numbers.",
        )

    def vector(self, value: object, field: str | None = None) -> Vectors:
        """A brought vector (a document's, or a query's under `field`) checked and made a unit
        vector; a 422 naming the field otherwise."""
        name = field or self.config.field
        try:
            return checked(value, self.dimensions)
        except ValueError as problem:
            raise _invalid(name, str(problem)) from None


def _invalid(field: str, problem: str) -> InvalidInput:
    return invalid(field, problem, f"{field} must be {problem}.")
