"""A collection's row in the engine in PostgreSQL (`engine_collections`): its fields, how many
documents it holds and its embedding settings, read or locked for a write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app import jsonutil
from app.adapters.engine.fields import Fields


@dataclass(frozen=True)
class Collection:
    id: int
    fields: Fields
    documents: int
    embedding: dict[str, Any] | None = None  # as the services set it (`set_embedding`)


def collection(
    conn: sa.Connection, namespace: str, name: str, *, lock: bool = False
) -> Collection | None:
    """The collection, or None; with `lock`, its row locked until the transaction ends (one
    writer per collection at a time, across servers)."""
    row = conn.exec_driver_sql(
        "SELECT id, attributes, fields, documents, embedding FROM engine_collections "
        f"WHERE namespace = %s AND name = %s{' FOR UPDATE' if lock else ''}",
        (namespace, name),
    ).first()
    if row is None:
        return None
    embedding = None if row[4] is None else jsonutil.loads(row[4])
    return Collection(int(row[0]), Fields.load(row[1], row[2]), int(row[3]), embedding)


def locked(conn: sa.Connection, namespace: str, name: str) -> Collection:
    """The collection, made if it is new, its row locked for the write."""
    conn.exec_driver_sql(
        "INSERT INTO engine_collections (namespace, name) VALUES (%s, %s) "
        "ON CONFLICT (namespace, name) DO NOTHING",
        (namespace, name),
    )
    coll = collection(conn, namespace, name, lock=True)
    assert coll is not None
    return coll
