"""The store's search-log queries (a transaction's connection)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from app.adapters.store.tables import interactions, search_log


def insert(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    conn.execute(search_log.insert(), rows)


def delete_before(conn: sa.Connection, cutoff: str) -> int:
    deleted = conn.execute(search_log.delete().where(search_log.c.created_at < cutoff))
    return int(deleted.rowcount or 0)


def rows(
    conn: sa.Connection,
    namespace: str,
    retriever_id: str,
    start: str,
    end: str,
    columns: Sequence[str],
    *,
    surfaces: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The retriever's logged searches from `start` up to (not including) `end`, oldest
    first, with only the columns asked for."""
    query = (
        sa.select(*(search_log.c[name] for name in columns))
        .where(
            search_log.c.namespace == namespace,
            search_log.c.retriever_id == retriever_id,
            search_log.c.created_at >= start,
            search_log.c.created_at < end,
        )
        .order_by(search_log.c.created_at)
    )
    if surfaces is not None:
        query = query.where(search_log.c.surface.in_(surfaces))
    return [dict(row._mapping) for row in conn.execute(query)]


def clicks(
    conn: sa.Connection, namespace: str, retriever_id: str, start: str, end: str
) -> list[dict[str, Any]]:
    """The retriever's recorded interactions from `start` up to `end` that name the search
    they came from (its execution id)."""
    query = sa.select(
        interactions.c.execution_id,
        interactions.c.document_id,
        interactions.c.position,
        interactions.c.interaction_types,
    ).where(
        interactions.c.namespace == namespace,
        interactions.c.retriever_id == retriever_id,
        interactions.c.created_at >= start,
        interactions.c.created_at < end,
        interactions.c.execution_id.is_not(None),
    )
    return [dict(row._mapping) for row in conn.execute(query)]
