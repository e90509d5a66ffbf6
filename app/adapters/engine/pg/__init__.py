"""The engine in PostgreSQL (`core.PgEngine`), for a PostgreSQL store."""

from app.adapters.engine.pg.core import PgEngine

__all__ = ["PgEngine"]
