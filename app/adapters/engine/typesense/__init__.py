"""The engine in a Typesense cluster (`RETRIEVER_PAGES_ENGINE_URL=typesense://...`): every
server reads and writes the same collections, which Typesense replicates across its nodes."""

from app.adapters.engine.typesense.core import TypesenseEngine

__all__ = ["TypesenseEngine"]
