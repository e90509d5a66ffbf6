"""A retriever's insights where Mixpeek has no call: its top queries (and those that found
nothing) with their click-through, its most clicked documents, and the filters people pick;
over a date range, a page at a time.

A rate over fewer than `FEW` searches (or clicks) is marked `few: true`: it is a count to
read, not yet a figure to act on.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from app.adapters.clock import Clock, stamp
from app.adapters.store import Store, Transaction, clicks, rollups
from app.adapters.store import searchlog as queries
from app.services.figures import Window, rate, ratio, window_of
from app.services.retrievers import retriever_or_404

FEW = 10
DEFAULT_SPAN = timedelta(days=7)


class Reports:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def queries(
        self,
        namespace: str,
        retriever_id: str,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        offset: int,
        *,
        empty_only: bool = False,
    ) -> dict[str, Any]:
        """The queries most searched (or, `empty_only`, most searched without a result):
        searches, distinct sessions, searches without a result, click-through rate and mean
        click position (from 1)."""
        window = window_of(self.clock(), start, end, DEFAULT_SPAN)
        first, last = stamp(window.start), stamp(window.end)
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            rows, total = rollups.top_queries(
                tx.conn, retriever_id, first, last, limit, offset, empty_only=empty_only
            )
            texts = [row["query"] for row in rows]
            clicked = clicks.by_query(tx.conn, namespace, retriever_id, first, last, texts)
            sessions = queries.sessions_by_query(tx.conn, retriever_id, first, last, texts)
        results = []
        for row in rows:
            searched, position = clicked.get(row["query"], (0, None))
            every = int(row["all_searches"])
            results.append(
                {
                    "query": row["query"],
                    "searches": int(row["searches"]),
                    "sessions": sessions.get(row["query"], 0),
                    "no_results": int(row["no_results"] or 0),
                    "click_through_rate": rate(searched, every),
                    "avg_click_position": None if position is None else round(position + 1, 2),
                    "avg_latency_ms": ratio(float(row["latency_sum"]), every),
                    "few": every < FEW,
                }
            )
        return _page(window, results, total, limit, offset)

    def documents(
        self,
        namespace: str,
        retriever_id: str,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """The documents clicked most, with their clicks' mean position (from 1)."""
        window, rows, total = self._read(
            namespace,
            retriever_id,
            start,
            end,
            lambda tx, first, last: queries.top_documents(
                tx.conn, namespace, retriever_id, first, last, limit, offset
            ),
        )
        results = [
            {
                "document_id": row["document_id"],
                "clicks": int(row["clicks"]),
                "avg_click_position": round(float(row["position"]) + 1, 2),
                "few": int(row["clicks"]) < FEW,
            }
            for row in rows
        ]
        return _page(window, results, total, limit, offset)

    def filters(
        self,
        namespace: str,
        retriever_id: str,
        start: datetime | None,
        end: datetime | None,
        limit: int,
        offset: int,
    ) -> dict[str, Any]:
        """The filters picked most: each field and value, and the searches that picked it."""
        window, results, total = self._read(
            namespace,
            retriever_id,
            start,
            end,
            lambda tx, first, last: rollups.top_filters(
                tx.conn, retriever_id, first, last, limit, offset
            ),
        )
        return _page(window, results, total, limit, offset)

    def _read(
        self,
        namespace: str,
        retriever_id: str,
        start: datetime | None,
        end: datetime | None,
        read: Callable[[Transaction, str, str], tuple[list[dict[str, Any]], int]],
    ) -> tuple[Window, list[dict[str, Any]], int]:
        """A report's rows and their total over the range (the last week unless given), of a
        retriever of the namespace (404 otherwise)."""
        window = window_of(self.clock(), start, end, DEFAULT_SPAN)
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            rows, total = read(tx, stamp(window.start), stamp(window.end))
        return window, rows, total


def _page(
    window: Window, results: list[dict[str, Any]], total: int, limit: int, offset: int
) -> dict[str, Any]:
    return {
        "time_range": window.body(),
        "results": results,
        "total": total,
        "limit": limit,
        "offset": offset,
    }
