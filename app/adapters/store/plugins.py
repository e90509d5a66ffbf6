"""The store's plugin queries, each scoped by namespace (a transaction's connection)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from app.adapters.store.tables import plugin_installs, plugin_listings, plugin_versions, plugins


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
    """A plugin, its versions, its listing and its install record (the listing's count stays)."""
    conn.execute(plugin_listings.delete().where(plugin_listings.c.plugin_id == plugin_id))
    conn.execute(plugin_installs.delete().where(plugin_installs.c.plugin_id == plugin_id))
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


def version(conn: sa.Connection, plugin_id: str, version: str) -> dict[str, Any] | None:
    row = conn.execute(
        sa.select(plugin_versions).where(
            plugin_versions.c.plugin_id == plugin_id, plugin_versions.c.version == version
        )
    ).one_or_none()
    return None if row is None else dict(row._mapping)


def public_version(conn: sa.Connection, plugin_id: str, version: str) -> dict[str, Any] | None:
    """A version's body with its plugin's permissions, if the plugin is not a draft: what a
    page's frame may load."""
    row = conn.execute(
        sa.select(plugin_versions.c.blob, plugin_versions.c.url, plugins.c.permissions)
        .join(plugins, plugins.c.plugin_id == plugin_versions.c.plugin_id)
        .where(
            plugin_versions.c.plugin_id == plugin_id,
            plugin_versions.c.version == version,
            plugins.c.is_draft.is_(False),
        )
    ).one_or_none()
    return None if row is None else dict(row._mapping)


def by_tags(conn: sa.Connection, namespace: str, tags: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute(
        sa.select(plugins).where(plugins.c.namespace == namespace, plugins.c.tag.in_(tags))
    )
    return {row.tag: dict(row._mapping) for row in rows}
