"""Clicks by the query of the search they came from, for click-through rates and tuning.

A click names its search by execution id, and the search's row holds the query: joining
them costs one index lookup a click, which over a busy week was most of what insights
took. So whole past days are rolled up, once, into `click_days` (per retriever, day and
query: the searches clicked, their clicks and the positions' sum) and `deep_click_days`
(clicks far down the page, per query and document), by the search log's hourly sweep; a
mark (`rollup_marks`) says up to which day. A range reads the rolled days it covers whole
and joins only the clicks outside them: the part of its first day before them, and the
time since the mark (a day at most, plus an hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from app.adapters.store.rollups import day_of
from app.adapters.store.tables import (
    click_days,
    deep_click_days,
    interactions,
    rollup_marks,
    search_log,
)

DEEP_POSITION = 3  # from 0: the fourth result on
MARK = "clicks"
NO_QUERY = ""  # a rolled-up click whose search had no query (filters only)
# Days rolled at one sweep: the sweep holds the store's write lock (all of SQLite), so a
# long history is caught up a week an hour, read from the clicks themselves meanwhile.
MAX_DAYS_ROLLED = 7


@dataclass(frozen=True)
class Split:
    """A range as rolled days (`first` up to, not including, `after`; none when equal) and
    the times outside them, read from the clicks themselves."""

    first: str
    after: str
    live: list[tuple[str, str]]


def roll_up(conn: sa.Connection, today: str) -> int:
    """Roll the clicks of every whole day since the mark up to `today` (not included); the
    days rolled. Two sweeps at once (two workers) take turns on the mark's row."""
    locked = sa.select(rollup_marks.c.value).where(rollup_marks.c.name == MARK)
    if conn.dialect.name != "sqlite":  # (SQLite's write transaction already holds the lock)
        locked = locked.with_for_update()
    mark = conn.execute(locked).scalar_one_or_none() or None
    until = day_of(today)
    if mark is None:
        earliest = conn.execute(
            sa.select(sa.func.min(interactions.c.created_at)).where(
                interactions.c.execution_id.is_not(None)
            )
        ).scalar_one_or_none()
        mark = day_of(earliest) if earliest else until
    until = min(until, _plus(mark, MAX_DAYS_ROLLED))
    if mark < until:
        clicked = sa.select(interactions.c.retriever_id).distinct()
        span = [interactions.c.created_at >= mark, interactions.c.created_at < until]
        for retriever_id in conn.execute(clicked.where(*span)).scalars():
            _roll(conn, retriever_id, mark, until)
    conn.execute(rollup_marks.update().where(rollup_marks.c.name == MARK).values(value=until))
    return max((date.fromisoformat(until) - date.fromisoformat(mark)).days, 0)


def _roll(conn: sa.Connection, retriever_id: str, first: str, after: str) -> None:
    """One retriever's clicks at a time: bound to a retriever, the clicks' index (retriever,
    time) leads and each click finds its search by execution id; bound to a time alone,
    SQLite would walk the whole log and look the clicks up from it."""
    day = sa.func.substr(interactions.c.created_at, 1, 10)
    query = sa.func.coalesce(search_log.c.query, NO_QUERY)
    joined = _joined(
        [
            interactions.c.retriever_id == retriever_id,
            interactions.c.created_at >= first,
            interactions.c.created_at < after,
        ]
    )
    conn.execute(
        click_days.insert().from_select(
            ["retriever_id", "day", "query", "searches", "clicks", "position_sum"],
            sa.select(
                interactions.c.retriever_id,
                day,
                query,
                sa.func.count(sa.distinct(interactions.c.execution_id)),
                sa.func.count(),
                sa.func.sum(interactions.c.position),
            )
            .select_from(joined.froms)
            .where(*joined.where)
            .group_by(interactions.c.retriever_id, day, query),
        )
    )
    conn.execute(
        deep_click_days.insert().from_select(
            ["retriever_id", "day", "query", "document_id", "clicks"],
            sa.select(
                interactions.c.retriever_id,
                day,
                search_log.c.query,
                interactions.c.document_id,
                sa.func.count(),
            )
            .select_from(joined.froms)
            .where(*joined.where, *_deep())
            .group_by(
                interactions.c.retriever_id, day, search_log.c.query, interactions.c.document_id
            ),
        )
    )


def delete_before(conn: sa.Connection, cutoff: str) -> None:
    conn.execute(click_days.delete().where(click_days.c.day < day_of(cutoff)))
    conn.execute(deep_click_days.delete().where(deep_click_days.c.day < day_of(cutoff)))


def by_query(
    conn: sa.Connection, namespace: str, retriever_id: str, start: str, end: str, texts: list[str]
) -> dict[str, tuple[int, float]]:
    """For each query: its searches that got a click from `start` up to `end`, and their
    clicks' mean position (from 0)."""
    if not texts:
        return {}
    split = _split(conn, start, end)
    rolled = sa.select(
        click_days.c.query.label("query"),
        click_days.c.searches.label("searches"),
        click_days.c.clicks.label("clicks"),
        click_days.c.position_sum.label("position_sum"),
    ).where(
        click_days.c.retriever_id == retriever_id,
        click_days.c.day >= split.first,
        click_days.c.day < split.after,
        click_days.c.query.in_(texts),
    )
    parts: list[sa.Select[Any]] = [rolled]
    for low, high in split.live:
        joined = _joined(_range(namespace, retriever_id, low, high))
        parts.append(
            sa.select(
                search_log.c.query,
                sa.func.count(sa.distinct(interactions.c.execution_id)),
                sa.func.count(),
                sa.func.sum(interactions.c.position),
            )
            .select_from(joined.froms)
            .where(*joined.where, search_log.c.query.in_(texts))
            .group_by(search_log.c.query)
        )
    every = sa.union_all(*parts).subquery()
    query = sa.select(
        every.c.query,
        sa.func.sum(every.c.searches),
        sa.func.sum(every.c.clicks),
        sa.func.sum(every.c.position_sum),
    ).group_by(every.c.query)
    return {
        text: (int(searches), float(position) / int(clicks))
        for text, searches, clicks, position in conn.execute(query)
        if clicks
    }


