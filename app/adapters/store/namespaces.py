"""The namespaces the store knows of: those with retrievers or with owner keys."""

from __future__ import annotations

import sqlalchemy as sa

from app.adapters.store.tables import owner_keys, retrievers


def known_namespaces(conn: sa.Connection, limit: int) -> list[str]:
    """Up to `limit` namespaces that hold retrievers or that stored keys are bound to, by name."""
    union = sa.union(
        sa.select(retrievers.c.namespace.label("namespace")),
        sa.select(owner_keys.c.namespace.label("namespace")),
    ).subquery()
    query = sa.select(union.c.namespace).order_by(union.c.namespace).limit(limit)
    return [str(row[0]) for row in conn.execute(query)]
