"""The search log's running totals, kept beside its rows so that insights read hundreds of rows
where the log holds millions: per retriever and hour (`search_hours`), per retriever, hour
and latency bucket (`latency_hours`), and per retriever, day and query (`query_days`). Each
batch of rows adds to them in the transaction that writes it, with additive upserts, so that
any number of workers and servers can write at once."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from app.adapters.store import bulk
from app.adapters.store.tables import (
    filter_days,
    latency_days,
    latency_hours,
    query_days,
    search_hours,
)

SEARCHES = ("execute", "page", "embed", "similar")  # typeahead's rows are kept apart
BUCKETS_PER_DOUBLING = 8  # a bucket spans 9% of its latency
LOWEST_BUCKET = -8 * BUCKETS_PER_DOUBLING  # about 4 µs
KEPT_QUERIES = 1_000  # a past day's most searched queries kept, and as many that found nothing
MAX_VALUE_CHARS = 210  # a filter value longer than this (as JSON) is not counted


def hour_of(stamped: str) -> str:
    return stamped[:13]  # 2026-03-02T12


def day_of(stamped: str) -> str:
    return stamped[:10]


def bucket_of(latency_ms: float) -> int:
    if latency_ms <= 0:
        return LOWEST_BUCKET
    return max(math.floor(math.log2(latency_ms) * BUCKETS_PER_DOUBLING), LOWEST_BUCKET)


def add(conn: sa.Connection, rows: Iterable[dict[str, Any]]) -> None:
    """Add a batch of log rows to the totals."""
    hours: dict[tuple[str, str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    latencies: dict[tuple[str, str, bool, int], list[float]] = defaultdict(lambda: [0, 0.0])
    queries: dict[tuple[str, str, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    filters: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for row in rows:
        if row["surface"] not in SEARCHES:
            continue
        hour = hour_of(row["created_at"])
        totals = hours[(row["retriever_id"], row["namespace"], hour)]
        if row["outcome"] != "ok":
            totals[row["outcome"]] += 1
            continue
        latency, cached, found = row["latency_ms"], bool(row["cached"]), row["results"] or 0
        totals["searches"] += 1
        totals["no_results"] += found == 0
        totals["latency_sum"] += latency
        totals["shown_sum"] += _shown(row)
        if cached:
            totals["cached"] += 1
            totals["cached_latency_sum"] += latency
        else:
            totals["results_sum"] += found
        bucket = latencies[(row["retriever_id"], hour, cached, bucket_of(latency))]
        bucket[0] += 1
        bucket[1] += latency
        for picked in _picked(row["filters"]):
            filters[(row["retriever_id"], day_of(row["created_at"]), *picked)] += 1
        if row["query"]:
            day = queries[(row["retriever_id"], day_of(row["created_at"]), row["query"])]
            day["searches"] += 1
            day["no_results"] += found == 0
            day["latency_sum"] += latency
    _upsert(
        conn,
        search_hours,
        ("retriever_id", "hour"),
        [
            {"retriever_id": r, "namespace": n, "hour": h, **_whole(totals, _HOUR_TOTALS)}
            for (r, n, h), totals in hours.items()
        ],
    )
    _upsert(
        conn,
        latency_hours,
        ("retriever_id", "hour", "cached", "bucket"),
        [
            {"retriever_id": r, "hour": h, "cached": c, "bucket": b, "count": n, "total": t}
            for (r, h, c, b), (n, t) in latencies.items()
        ],
    )
    days: dict[tuple[str, str, bool, int], list[float]] = defaultdict(lambda: [0, 0.0])
    for (r, h, c, b), (n, t) in latencies.items():
        into = days[(r, h[:10], c, b)]
        into[0] += n
        into[1] += t
    _upsert(
        conn,
        latency_days,
        ("retriever_id", "day", "cached", "bucket"),
        [
            {"retriever_id": r, "day": d, "cached": c, "bucket": b, "count": n, "total": t}
            for (r, d, c, b), (n, t) in days.items()
        ],
    )
    _upsert(
        conn,
        query_days,
        ("retriever_id", "day", "query"),
        [
            {"retriever_id": r, "day": d, "query": q, **_whole(totals, _DAY_TOTALS)}
            for (r, d, q), totals in queries.items()
        ],
    )

    _upsert(
        conn,
        filter_days,
        ("retriever_id", "day", "field", "value"),
        [
            {"retriever_id": r, "day": d, "field": f, "value": v, "searches": n}
            for (r, d, f, v), n in filters.items()
        ],
    )


def _picked(conditions: list[dict[str, Any]] | None) -> set[tuple[str, str]]:
    """Each (field, value as JSON) a search's filters picked, once (a list: each value)."""
    picked: set[tuple[str, str]] = set()
    for condition in conditions or ():
        value = condition["value"]
        for one in value if isinstance(value, list) else [value]:
            written = json.dumps(one, ensure_ascii=False)
            if len(written) <= MAX_VALUE_CHARS:
                picked.add((condition["field"], written))
    return picked


