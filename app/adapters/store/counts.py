"""Counters in the store: one row per key, added to in one atomic upsert, so that every
process sharing the store shares the count."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.adapters.store.tables import counts


def add(conn: sa.Connection, key: str, amount: int, expires_at: float, now: float) -> int:
    """Add `amount` to a counter (a missing or expired one starts from 0); its new value.

    `expires_at` is set when the counter starts and kept while it lives, like Redis' INCRBY
    on a key given a TTL when it was made."""
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    expired = counts.c.expires_at <= now
    query = (
        dialect.insert(counts)
        .values(counter_key=key, value=amount, expires_at=expires_at)
        .on_conflict_do_update(
            index_elements=[counts.c.counter_key],
            set_={
                "value": sa.case((expired, amount), else_=counts.c.value + amount),
                "expires_at": sa.case((expired, expires_at), else_=counts.c.expires_at),
            },
        )
        .returning(counts.c.value)
    )
    return int(conn.execute(query).scalar_one())


def value(conn: sa.Connection, key: str, now: float) -> int:
    """A counter's value; 0 when it is missing or has expired."""
    query = sa.select(counts.c.value).where(counts.c.counter_key == key, counts.c.expires_at > now)
    return int(conn.execute(query).scalar() or 0)


def prune(conn: sa.Connection, now: float) -> int:
    """Delete the counters that have expired; how many."""
    return conn.execute(counts.delete().where(counts.c.expires_at <= now)).rowcount
