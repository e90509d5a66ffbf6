"""The engine in PostgreSQL (`core.PgEngine`), for a PostgreSQL store; it searches by meaning
with pgvector where the server has it (`meaning.py`, `hybrid.py`)."""

from app.adapters.engine.pg.core import PgEngine

__all__ = ["PgEngine"]
