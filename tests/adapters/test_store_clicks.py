"""Clicks by query, rolled up by day (store/clicks.py), on SQLite and PostgreSQL: whatever has
been rolled up, a range's click-through figures are the ones the clicks themselves give."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from app.adapters.clock import stamp
from app.adapters.store import Store, clicks, searchlog
from app.adapters.store.tables import click_days, interactions

NAMESPACE, RETRIEVER = "ns", "ret_clicks"
NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)
QUERIES = ["lamp", "desk lamp", "chair", None]  # (None: a search by filters alone)


def _fill(store: Store) -> None:
    """Five days of searches, a click on about half of them, some far down the page."""
    rng = random.Random(5)
    rows: list[dict[str, Any]] = []
    clicked: list[dict[str, Any]] = []
    for n in range(600):
        at = stamp(NOW - timedelta(days=5) + timedelta(minutes=12 * n))
        rows.append(
            {
                "retriever_id": RETRIEVER,
                "namespace": NAMESPACE,
                "surface": "page",
                "outcome": "ok",
                "query": QUERIES[n % len(QUERIES)],
                "filters": None,
                "facets": None,
                "sort": None,
                "page_number": 1,
                "page_size": 20,
                "results": 10,
                "latency_ms": 2.0,
                "mode": "keyword",
                "cached": False,
                "execution_id": f"exe_{n}",
                "session_id": None,
                "created_at": at,
            }
        )
        for c in range(rng.choice((0, 0, 1, 2))):
            clicked.append(
                {
                    "interaction_id": f"int_{n}_{c}",
                    "retriever_id": RETRIEVER,
                    "namespace": NAMESPACE,
                    "document_id": f"doc{rng.randrange(4)}",
                    "interaction_types": ["click"] if c or n % 7 else ["view"],
                    "position": rng.randrange(8),
                    "execution_id": f"exe_{n}",
                    "session_id": None,
                    "details": None,
                    "created_at": at,
                }
            )
    with store.write() as tx:
        searchlog.insert(tx.conn, rows)
        tx.conn.execute(interactions.insert(), clicked)


WINDOWS = [
    (NOW - timedelta(days=7), NOW),  # the whole log, whole days and the day so far
    (NOW - timedelta(days=3, hours=5), NOW - timedelta(hours=20)),  # partial days at both ends
    (NOW - timedelta(days=2), NOW - timedelta(days=1)),  # one day across midnight
    (datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),  # at midnights
]


def _figures(store: Store) -> list[Any]:
    texts = [q for q in QUERIES if q]
    with store.read() as tx:
        return [
            (
                clicks.by_query(tx.conn, NAMESPACE, RETRIEVER, stamp(a), stamp(b), texts),
                clicks.figures(tx.conn, NAMESPACE, RETRIEVER, stamp(a), stamp(b)),
            )
            for a, b in WINDOWS
        ]


def _close(a: Any, b: Any) -> None:
    """Equal, but for the last digits of a mean position."""
    for (by_a, fig_a), (by_b, fig_b) in zip(a, b, strict=True):
        assert by_a.keys() == by_b.keys()
        for query in by_a:
            assert by_a[query][0] == by_b[query][0]
            assert abs(by_a[query][1] - by_b[query][1]) < 1e-9
        assert {k: v for k, v in fig_a.items() if k != "position"} == {
            k: v for k, v in fig_b.items() if k != "position"
        }
        assert (fig_a["position"] is None) == (fig_b["position"] is None)
        if fig_a["position"] is not None:
            assert abs(fig_a["position"] - fig_b["position"]) < 1e-9


def test_rolled_up_days_give_the_figures_the_clicks_give(database_url: str) -> None:
    store = Store(database_url)
    store.migrate()
    _fill(store)
    live = _figures(store)
    assert live[0][1]["clicks"] > 100  # (the data has what is tested)
    assert live[0][1]["deep"]
    assert set(live[0][0]) == {"lamp", "desk lamp", "chair"}

    with store.write() as tx:
        assert clicks.roll_up(tx.conn, stamp(NOW)) == 5  # the five past days
    with store.read() as tx:
        days = tx.conn.execute(sa.select(sa.func.count(sa.distinct(click_days.c.day)))).scalar()
    assert days == 5
    _close(_figures(store), live)

    # Rolled once: a second sweep the same day adds nothing.
    with store.write() as tx:
        assert clicks.roll_up(tx.conn, stamp(NOW + timedelta(hours=1))) == 0
    _close(_figures(store), live)
    store.close()


def test_two_sweeps_at_once_roll_each_day_up_once(database_url: str) -> None:
    stores = [Store(database_url), Store(database_url)]
    stores[0].migrate()
    _fill(stores[0])
    live = _figures(stores[0])

    def sweep(store: Store) -> int:
        with store.write() as tx:
            return clicks.roll_up(tx.conn, stamp(NOW))

    with ThreadPoolExecutor(2) as pool:
        rolled = sorted(pool.map(sweep, stores))
    assert rolled == [0, 5]
    _close(_figures(stores[0]), live)
    for store in stores:
        store.close()


def test_retention_deletes_rolled_days_with_the_log(database_url: str) -> None:
    store = Store(database_url)
    store.migrate()
    _fill(store)
    with store.write() as tx:
        clicks.roll_up(tx.conn, stamp(NOW))
        searchlog.delete_before(tx.conn, stamp(NOW - timedelta(days=2)))
    with store.read() as tx:
        days = tx.conn.execute(sa.select(click_days.c.day).distinct()).scalars().all()
    assert sorted(days) == ["2026-11-30", "2026-12-01"]
    store.close()


def test_a_long_history_is_rolled_up_a_few_days_a_sweep_and_read_right_meanwhile(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(clicks, "MAX_DAYS_ROLLED", 2)
    store = Store(database_url)
    store.migrate()
    _fill(store)
    live = _figures(store)
    rolled = []
    for _ in range(4):
        with store.write() as tx:
            rolled.append(clicks.roll_up(tx.conn, stamp(NOW)))
        _close(_figures(store), live)
    assert rolled == [2, 2, 1, 0]
    store.close()
