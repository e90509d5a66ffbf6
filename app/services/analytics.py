"""A retriever's insights, read from the search log: Mixpeek's analytics calls (the SDK's
`AnalyticsRetrieversApi`), answered in its response models.

Every figure counts the searches of the public surfaces (execute, the page, the embed, similar
items); typeahead requests are logged apart and counted nowhere here. A rate with nothing to
divide is 0 where Mixpeek's model requires a number, and an average of nothing is 0 as well;
the counts beside them say how much they rest on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from app.adapters.clock import Clock, stamp
from app.adapters.store import Store, clicks, rollups
from app.adapters.store import searchlog as queries
from app.errors import invalid
from app.schemas.stages import stages_of
from app.services.figures import Window, bucket_start, rate, ratio, spread_percentile, window_of
from app.services.retrievers import retriever_or_404
from app.services.tuning import Evidence, recommendations

GroupBy = Literal["hour", "day", "week"]
GROUPS: dict[str, timedelta] = {
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
# Without dates, the last day by hour, the last week by day, the last four weeks by week.
DEFAULT_SPANS = {"hour": timedelta(days=1), "day": timedelta(days=7), "week": timedelta(weeks=4)}
MAX_BUCKETS = 24 * 92
SIGNAL_TYPES = ("cache_hit", "cache_miss", "no_results")
HOURLY_LATENCIES = timedelta(days=2)
TOP_EMPTY = 5  # the queries that found nothing a recommendation names


class Analytics:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def performance(
        self,
        namespace: str,
        retriever_id: str,
        start: datetime | None,
        end: datetime | None,
        group_by: str,
    ) -> dict[str, Any]:
        """`RetrieverPerformanceResponse`: searches, latency, results and cache per bucket,
        read off the hourly totals (a range is counted in whole hours)."""
        if group_by not in GROUPS:
            raise invalid("group_by", "hour, day or week")
        window = self._dates(start, end, DEFAULT_SPANS[group_by])
        step = GROUPS[group_by]
        if (window.end - window.start) / step > MAX_BUCKETS:
            raise invalid(
                "start_date",
                f"at most {MAX_BUCKETS} {group_by}s before end_date",
                f"start_date: at most {MAX_BUCKETS} {group_by}s before end_date; group by a "
                "longer period or ask for less.",
            )
        hours, latencies = self._totals(namespace, retriever_id, window)
        buckets: dict[datetime, list[dict[str, Any]]] = {}
        moment = bucket_start(window.start, group_by)
        while moment < window.end:
            buckets[moment] = []
            moment += step
        starts: dict[str, datetime] = {}  # an hour's bucket, worked out once

        def start_of(hour: str) -> datetime:
            if hour not in starts:
                starts[hour] = bucket_start(_hour(hour), group_by)
            return starts[hour]

        for row in hours:
            buckets.setdefault(start_of(row["hour"]), []).append(row)
        spread: dict[datetime, list[dict[str, Any]]] = {}
        for row in latencies:
            spread.setdefault(start_of(row["hour"]), []).append(row)
        metrics = [
            {"timestamp": at.isoformat(), **_summary(rows, spread.get(at, []))}
            for at, rows in buckets.items()
        ]
        return {
            "retriever_id": retriever_id,
            "time_range": window.body(),
            "metrics": metrics,
            "summary": _summary(hours, latencies),
        }

    def signals(
        self, namespace: str, retriever_id: str, signal_type: str | None, limit: int, hours: int
    ) -> list[dict[str, Any]]:
        """A list of `RetrieverSignal`, newest first: each search answered from the cache
        (`cache_hit`) or not (`cache_miss`), and each that found nothing (`no_results`)."""
        if signal_type is not None and signal_type not in SIGNAL_TYPES:
            raise invalid("signal_type", ", ".join(SIGNAL_TYPES))
        rows = self._rows(namespace, retriever_id, hours, limit, only=signal_type)
        signals: list[dict[str, Any]] = []
        for row in rows:
            kinds = ["cache_hit" if row["cached"] else "cache_miss"]
            if row["results"] == 0:
                kinds.append("no_results")
            signals += [_signal(row, kind) for kind in kinds if signal_type in (None, kind)]
        return signals[:limit]

    def slow_queries(
        self, namespace: str, retriever_id: str, limit: int, hours: int
    ) -> list[dict[str, Any]]:
        """The slowest searches, slowest first."""
        return [
            {
                "execution_id": row["execution_id"],
                "query": row["query"],
                "latency_ms": row["latency_ms"],
                "results": row["results"],
                "surface": row["surface"],
                "mode": row["mode"],
                "cached": row["cached"],
                "timestamp": _utc(row["created_at"]),
            }
            for row in self._rows(namespace, retriever_id, hours, limit, slowest=True)
        ]

    def stages(self, namespace: str, retriever_id: str, hours: int) -> dict[str, Any]:
        """`StageBreakdownResponse`: the retriever's one stage, searched for every answer that
        did not come from the cache."""
        window = self._hours(hours)
        backend = self._backend(namespace, retriever_id)
        rows, latencies = self._totals(namespace, retriever_id, window)
        total = _sum(rows)
        searched = total["searches"] - total["cached"]
        missed = total["latency_sum"] - total["cached_latency_sum"]
        uncached = [row for row in latencies if not row["cached"]]
        stages = [
            {
                "stage_name": stage["stage_name"],
                "stage_type": stage["stage_type"],
                "execution_count": searched,
                "avg_latency_ms": ratio(missed, searched),
                "p95_latency_ms": spread_percentile(uncached, 95),
                "avg_documents_in": ratio(total["results_sum"], searched),
                "avg_documents_out": ratio(total["shown_sum"], total["searches"]),
            }
            for stage in stages_of(backend)
        ]
        return {
            "retriever_id": retriever_id,
            "stages": stages,
            "total_latency_ms": ratio(missed, searched),
        }

    def cache_performance(self, namespace: str, retriever_id: str, hours: int) -> dict[str, Any]:
        """`CachePerformanceResponse`, with an hourly breakdown."""
        window = self._hours(hours)
        rows, _ = self._totals(namespace, retriever_id, window, latencies=False)
        total = _sum(rows)
        hits, misses = total["cached"], total["searches"] - total["cached"]
        return {
            "retriever_id": retriever_id,
            "time_range": window.body(),
            "cache_hit_rate": rate(hits, total["searches"]),
            "total_cache_hits": hits,
            "total_cache_misses": misses,
            "avg_cache_hit_latency_ms": ratio(total["cached_latency_sum"], hits),
            "avg_cache_miss_latency_ms": ratio(
                total["latency_sum"] - total["cached_latency_sum"], misses
            ),
            "hourly_breakdown": [
                {
                    "hour": _hour(row["hour"]).isoformat(),
                    "hits": row["cached"],
                    "misses": row["searches"] - row["cached"],
                    "hit_rate": rate(row["cached"], row["searches"]),
                }
                for row in sorted(rows, key=lambda row: str(row["hour"]))
                if row["searches"]
            ],
        }

    def tuning(self, namespace: str, retriever_id: str, days: int) -> dict[str, Any]:
        """`InteractionTuningResponse`: what the totals and the clicks suggest changing."""
        window = self._span(timedelta(days=days))
        backend = self._backend(namespace, retriever_id)
        rows, latencies = self._totals(namespace, retriever_id, window)
        first, last = stamp(window.start), stamp(window.end)
        with self.store.read() as tx:
            empty, repeats = rollups.empty_and_repeats(
                tx.conn, retriever_id, first, last, TOP_EMPTY
            )
            clicked = clicks.figures(tx.conn, namespace, retriever_id, first, last)
        summary = _summary(rows, latencies)
        evidence = Evidence(
            searches=summary["query_count"],
            no_results=summary["no_results_count"],
            empty_queries=empty,
            repeats=repeats,
            clicks=clicked,
            p95_latency_ms=summary["p95_latency_ms"],
            cache_hit_rate=summary["cache_hit_rate"],
        )
        current, advice = recommendations(backend, evidence)
        return {
            "retriever_id": retriever_id,
            "analysis_period": window.body(),
            "recommendations": advice,
            "current_performance": current,
        }

    # Reading --------------------------------------------------------------------------------

    def _span(self, span: timedelta) -> Window:
        end = self.clock().astimezone(UTC)
        return Window(end - span, end)

    def _hours(self, hours: int) -> Window:
        return self._span(timedelta(hours=hours))

    def _dates(self, start: datetime | None, end: datetime | None, span: timedelta) -> Window:
        return window_of(self.clock(), start, end, span)

    def _backend(self, namespace: str, retriever_id: str) -> dict[str, Any]:
        with self.store.read() as tx:
            return retriever_or_404(tx, namespace, retriever_id).backend

    def _rows(
        self, namespace: str, retriever_id: str, hours: int, limit: int, **order: Any
    ) -> list[dict[str, Any]]:
        window = self._hours(hours)
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            return queries.rows(
                tx.conn,
                namespace,
                retriever_id,
                stamp(window.start),
                stamp(window.end),
                _SIGNALS,
                limit,
                **order,
            )

    def _totals(
        self, namespace: str, retriever_id: str, window: Window, *, latencies: bool = True
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The hourly totals of the window's hours, and its latency buckets: by hour up to
        two days, by whole day past that (where an hour's buckets would be many thousands)."""
        first, last = stamp(window.start), stamp(window.end)
        by_day = window.end - window.start > HOURLY_LATENCIES
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            hours = rollups.hours(tx.conn, namespace, retriever_id, first, last)
            if not latencies:
                return hours, []
            return hours, rollups.latency_buckets(tx.conn, retriever_id, first, last, by_day=by_day)


