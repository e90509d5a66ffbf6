"""The search engines (`core.Engine`, embedded; `pg.PgEngine`, in PostgreSQL) and what they
answer. `open_engine` picks the one that goes with the store."""

from pathlib import Path

from app.adapters.engine.core import ENGINE_FILE, Engine
from app.adapters.engine.pg import PgEngine
from app.adapters.engine.protocol import SearchEngine
from app.adapters.engine.results import Hit, Search, SearchResult, Unsortable, UpsertResult
from app.adapters.store import Store
from app.schemas.search import FacetCount, Sort


def open_engine(data_dir: Path, store: Store) -> SearchEngine:
    """The embedded engine in the data directory beside an SQLite store; with a PostgreSQL
    store, collections in PostgreSQL too, so that every server shares them."""
    if store.is_sqlite:
        return Engine(data_dir / ENGINE_FILE)
    return PgEngine(store.engine)


__all__ = [
    "ENGINE_FILE",
    "Engine",
    "FacetCount",
    "Hit",
    "PgEngine",
    "Search",
    "SearchEngine",
    "SearchResult",
    "Sort",
    "Unsortable",
    "UpsertResult",
    "open_engine",
]
