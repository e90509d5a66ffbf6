"""The store's search-log queries (a transaction's connection)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.adapters.store.tables import interactions, query_sessions, search_log

# The surfaces whose rows are searches (typeahead's are kept apart).
SEARCHES = ("execute", "page", "embed", "similar")


def insert(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """The rows into the log, and each search's session into `query_sessions`."""
    conn.execute(search_log.insert(), rows)
    seen = {
        (row["retriever_id"], row["query"], row["session_id"]): row
        for row in rows
        if row["surface"] in SEARCHES
        and row["outcome"] == "ok"
        and row["query"]
        and row["session_id"]
    }
    if not seen:
        return
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    query = dialect.insert(query_sessions)
    conn.execute(
        query.on_conflict_do_update(
            index_elements=[
                query_sessions.c.retriever_id,
                query_sessions.c.query,
                query_sessions.c.session_id,
            ],
            set_={"found": query.excluded.found, "created_at": query.excluded.created_at},
        ),
        [
            {
                "retriever_id": retriever_id,
                "query": text,
                "session_id": session,
                "found": bool(row["results"]),
                "created_at": row["created_at"],
            }
            for (retriever_id, text, session), row in seen.items()
        ],
    )


def delete_before(conn: sa.Connection, cutoff: str) -> int:
    deleted = conn.execute(search_log.delete().where(search_log.c.created_at < cutoff))
    conn.execute(query_sessions.delete().where(query_sessions.c.created_at < cutoff))
    return int(deleted.rowcount or 0)


def learned(
    conn: sa.Connection, retriever_id: str, prefix: str, sessions: int, limit: int
) -> list[str]:
    """Queries starting with `prefix` (folded) that at least `sessions` distinct sessions
    searched, each of whose last search found something; most sessions first."""
    many = sa.func.count().label("many")
    where = [
        query_sessions.c.retriever_id == retriever_id,
        query_sessions.c.query.startswith(prefix, autoescape=True),
    ]
    if conn.dialect.name == "sqlite":  # text order is byte order there: a range on the key
        where += [query_sessions.c.query >= prefix, query_sessions.c.query < prefix + "\U0010ffff"]
    query = (
        sa.select(query_sessions.c.query, many)
        .where(*where)
        .group_by(query_sessions.c.query)
        .having(many >= sessions)
        .having(sa.func.min(sa.case((query_sessions.c.found, 1), else_=0)) == 1)
        .order_by(many.desc(), query_sessions.c.query)
        .limit(limit)
    )
    return [row[0] for row in conn.execute(query)]


