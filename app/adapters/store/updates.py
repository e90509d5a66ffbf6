"""Rows changed in place, in a transaction's connection (beside the `Transaction`'s own
queries)."""

from __future__ import annotations

import sqlalchemy as sa

from app.adapters.store.records import RetrieverRecord
from app.adapters.store.tables import retrievers


def update_retriever(conn: sa.Connection, record: RetrieverRecord) -> None:
    query = retrievers.update().where(
        retrievers.c.namespace == record.namespace,
        retrievers.c.retriever_id == record.retriever_id,
    )
    conn.execute(query.values(**record.as_row()))
