"""The store's search-log queries (a transaction's connection)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from app import jsonutil
from app.adapters.store import bulk, clicks, rollups
from app.adapters.store.rollups import SEARCHES
from app.adapters.store.tables import interactions, query_sessions, search_log


def insert(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    """The rows into the log, and each search's visitor into `query_sessions`."""
    values = bulk.values_of(search_log)
    encoded = [index for index, c in enumerate(search_log.columns) if c.name in _JSON_COLUMNS]
    bulk.insert(conn, search_log, (_encoded(values(row), encoded) for row in rows))
    rollups.add(conn, rows)
    seen = {
        (row["retriever_id"], row["query"], row.get("visitor")): row
        for row in rows
        if row["surface"] in SEARCHES
        and row["outcome"] == "ok"
        and row["query"]
        and row.get("visitor")
    }
    if not seen:
        return
    bulk.insert(
        conn,
        query_sessions,
        (
            (retriever_id, text, session, bool(row["results"]), row["created_at"])
            for (retriever_id, text, session), row in seen.items()
        ),
        keys=("retriever_id", "query", "session_id"),
        updates={"found": "excluded.found", "created_at": "excluded.created_at"},
    )


_JSON_COLUMNS = ("filters", "facets")


def _encoded(values: tuple[Any, ...], encoded: list[int]) -> tuple[Any, ...]:
    """A row's values as the driver takes them: the JSON columns as text."""
    if all(values[index] is None for index in encoded):
        return values
    listed = list(values)
    for index in encoded:
        if listed[index] is not None:
            listed[index] = jsonutil.dumps(listed[index]).decode()
    return tuple(listed)


def delete_before(conn: sa.Connection, cutoff: str) -> int:
    deleted = conn.execute(search_log.delete().where(search_log.c.created_at < cutoff))
    conn.execute(query_sessions.delete().where(query_sessions.c.created_at < cutoff))
    rollups.delete_before(conn, cutoff)
    clicks.delete_before(conn, cutoff)
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
    limit: int,
    *,
    slowest: bool = False,
    only: str | None = None,
) -> list[dict[str, Any]]:
    """The retriever's searches from `start` up to (not including) `end` that found an
    answer, newest first (or `slowest` first), with only the columns asked for; `only`
    keeps those answered from the cache (`cache_hit`), not (`cache_miss`), or that found
    nothing (`no_results`)."""
    where = [*_searched(namespace, retriever_id, start, end)]
    if only is not None:
        where.append(
            {
                "cache_hit": search_log.c.cached.is_(True),
                "cache_miss": search_log.c.cached.is_(False),
                "no_results": search_log.c.results == 0,
            }[only]
        )
    order = search_log.c.latency_ms if slowest else search_log.c.created_at
    query = (
        sa.select(*(search_log.c[name] for name in columns))
        .where(*where)
        .order_by(order.desc())
        .limit(limit)
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


def sessions_by_query(
    conn: sa.Connection, retriever_id: str, start: str, end: str, texts: list[str]
) -> dict[str, int]:
    """For each query: the distinct sessions whose last search of it fell from `start` up to
    `end`."""
    if not texts:
        return {}
    query = (
        sa.select(query_sessions.c.query, sa.func.count())
        .where(
            query_sessions.c.retriever_id == retriever_id,
            query_sessions.c.query.in_(texts),
            query_sessions.c.created_at >= start,
            query_sessions.c.created_at < end,
        )
        .group_by(query_sessions.c.query)
    )
    return {row[0]: int(row[1]) for row in conn.execute(query)}


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
