"""The search engines (`core.Engine`, embedded; `pg.PgEngine`, in PostgreSQL;
`typesense.TypesenseEngine`, in a Typesense cluster) and what they answer. `open_engine` picks
the one the settings name, else the one that goes with the store."""

from pathlib import Path

from app.adapters.engine.core import ENGINE_FILE, Engine
from app.adapters.engine.pg import PgEngine
from app.adapters.engine.protocol import ReadsOnce, SearchEngine, SearchesOnLoop
from app.adapters.engine.results import Hit, Search, SearchResult, Unsortable, UpsertResult
from app.adapters.engine.typesense import TypesenseEngine
from app.adapters.store import Store
from app.schemas.search import FacetCount, Sort
from app.typesense_address import TypesenseAddress


def open_engine(
    data_dir: Path, store: Store, typesense: TypesenseAddress | None = None
) -> SearchEngine:
    """The Typesense cluster's engine when the settings name one (`engine_url`); else the
    embedded engine in the data directory beside an SQLite store, and with a PostgreSQL store,
    collections in PostgreSQL too, so that every server shares them."""
    if typesense is not None:
        return TypesenseEngine(typesense)
    if store.is_sqlite:
        return Engine(data_dir / ENGINE_FILE)
    return PgEngine(store.engine)


__all__ = [
    "ENGINE_FILE",
    "Engine",
    "FacetCount",
    "Hit",
    "PgEngine",
    "ReadsOnce",
    "Search",
    "SearchEngine",
    "SearchResult",
    "SearchesOnLoop",
    "Sort",
    "TypesenseEngine",
    "Unsortable",
    "UpsertResult",
    "open_engine",
]
