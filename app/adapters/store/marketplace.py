"""The store's marketplace queries: plugin listings and the installs they count."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from app import jsonutil
from app.adapters import like
from app.adapters.store.records import InstallRecord, ListedPluginRecord, ListingRecord
from app.adapters.store.tables import plugin_installs, plugin_listings, plugins

# The order of a public listing: official first, then verified, then the community's.
_TIER_RANK = sa.case(
    (plugin_listings.c.trust_tier == "official", 0),
    (plugin_listings.c.trust_tier == "verified", 1),
    else_=2,
)
_WITH_PLUGIN = plugin_listings.join(plugins, plugins.c.plugin_id == plugin_listings.c.plugin_id)
# The tags' stored JSON as plain text, so that a LIKE pattern is not itself encoded as JSON.
_TAGS_TEXT = sa.type_coerce(plugin_listings.c.tags, sa.Text)
_PUBLIC = sa.and_(plugin_listings.c.is_active.is_(True), plugins.c.is_draft.is_(False))


def _joined() -> sa.Select[Any]:
    """A listing with its plugin's name, permissions and parameters beside it."""
    return sa.select(
        plugin_listings,
        plugins.c.name,
        plugins.c.tag,
        plugins.c.url,
        plugins.c.permissions,
        plugins.c.parameters,
    ).select_from(_WITH_PLUGIN)


def of_plugin(conn: sa.Connection, plugin_id: str) -> ListedPluginRecord | None:
    row = conn.execute(_joined().where(plugin_listings.c.plugin_id == plugin_id)).one_or_none()
    return None if row is None else ListedPluginRecord.from_row(row._mapping)


def public(conn: sa.Connection, public_name: str) -> ListedPluginRecord | None:
    """An active listing of a plugin that is not a draft, by its public name."""
    query = _joined().where(plugin_listings.c.public_name == public_name, _PUBLIC)
    row = conn.execute(query).one_or_none()
    return None if row is None else ListedPluginRecord.from_row(row._mapping)


def search(
    conn: sa.Connection,
    words: str | None,
    category: str | None,
    tag: str | None,
    limit: int,
    offset: int,
) -> tuple[list[ListedPluginRecord], int]:
    where: list[sa.ColumnElement[bool]] = [_PUBLIC]
    if words:
        for word in words.lower().split()[:10]:
            pattern = f"%{like.literal(word)}%"
            where.append(
                sa.or_(
                    *(
                        sa.func.lower(column).like(pattern, escape=like.ESCAPE)
                        for column in (
                            plugin_listings.c.public_name,
                            plugins.c.name,
                            plugin_listings.c.description,
                            _TAGS_TEXT,
                            plugin_listings.c.category,
                        )
                    )
                )
            )
    if category:
        where.append(sa.func.lower(plugin_listings.c.category) == category.lower())
    if tag:
        # The tag as the stored JSON list spells it, quotes and all: a whole tag, not a part.
        spelled = like.literal(jsonutil.dumps(tag).decode())
        where.append(_TAGS_TEXT.like(f"%{spelled}%", escape=like.ESCAPE))
    total = conn.execute(
        sa.select(sa.func.count())
        .select_from(
            plugin_listings.join(plugins, plugins.c.plugin_id == plugin_listings.c.plugin_id)
        )
        .where(*where)
    ).scalar_one()
    rows = conn.execute(
        _joined()
        .where(*where)
        .order_by(_TIER_RANK, plugin_listings.c.install_count.desc(), plugin_listings.c.public_name)
        .limit(limit)
        .offset(offset)
    )
    return [ListedPluginRecord.from_row(row._mapping) for row in rows], int(total)


def categories(conn: sa.Connection) -> list[tuple[str, int]]:
    """The categories of public listings, with how many listings each has."""
    rows = conn.execute(
        sa.select(plugin_listings.c.category, sa.func.count())
        .select_from(_WITH_PLUGIN)
        .where(_PUBLIC, plugin_listings.c.category.is_not(None))
        .group_by(plugin_listings.c.category)
        .order_by(plugin_listings.c.category)
    )
    return [(str(category), int(count)) for category, count in rows]


def name_taken(conn: sa.Connection, public_name: str) -> bool:
    query = sa.select(plugin_listings.c.public_id).where(
        plugin_listings.c.public_name == public_name
    )
    return conn.execute(query).first() is not None


def insert(conn: sa.Connection, record: ListingRecord) -> None:
    conn.execute(plugin_listings.insert().values(**record.as_row()))


def update(conn: sa.Connection, record: ListingRecord) -> None:
    """Write a listing back: every column but its install count, which only installs move (so
    that one made meanwhile is not lost)."""
    row = {field.name: getattr(record, field.name) for field in dataclasses.fields(ListingRecord)}
    del row["install_count"]
    query = plugin_listings.update().where(plugin_listings.c.public_id == record.public_id)
    conn.execute(query.values(**row))


def delete(conn: sa.Connection, public_id: str) -> None:
    conn.execute(plugin_listings.delete().where(plugin_listings.c.public_id == public_id))


def installed(conn: sa.Connection, public_id: str, namespace: str) -> bool:
    query = sa.select(plugin_installs.c.plugin_id).where(
        plugin_installs.c.public_id == public_id, plugin_installs.c.namespace == namespace
    )
    return conn.execute(query).first() is not None


def add_install(conn: sa.Connection, record: InstallRecord) -> None:
    """Record an install and count it, in the caller's transaction."""
    conn.execute(plugin_installs.insert().values(**record.as_row()))
    conn.execute(
        plugin_listings.update()
        .where(plugin_listings.c.public_id == record.public_id)
        .values(install_count=plugin_listings.c.install_count + 1)
    )