def figures(
    conn: sa.Connection, namespace: str, retriever_id: str, start: str, end: str
) -> dict[str, Any]:
    """The clicks from `start` up to `end` under a search's execution id: how many, on how
    many searches, their mean position (from 0), and the (query, document) pairs clicked
    most far down the page (position 3 on, from 0)."""
    split = _split(conn, start, end)
    rolled_days = [
        click_days.c.retriever_id == retriever_id,
        click_days.c.day >= split.first,
        click_days.c.day < split.after,
    ]
    totals: list[sa.Select[Any]] = [
        sa.select(
            sa.func.coalesce(sa.func.sum(click_days.c.clicks), 0).label("clicks"),
            sa.func.coalesce(sa.func.sum(click_days.c.searches), 0).label("searches"),
            sa.func.coalesce(sa.func.sum(click_days.c.position_sum), 0).label("position_sum"),
        ).where(*rolled_days)
    ]
    deep: list[sa.Select[Any]] = [
        sa.select(
            deep_click_days.c.query.label("query"),
            deep_click_days.c.document_id.label("document_id"),
            deep_click_days.c.clicks.label("clicks"),
        ).where(
            deep_click_days.c.retriever_id == retriever_id,
            deep_click_days.c.day >= split.first,
            deep_click_days.c.day < split.after,
        )
    ]
    for low, high in split.live:
        joined = _joined(_range(namespace, retriever_id, low, high))
        totals.append(
            sa.select(
                sa.func.count(),
                sa.func.count(sa.distinct(interactions.c.execution_id)),
                sa.func.coalesce(sa.func.sum(interactions.c.position), 0),
            )
            .select_from(joined.froms)
            .where(*joined.where)
        )
        deep.append(
            sa.select(search_log.c.query, interactions.c.document_id, sa.func.count())
            .select_from(joined.froms)
            .where(*joined.where, *_deep())
            .group_by(search_log.c.query, interactions.c.document_id)
        )
    summed = sa.union_all(*totals).subquery()
    clicks, searches, position = conn.execute(
        sa.select(
            sa.func.sum(summed.c.clicks),
            sa.func.sum(summed.c.searches),
            sa.func.sum(summed.c.position_sum),
        )
    ).one()
    pairs = sa.union_all(*deep).subquery()
    many = sa.func.sum(pairs.c.clicks).label("many")
    top = conn.execute(
        sa.select(pairs.c.query, pairs.c.document_id, many)
        .group_by(pairs.c.query, pairs.c.document_id)
        .order_by(many.desc(), pairs.c.query, pairs.c.document_id)
        .limit(5)
    )
    clicks = int(clicks or 0)
    return {
        "clicks": clicks,
        "clicked_searches": int(searches or 0),
        "position": float(position) / clicks if clicks else None,
        "deep": [(row[0], row[1]) for row in top],
    }


@dataclass(frozen=True)
class _Join:
    froms: Any
    where: list[Any]


def _joined(where: list[Any]) -> _Join:
    """Clicks (of those `where` picks) with the logged searches they came from."""
    return _Join(
        interactions.join(search_log, interactions.c.execution_id == search_log.c.execution_id),
        [
            *where,
            interactions.c.execution_id.is_not(None),
            sa.cast(interactions.c.interaction_types, sa.Text).like('%"click"%'),
            search_log.c.retriever_id == interactions.c.retriever_id,
        ],
    )


def _deep() -> list[Any]:
    return [interactions.c.position >= DEEP_POSITION, search_log.c.query.is_not(None)]


def _range(namespace: str, retriever_id: str, low: str, high: str) -> list[Any]:
    # The clicks' index holds the retriever and the time.
    return [
        interactions.c.namespace == namespace,
        interactions.c.retriever_id == retriever_id,
        interactions.c.created_at >= low,
        interactions.c.created_at < high,
    ]


def _split(conn: sa.Connection, start: str, end: str) -> Split:
    """The whole days within [start, end) that are rolled up, and the rest of the range."""
    mark = (
        conn.execute(
            sa.select(rollup_marks.c.value).where(rollup_marks.c.name == MARK)
        ).scalar_one_or_none()
        or None
    )
    first = day_of(start) if start[10:].startswith("T00:00:00.000000") else _plus(start, 1)
    after = min(day_of(end), mark or first)
    if after <= first:
        return Split(first, first, [(start, end)])
    live = [(start, first), (after, end)]
    return Split(first, after, [(low, high) for low, high in live if low < high])


def _plus(day: str, days: int) -> str:
    return (date.fromisoformat(day[:10]) + timedelta(days=days)).isoformat()