def rows(
    conn: sa.Connection,
    namespace: str,
    retriever_id: str,
    start: str,
    end: str,
    columns: Sequence[str],
    *,
    surfaces: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The retriever's logged searches from `start` up to (not including) `end`, oldest
    first, with only the columns asked for."""
    query = (
        sa.select(*(search_log.c[name] for name in columns))
        .where(
            search_log.c.namespace == namespace,
            search_log.c.retriever_id == retriever_id,
            search_log.c.created_at >= start,
            search_log.c.created_at < end,
        )
        .order_by(search_log.c.created_at)
    )
    if surfaces is not None:
        query = query.where(search_log.c.surface.in_(surfaces))
    return [dict(row._mapping) for row in conn.execute(query)]


def clicks(
    conn: sa.Connection, namespace: str, retriever_id: str, start: str, end: str
) -> list[dict[str, Any]]:
    """The retriever's recorded interactions from `start` up to `end` that name the search
    they came from (its execution id)."""
    query = sa.select(
        interactions.c.execution_id,
        interactions.c.document_id,
        interactions.c.position,
        interactions.c.interaction_types,
    ).where(
        interactions.c.namespace == namespace,
        interactions.c.retriever_id == retriever_id,
        interactions.c.created_at >= start,
        interactions.c.created_at < end,
        interactions.c.execution_id.is_not(None),
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def _searched(namespace: str, retriever_id: str, start: str, end: str) -> list[Any]:
    return [
        search_log.c.namespace == namespace,
        search_log.c.retriever_id == retriever_id,
        search_log.c.created_at >= start,
        search_log.c.created_at < end,
        search_log.c.outcome == "ok",
        search_log.c.surface.in_(SEARCHES),
    ]


def top_queries(
    conn: sa.Connection,
    namespace: str,
    retriever_id: str,
    start: str,
    end: str,
    limit: int,
    offset: int,
    *,
    empty_only: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """Queries by how often they were searched (only their searches that found nothing,
    with `empty_only`), with the sessions that searched them; and how many queries there are."""
    where = [*_searched(namespace, retriever_id, start, end), search_log.c.query.is_not(None)]
    if empty_only:
        where.append(search_log.c.results == 0)
    searches = sa.func.count().label("searches")
    query = (
        sa.select(
            search_log.c.query,
            searches,
            sa.func.count(sa.distinct(search_log.c.session_id)).label("sessions"),
            sa.func.sum(sa.case((search_log.c.results == 0, 1), else_=0)).label("no_results"),
            sa.func.avg(search_log.c.latency_ms).label("avg_latency_ms"),
        )
        .where(*where)
        .group_by(search_log.c.query)
        .order_by(searches.desc(), search_log.c.query)
        .limit(limit)
        .offset(offset)
    )
    rows = [dict(row._mapping) for row in conn.execute(query)]
    total = conn.execute(
        sa.select(sa.func.count(sa.distinct(search_log.c.query))).where(*where)
    ).scalar_one()
    return rows, int(total)


def clicks_by_query(
    conn: sa.Connection, namespace: str, retriever_id: str, start: str, end: str, texts: list[str]
) -> dict[str, tuple[int, float]]:
    """For each query: the searches of it that got a click, and their clicks' mean position
    (from 0)."""
    if not texts:
        return {}
    query = (
        sa.select(
            search_log.c.query,
            sa.func.count(sa.distinct(interactions.c.execution_id)),
            sa.func.avg(interactions.c.position),
        )
        .select_from(
            interactions.join(search_log, interactions.c.execution_id == search_log.c.execution_id)
        )
        .where(
            *_searched(namespace, retriever_id, start, end),
            search_log.c.query.in_(texts),
            interactions.c.namespace == namespace,
            interactions.c.retriever_id == retriever_id,
            sa.cast(interactions.c.interaction_types, sa.Text).like('%"click"%'),
        )
        .group_by(search_log.c.query)
    )
    return {row[0]: (int(row[1]), float(row[2])) for row in conn.execute(query)}


def top_documents(
    conn: sa.Connection,
    namespace: str,
    retriever_id: str,
    start: str,
    end: str,
    limit: int,
    offset: int,
) -> tuple[list[dict[str, Any]], int]:
    """Documents by how often they were clicked, with their clicks' mean position (from 0)."""
    where = [
        interactions.c.namespace == namespace,
        interactions.c.retriever_id == retriever_id,
        interactions.c.created_at >= start,
        interactions.c.created_at < end,
        sa.cast(interactions.c.interaction_types, sa.Text).like('%"click"%'),
    ]
    clicks = sa.func.count().label("clicks")
    query = (
        sa.select(
            interactions.c.document_id,
            clicks,
            sa.func.avg(interactions.c.position).label("position"),
        )
        .where(*where)
        .group_by(interactions.c.document_id)
        .order_by(clicks.desc(), interactions.c.document_id)
        .limit(limit)
        .offset(offset)
    )
    rows = [dict(row._mapping) for row in conn.execute(query)]
    total = conn.execute(
        sa.select(sa.func.count(sa.distinct(interactions.c.document_id))).where(*where)
    ).scalar_one()
    return rows, int(total)


def picked_filters(
    conn: sa.Connection, namespace: str, retriever_id: str, start: str, end: str
) -> list[Any]:
    """The filters of every search that picked any."""
    query = sa.select(search_log.c.filters).where(
        *_searched(namespace, retriever_id, start, end), search_log.c.filters.is_not(None)
    )
    return [row[0] for row in conn.execute(query)]
