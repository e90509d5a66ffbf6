"""The store's pages (`/p/{slug}`), each scoped by namespace except the public read by slug."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.adapters.store.records import _Record
from app.adapters.store.tables import pages, published


@dataclass(frozen=True, slots=True)
class PageRecord(_Record):
    page_id: str
    namespace: str
    slug: str
    config: dict[str, Any]  # everything but the slug and the state: meta, tabs, sections...
    is_active: bool
    version: int
    created_at: str
    updated_at: str


def get(conn: sa.Connection, namespace: str, page_id_or_slug: str) -> PageRecord | None:
    query = sa.select(pages).where(
        pages.c.namespace == namespace,
        sa.or_(pages.c.page_id == page_id_or_slug, pages.c.slug == page_id_or_slug),
    )
    row = conn.execute(query).one_or_none()
    return None if row is None else PageRecord.from_row(row._mapping)


def by_slug(conn: sa.Connection, slug: str) -> PageRecord | None:
    row = conn.execute(sa.select(pages).where(pages.c.slug == slug)).one_or_none()
    return None if row is None else PageRecord.from_row(row._mapping)


def listing(
    conn: sa.Connection, namespace: str, limit: int, offset: int
) -> tuple[list[PageRecord], int]:
    where = pages.c.namespace == namespace
    rows = conn.execute(
        sa.select(pages)
        .where(where)
        .order_by(pages.c.created_at, pages.c.page_id)
        .limit(limit)
        .offset(offset)
    )
    total = conn.execute(sa.select(sa.func.count()).select_from(pages).where(where))
    return [PageRecord.from_row(row._mapping) for row in rows], int(total.scalar_one())


def insert(conn: sa.Connection, record: PageRecord) -> None:
    conn.execute(pages.insert().values(**record.as_row()))


def update(conn: sa.Connection, record: PageRecord) -> None:
    query = pages.update().where(pages.c.page_id == record.page_id)
    conn.execute(query.values(**record.as_row()))


def delete(conn: sa.Connection, page_id: str) -> None:
    conn.execute(pages.delete().where(pages.c.page_id == page_id))


def slug_taken(conn: sa.Connection, slug: str) -> bool:
    return conn.execute(sa.select(pages.c.page_id).where(pages.c.slug == slug)).first() is not None


def published_names(
    conn: sa.Connection, namespace: str, retriever_ids: list[str]
) -> dict[str, str]:
    """The public name of each of these retrievers of a namespace that is published."""
    rows = conn.execute(
        sa.select(published.c.retriever_id, published.c.public_name).where(
            published.c.namespace == namespace, published.c.retriever_id.in_(retriever_ids)
        )
    )
    return {str(row.retriever_id): str(row.public_name) for row in rows}


def published_owner(conn: sa.Connection, public_name: str) -> tuple[str, str] | None:
    """(namespace, retriever id) of the retriever published under this name, if any."""
    row = conn.execute(
        sa.select(published.c.namespace, published.c.retriever_id).where(
            published.c.public_name == public_name
        )
    ).one_or_none()
    return None if row is None else (str(row.namespace), str(row.retriever_id))
