"""The store's plugin queries, each scoped by namespace (a transaction's connection)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.adapters.store.tables import plugin_versions, plugins


def _match(namespace: str, tag_or_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        plugins.c.namespace == namespace,
        sa.or_(plugins.c.tag == tag_or_id, plugins.c.plugin_id == tag_or_id),
    )


def get(conn: sa.Connection, namespace: str, tag_or_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(plugins).where(_match(namespace, tag_or_id))).one_or_none()
    return None if row is None else dict(row._mapping)


def tag_taken(conn: sa.Connection, namespace: str, tag: str) -> bool:
    query = sa.select(plugins.c.plugin_id).where(
        plugins.c.namespace == namespace, plugins.c.tag == tag
    )
    return conn.execute(query).first() is not None


def listing(
    conn: sa.Connection, namespace: str, drafts: bool, roles: list[str], limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    where = [plugins.c.namespace == namespace, plugins.c.minimum_role_required.in_(roles)]
    if not drafts:
        where.append(plugins.c.is_draft.is_(False))
    total = conn.execute(sa.select(sa.func.count()).select_from(plugins).where(*where))
    rows = conn.execute(
        sa.select(plugins)
        .where(*where)
        .order_by(plugins.c.created_at, plugins.c.plugin_id)
        .limit(limit)
        .offset(offset)
    )
    return [dict(row._mapping) for row in rows], int(total.scalar_one())


def insert(conn: sa.Connection, row: dict[str, Any]) -> None:
    conn.execute(plugins.insert().values(**row))


def update(conn: sa.Connection, row: dict[str, Any]) -> None:
    conn.execute(plugins.update().where(plugins.c.plugin_id == row["plugin_id"]).values(**row))


def delete(conn: sa.Connection, plugin_id: str) -> None:
    conn.execute(plugin_versions.delete().where(plugin_versions.c.plugin_id == plugin_id))
    conn.execute(plugins.delete().where(plugins.c.plugin_id == plugin_id))


def add_version(conn: sa.Connection, row: dict[str, Any]) -> None:
    conn.execute(plugin_versions.insert().values(**row))


def version_exists(conn: sa.Connection, plugin_id: str, version: str) -> bool:
    query = sa.select(plugin_versions.c.version).where(
        plugin_versions.c.plugin_id == plugin_id, plugin_versions.c.version == version
    )
    return conn.execute(query).first() is not None


def versions(conn: sa.Connection, plugin_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        sa.select(plugin_versions)
        .where(plugin_versions.c.plugin_id == plugin_id)
        .order_by(plugin_versions.c.created_at)
    )
    return [dict(row._mapping) for row in rows]