_SIGNALS = (
    "created_at",
    "results",
    "latency_ms",
    "cached",
    "execution_id",
    "query",
    "surface",
    "mode",
)


def _summary(rows: list[dict[str, Any]], latencies: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of one bucket (or the whole window), from its hours' totals."""
    total = _sum(rows)
    searches = total["searches"]
    return {
        "query_count": searches,
        "avg_latency_ms": ratio(total["latency_sum"], searches),
        "p50_latency_ms": spread_percentile(latencies, 50),
        "p95_latency_ms": spread_percentile(latencies, 95),
        "p99_latency_ms": spread_percentile(latencies, 99),
        "no_results_count": total["no_results"],
        "no_results_rate": rate(total["no_results"], searches),
        "cache_hit_rate": rate(total["cached"], searches),
        "rate_limited_count": total["refused"],
        "error_count": total["failed"],
        "avg_results_returned": ratio(total["shown_sum"], searches),
    }


def _sum(rows: list[dict[str, Any]]) -> dict[str, Any]:
    names = ("searches", "no_results", "cached", "refused", "failed", "results_sum", "shown_sum")
    total: dict[str, Any] = {name: sum(int(row[name]) for row in rows) for name in names}
    for name in ("latency_sum", "cached_latency_sum"):
        total[name] = sum(float(row[name]) for row in rows)
    return total


def _hour(hour: str) -> datetime:
    return datetime.fromisoformat(f"{hour}:00:00+00:00")


def _signal(row: dict[str, Any], kind: str) -> dict[str, Any]:
    return {
        "timestamp": _utc(row["created_at"]),
        "execution_id": row["execution_id"],
        "signal_type": kind,
        "signal_data": {
            "query": row["query"],
            "results": row["results"],
            "latency_ms": row["latency_ms"],
        },
        "metadata": {"surface": row["surface"], "mode": row["mode"]},
    }


def _utc(stamped: str) -> str:
    return datetime.fromisoformat(stamped).astimezone(UTC).isoformat()
