"""The store's page drafts and published versions: a retriever's draft display config (one a
retriever, replaced whole when saved) and a snapshot of its display config each time it is
published, numbered from 1 and never changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.adapters.store.records import PublishedRecord
from app.adapters.store.tables import owner_keys, page_drafts, page_versions

NOTE_MAX_CHARS = 200
AUTHOR_MAX_CHARS = 200


@dataclass(frozen=True)
class Byline:
    """Who published a version (as the versions list shows it), and why, if said."""

    who: str
    note: str | None = None


API = Byline("owner API")


@dataclass(frozen=True)
class DraftRecord:
    retriever_id: str
    namespace: str
    display_config: dict[str, Any]
    saved_by: str
    saved_at: str


@dataclass(frozen=True)
class VersionRecord:
    retriever_id: str
    number: int
    namespace: str
    display_config: dict[str, Any]
    published_by: str
    published_at: str
    note: str | None


def draft(conn: sa.Connection, namespace: str, retriever_id: str) -> DraftRecord | None:
    row = conn.execute(
        sa.select(page_drafts).where(
            page_drafts.c.retriever_id == retriever_id, page_drafts.c.namespace == namespace
        )
    ).one_or_none()
    return None if row is None else DraftRecord(**row._mapping)


def put_draft(conn: sa.Connection, record: DraftRecord) -> None:
    values = {
        "display_config": record.display_config,
        "saved_by": record.saved_by[:AUTHOR_MAX_CHARS],
        "saved_at": record.saved_at,
    }
    where = page_drafts.c.retriever_id == record.retriever_id
    if conn.execute(page_drafts.update().where(where).values(**values)).rowcount == 0:
        conn.execute(
            page_drafts.insert().values(
                retriever_id=record.retriever_id, namespace=record.namespace, **values
            )
        )


def drop_draft(conn: sa.Connection, namespace: str, retriever_id: str) -> None:
    conn.execute(
        page_drafts.delete().where(
            page_drafts.c.retriever_id == retriever_id, page_drafts.c.namespace == namespace
        )
    )


def add_version(
    conn: sa.Connection,
    namespace: str,
    retriever_id: str,
    display_config: dict[str, Any],
    published_by: str,
    published_at: str,
    note: str | None = None,
) -> int:
    """Store a snapshot as the retriever's next version (inside the publishing transaction,
    which holds the published row, so numbers never collide); its number."""
    last = conn.execute(
        sa.select(sa.func.max(page_versions.c.number)).where(
            page_versions.c.retriever_id == retriever_id
        )
    ).scalar_one_or_none()
    number = int(last or 0) + 1
    conn.execute(
        page_versions.insert().values(
            retriever_id=retriever_id,
            number=number,
            namespace=namespace,
            display_config=display_config,
            published_by=published_by[:AUTHOR_MAX_CHARS],
            published_at=published_at,
            note=note[:NOTE_MAX_CHARS] if note else None,
        )
    )
    return number


def snapshot(conn: sa.Connection, record: PublishedRecord, by: Byline) -> int:
    """The published record's display config as the retriever's next version."""
    return add_version(
        conn,
        record.namespace,
        record.retriever_id,
        record.display_config,
        by.who,
        record.updated_at,
        by.note,
    )


def versions(
    conn: sa.Connection, namespace: str, retriever_id: str, limit: int, offset: int
) -> tuple[list[VersionRecord], int]:
    """A retriever's versions, the newest first, and how many there are."""
    where = sa.and_(
        page_versions.c.retriever_id == retriever_id, page_versions.c.namespace == namespace
    )
    total = conn.execute(sa.select(sa.func.count()).where(where)).scalar_one()
    rows = conn.execute(
        sa.select(page_versions)
        .where(where)
        .order_by(page_versions.c.number.desc())
        .limit(limit)
        .offset(offset)
    )
    return [VersionRecord(**row._mapping) for row in rows], int(total)


def version(
    conn: sa.Connection, namespace: str, retriever_id: str, number: int
) -> VersionRecord | None:
    row = conn.execute(
        sa.select(page_versions).where(
            page_versions.c.retriever_id == retriever_id,
            page_versions.c.namespace == namespace,
            page_versions.c.number == number,
        )
    ).one_or_none()
    return None if row is None else VersionRecord(**row._mapping)


def key_label(conn: sa.Connection, key_hash: str) -> str | None:
    """The label a stored key was given (`keys create --label`), to say who published."""
    query = sa.select(owner_keys.c.label).where(owner_keys.c.key_hash == key_hash)
    label = conn.execute(query).scalar_one_or_none()
    return str(label) if label else None