def top_filters(
    conn: sa.Connection, retriever_id: str, start: str, end: str, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """(field, value) pairs by the searches that picked them over the days from `start`'s to
    `end`'s, and how many pairs there are."""
    where = [
        filter_days.c.retriever_id == retriever_id,
        filter_days.c.day >= day_of(start),
        filter_days.c.day <= day_of(end),
    ]
    searches = sa.func.sum(filter_days.c.searches).label("searches")
    query = (
        sa.select(filter_days.c.field, filter_days.c.value, searches)
        .where(*where)
        .group_by(filter_days.c.field, filter_days.c.value)
        .order_by(searches.desc(), filter_days.c.field, filter_days.c.value)
        .limit(limit)
        .offset(offset)
    )
    rows = [
        {"field": row[0], "value": json.loads(row[1]), "searches": int(row[2])}
        for row in conn.execute(query)
    ]
    pairs = sa.select(filter_days.c.field, filter_days.c.value).where(*where).distinct()
    total = conn.execute(sa.select(sa.func.count()).select_from(pairs.subquery())).scalar_one()
    return rows, int(total)


def compact(conn: sa.Connection, today: str) -> int:
    """Keep, of each past day's queries, the `KEPT_QUERIES` most searched and the
    `KEPT_QUERIES` most often without a result (a day's long tail of queries searched once
    or twice is what makes a week's top queries slow to add up); the rows deleted."""
    days = conn.execute(
        sa.select(query_days.c.retriever_id, query_days.c.day)
        .where(query_days.c.day < day_of(today))
        .group_by(query_days.c.retriever_id, query_days.c.day)
        .having(sa.func.count() > 2 * KEPT_QUERIES)
    ).all()
    deleted = 0
    for retriever_id, day in days:
        same = [query_days.c.retriever_id == retriever_id, query_days.c.day == day]
        kept = [
            query_days.c.query.not_in(
                sa.select(query_days.c.query)
                .where(*same)
                .order_by(column.desc(), query_days.c.query)
                .limit(KEPT_QUERIES)
                .scalar_subquery()
            )
            for column in (query_days.c.searches, query_days.c.no_results)
        ]
        result = conn.execute(query_days.delete().where(*same, *kept))
        deleted += int(result.rowcount or 0)
    return deleted


def delete_before(conn: sa.Connection, cutoff: str) -> None:
    conn.execute(search_hours.delete().where(search_hours.c.hour < hour_of(cutoff)))
    conn.execute(latency_hours.delete().where(latency_hours.c.hour < hour_of(cutoff)))
    conn.execute(latency_days.delete().where(latency_days.c.day < day_of(cutoff)))
    conn.execute(query_days.delete().where(query_days.c.day < day_of(cutoff)))
    conn.execute(filter_days.delete().where(filter_days.c.day < day_of(cutoff)))


def hours(
    conn: sa.Connection, namespace: str, retriever_id: str, start: str, end: str
) -> list[dict[str, Any]]:
    """The retriever's hourly totals from the hour holding `start` to the one before `end`'s
    (the hour holding `end` too when `end` is not on the hour)."""
    query = sa.select(search_hours).where(
        search_hours.c.namespace == namespace,
        search_hours.c.retriever_id == retriever_id,
        search_hours.c.hour >= hour_of(start),
        search_hours.c.hour <= hour_of(end),
    )
    return [dict(row._mapping) for row in conn.execute(query)]


def latency_buckets(
    conn: sa.Connection, retriever_id: str, start: str, end: str, *, by_day: bool = False
) -> list[dict[str, Any]]:
    """The latency buckets of the hours (or, `by_day`, the whole days) the range covers,
    each with its `hour` (the day's first hour, by day)."""
    table, column = (latency_days, "day") if by_day else (latency_hours, "hour")
    cut = day_of if by_day else hour_of
    query = sa.select(
        table.c[column], table.c.cached, table.c.bucket, table.c.count, table.c.total
    ).where(
        table.c.retriever_id == retriever_id,
        table.c[column] >= cut(start),
        table.c[column] <= cut(end),
    )
    return [
        {
            "hour": f"{at}T00" if by_day else at,
            "cached": cached,
            "bucket": bucket,
            "count": count,
            "total": total,
        }
        for at, cached, bucket, count, total in conn.execute(query)
    ]


def top_queries(
    conn: sa.Connection,
    retriever_id: str,
    start: str,
    end: str,
    limit: int,
    offset: int,
    *,
    empty_only: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """Queries by searches over the days from `start`'s to `end`'s (only those that found
    nothing, by such searches, with `empty_only`), and how many queries there are."""
    where = [
        query_days.c.retriever_id == retriever_id,
        query_days.c.day >= day_of(start),
        query_days.c.day <= day_of(end),
    ]
    if empty_only:
        where.append(query_days.c.no_results > 0)
    searches = sa.func.sum(query_days.c.no_results if empty_only else query_days.c.searches)
    query = (
        sa.select(
            query_days.c.query,
            searches.label("searches"),
            sa.func.sum(query_days.c.no_results).label("no_results"),
            sa.func.sum(query_days.c.latency_sum).label("latency_sum"),
            sa.func.sum(query_days.c.searches).label("all_searches"),
            # How many queries there are, from the same pass over the days' rows.
            sa.func.count().over().label("total"),
        )
        .where(*where)
        .group_by(query_days.c.query)
        .order_by(searches.desc(), query_days.c.query)
        .limit(limit)
        .offset(offset)
    )
    rows = [dict(row._mapping) for row in conn.execute(query)]
    if rows:
        total = rows[0]["total"]
    elif offset:  # a page past the end: count them on their own
        total = conn.execute(
            sa.select(sa.func.count(sa.distinct(query_days.c.query))).where(*where)
        ).scalar_one()
    else:
        total = 0
    return rows, int(total)


def empty_and_repeats(
    conn: sa.Connection, retriever_id: str, start: str, end: str, limit: int
) -> tuple[list[tuple[str, int]], int]:
    """Over the days from `start`'s to `end`'s, in one pass over their query totals: the
    `limit` queries most often searched without a result (with those searches), and the
    searches that repeated a query searched before on the same day."""
    empty = sa.func.sum(query_days.c.no_results)
    query = (
        sa.select(
            query_days.c.query,
            empty.label("empty"),
            sa.func.sum(sa.func.sum(query_days.c.searches)).over().label("searches"),
            sa.func.sum(sa.func.count()).over().label("rows"),
        )
        .where(
            query_days.c.retriever_id == retriever_id,
            query_days.c.day >= day_of(start),
            query_days.c.day <= day_of(end),
        )
        .group_by(query_days.c.query)
        .order_by(empty.desc(), query_days.c.query)
        .limit(limit)
    )
    rows = conn.execute(query).all()
    if not rows:
        return [], 0
    repeats = int(rows[0].searches or 0) - int(rows[0].rows or 0)
    return [(row.query, int(row.empty)) for row in rows if row.empty], repeats


def _upsert(
    conn: sa.Connection, table: sa.Table, keys: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """Add each row's totals to the table's row of the same keys (made when missing)."""
    added = [c.name for c in table.columns if c.name not in keys and c.name != "namespace"]
    bulk.insert(
        conn,
        table,
        map(bulk.values_of(table), rows),
        keys=keys,
        updates={name: f"{table.name}.{name} + excluded.{name}" for name in added},
    )


def _whole(totals: dict[str, float], columns: tuple[str, ...]) -> dict[str, Any]:
    """Every total of the table's row (0 where the batch had none), counts as integers."""
    return {
        name: float(totals.get(name, 0.0))
        if name.endswith("latency_sum")
        else int(totals.get(name, 0))
        for name in columns
    }


_DAY_TOTALS = ("searches", "no_results", "latency_sum")
_HOUR_TOTALS = (
    "searches",
    "no_results",
    "cached",
    "refused",
    "failed",
    "latency_sum",
    "cached_latency_sum",
    "results_sum",
    "shown_sum",
)


def _shown(row: dict[str, Any]) -> int:
    size = row["page_size"] or 0
    before = ((row["page_number"] or 1) - 1) * size
    return max(min((row["results"] or 0) - before, size), 0)
