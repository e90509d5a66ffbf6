"""The embedded search engine (`core.Engine`) and what it answers."""

from app.adapters.engine.core import ENGINE_FILE, Engine
from app.adapters.engine.results import (
    FacetValue,
    Hit,
    SearchResult,
    Sort,
    Unsortable,
    UpsertResult,
)

__all__ = [
    "ENGINE_FILE",
    "Engine",
    "FacetValue",
    "Hit",
    "SearchResult",
    "Sort",
    "Unsortable",
    "UpsertResult",
]
