"""The store's relevance rules: one JSON document a retriever, read and replaced whole within
a transaction (each change one write, so that two owners' edits of one rule each never lose
the other's)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.adapters.store.tables import relevance_rules, retrievers


@dataclass(frozen=True)
class RulesRecord:
    retriever_id: str
    namespace: str
    rules: dict[str, Any]
    version: int
    updated_at: str


def get(conn: sa.Connection, namespace: str, retriever_id: str) -> RulesRecord | None:
    row = conn.execute(
        sa.select(relevance_rules).where(
            relevance_rules.c.retriever_id == retriever_id,
            relevance_rules.c.namespace == namespace,
        )
    ).one_or_none()
    return None if row is None else RulesRecord(**row._mapping)


def lock(conn: sa.Connection, retriever_id: str) -> None:
    """Hold the retriever's row until the transaction ends, so that changes of its rules go
    one after another (SQLite's write transaction holds the whole database already)."""
    if conn.dialect.name != "sqlite":
        query = sa.select(retrievers.c.retriever_id).where(
            retrievers.c.retriever_id == retriever_id
        )
        conn.execute(query.with_for_update())


def put(
    conn: sa.Connection, namespace: str, retriever_id: str, rules: dict[str, Any], now: str
) -> RulesRecord:
    """Replace a retriever's rules; the version counts each change."""
    old = get(conn, namespace, retriever_id)
    record = RulesRecord(retriever_id, namespace, rules, (old.version if old else 0) + 1, now)
    values = {"rules": rules, "version": record.version, "updated_at": now}
    if old is None:
        conn.execute(
            relevance_rules.insert().values(
                retriever_id=retriever_id, namespace=namespace, **values
            )
        )
    else:
        conn.execute(
            relevance_rules.update()
            .where(relevance_rules.c.retriever_id == retriever_id)
            .values(**values)
        )
    return record
