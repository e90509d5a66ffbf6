"""The store's plugin queries, each scoped by namespace (a transaction's connection)."""

from __future__ import annotations

import sqlalchemy as sa

from app.adapters.store.records import PluginRecord, PluginVersionRecord
from app.adapters.store.tables import plugin_installs, plugin_listings, plugin_versions, plugins


def _match(namespace: str, tag_or_id: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        plugins.c.namespace == namespace,
        sa.or_(plugins.c.tag == tag_or_id, plugins.c.plugin_id == tag_or_id),
    )


def get(conn: sa.Connection, namespace: str, tag_or_id: str) -> PluginRecord | None:
    row = conn.execute(sa.select(plugins).where(_match(namespace, tag_or_id))).one_or_none()
    return None if row is None else PluginRecord.from_row(row._mapping)


def tag_taken(conn: sa.Connection, namespace: str, tag: str) -> bool:
    query = sa.select(plugins.c.plugin_id).where(
        plugins.c.namespace == namespace, plugins.c.tag == tag
    )
    return conn.execute(query).first() is not None


def listing(
    conn: sa.Connection, namespace: str, drafts: bool, roles: list[str], limit: int, offset: int
) -> tuple[list[PluginRecord], int]:
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
    return [PluginRecord.from_row(row._mapping) for row in rows], int(total.scalar_one())


def insert(conn: sa.Connection, record: PluginRecord) -> None:
    conn.execute(plugins.insert().values(**record.as_row()))


def update(conn: sa.Connection, record: PluginRecord) -> None:
    query = plugins.update().where(plugins.c.plugin_id == record.plugin_id)
    conn.execute(query.values(**record.as_row()))


def delete(conn: sa.Connection, plugin_id: str) -> None:
    """A plugin, its versions, its listing and its install record (the listing's count stays)."""
    conn.execute(plugin_listings.delete().where(plugin_listings.c.plugin_id == plugin_id))
    conn.execute(plugin_installs.delete().where(plugin_installs.c.plugin_id == plugin_id))
    conn.execute(plugin_versions.delete().where(plugin_versions.c.plugin_id == plugin_id))
    conn.execute(plugins.delete().where(plugins.c.plugin_id == plugin_id))


def add_version(conn: sa.Connection, record: PluginVersionRecord) -> None:
    conn.execute(plugin_versions.insert().values(**record.as_row()))


def version_exists(conn: sa.Connection, plugin_id: str, version: str) -> bool:
    query = sa.select(plugin_versions.c.version).where(
        plugin_versions.c.plugin_id == plugin_id, plugin_versions.c.version == version
    )
    return conn.execute(query).first() is not None


def versions(conn: sa.Connection, plugin_id: str) -> list[PluginVersionRecord]:
    rows = conn.execute(
        sa.select(plugin_versions)
        .where(plugin_versions.c.plugin_id == plugin_id)
        .order_by(plugin_versions.c.created_at)
    )
    return [PluginVersionRecord.from_row(row._mapping) for row in rows]


def version(conn: sa.Connection, plugin_id: str, version: str) -> PluginVersionRecord | None:
    row = conn.execute(
        sa.select(plugin_versions).where(
            plugin_versions.c.plugin_id == plugin_id, plugin_versions.c.version == version
        )
    ).one_or_none()
    return None if row is None else PluginVersionRecord.from_row(row._mapping)


def public_version(
    conn: sa.Connection, plugin_id: str, version: str
) -> tuple[str | None, list[str]] | None:
    """A version's blob with its plugin's permissions, if the plugin is not a draft: what a
    page's frame may load."""
    row = conn.execute(
        sa.select(plugin_versions.c.blob, plugins.c.permissions)
        .join(plugins, plugins.c.plugin_id == plugin_versions.c.plugin_id)
        .where(
            plugin_versions.c.plugin_id == plugin_id,
            plugin_versions.c.version == version,
            plugins.c.is_draft.is_(False),
        )
    ).one_or_none()
    return None if row is None else (row.blob, list(row.permissions))


def by_tags(conn: sa.Connection, namespace: str, tags: list[str]) -> dict[str, PluginRecord]:
    rows = conn.execute(
        sa.select(plugins).where(plugins.c.namespace == namespace, plugins.c.tag.in_(tags))
    )
    return {row.tag: PluginRecord.from_row(row._mapping) for row in rows}
