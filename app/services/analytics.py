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
from app.adapters.store import Store
from app.adapters.store import searchlog as queries
from app.adapters.store.searchlog import SEARCHES
from app.errors import invalid
from app.schemas.stages import stages_of
from app.services.figures import Window, average, bucket_start, percentile, rate, window_of
from app.services.retrievers import retriever_or_404
from app.services.tuning import recommendations

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
        """`RetrieverPerformanceResponse`: searches, latency, results and cache per bucket."""
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
        rows = self._rows(namespace, retriever_id, window, _PERFORMANCE)
        buckets: dict[datetime, list[dict[str, Any]]] = {}
        moment = bucket_start(window.start, group_by)
        while moment < window.end:
            buckets[moment] = []
            moment += step
        for row in rows:
            at = bucket_start(datetime.fromisoformat(row["created_at"]), group_by)
            buckets.setdefault(at, []).append(row)
        metrics = [{"timestamp": at.isoformat(), **_summary(rows)} for at, rows in buckets.items()]
        return {
            "retriever_id": retriever_id,
            "time_range": window.body(),
            "metrics": metrics,
            "summary": _summary(rows),
        }

    def signals(
        self, namespace: str, retriever_id: str, signal_type: str | None, limit: int, hours: int
    ) -> list[dict[str, Any]]:
        """A list of `RetrieverSignal`, newest first: each search answered from the cache
        (`cache_hit`) or not (`cache_miss`), and each that found nothing (`no_results`)."""
        if signal_type is not None and signal_type not in SIGNAL_TYPES:
            raise invalid("signal_type", ", ".join(SIGNAL_TYPES))
        rows = self._rows(namespace, retriever_id, self._hours(hours), _SIGNALS)
        signals: list[dict[str, Any]] = []
        for row in reversed(rows):
            if row["outcome"] != "ok" or not row["execution_id"]:
                continue
            kinds = ["cache_hit" if row["cached"] else "cache_miss"]
            if row["results"] == 0:
                kinds.append("no_results")
            signals += [_signal(row, kind) for kind in kinds if signal_type in (None, kind)]
            if len(signals) >= limit:
                break
        return signals[:limit]

    def slow_queries(
        self, namespace: str, retriever_id: str, limit: int, hours: int
    ) -> list[dict[str, Any]]:
        """The slowest searches, slowest first."""
        rows = self._rows(namespace, retriever_id, self._hours(hours), _SIGNALS)
        done = [row for row in rows if row["outcome"] == "ok"]
        done.sort(key=lambda row: row["latency_ms"], reverse=True)
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
            for row in done[:limit]
        ]

    def stages(self, namespace: str, retriever_id: str, hours: int) -> dict[str, Any]:
        """`StageBreakdownResponse`: the retriever's one stage, searched for every answer that
        did not come from the cache."""
        window = self._hours(hours)
        backend = self._backend(namespace, retriever_id)
        rows = self._rows(namespace, retriever_id, window, _PERFORMANCE)
        searched = [row for row in rows if row["outcome"] == "ok" and not row["cached"]]
        latencies = [row["latency_ms"] for row in searched]
        stages = [
            {
                "stage_name": stage["stage_name"],
                "stage_type": stage["stage_type"],
                "execution_count": len(searched),
                "avg_latency_ms": average(latencies),
                "p95_latency_ms": percentile(latencies, 95),
                "avg_documents_in": average([row["results"] or 0 for row in searched]),
                "avg_documents_out": average([_shown(row) for row in searched]),
            }
            for stage in stages_of(backend)
        ]
        return {
            "retriever_id": retriever_id,
            "stages": stages,
            "total_latency_ms": average(latencies),
        }

    def cache_performance(self, namespace: str, retriever_id: str, hours: int) -> dict[str, Any]:
        """`CachePerformanceResponse`, with an hourly breakdown."""
        window = self._hours(hours)
        rows = self._rows(namespace, retriever_id, window, _PERFORMANCE)
        done = [row for row in rows if row["outcome"] == "ok"]
        hits = [row["latency_ms"] for row in done if row["cached"]]
        misses = [row["latency_ms"] for row in done if not row["cached"]]
        hourly: dict[str, list[bool]] = {}
        for row in done:
            at = bucket_start(datetime.fromisoformat(row["created_at"]), "hour").isoformat()
            hourly.setdefault(at, []).append(bool(row["cached"]))
        return {
            "retriever_id": retriever_id,
            "time_range": window.body(),
            "cache_hit_rate": rate(len(hits), len(done)),
            "total_cache_hits": len(hits),
            "total_cache_misses": len(misses),
            "avg_cache_hit_latency_ms": average(hits),
            "avg_cache_miss_latency_ms": average(misses),
            "hourly_breakdown": [
                {
                    "hour": at,
                    "hits": sum(flags),
                    "misses": len(flags) - sum(flags),
                    "hit_rate": rate(sum(flags), len(flags)),
                }
                for at, flags in hourly.items()
            ],
        }

    def tuning(self, namespace: str, retriever_id: str, days: int) -> dict[str, Any]:
        """`InteractionTuningResponse`: what the log and the clicks suggest changing."""
        window = self._span(timedelta(days=days))
        backend = self._backend(namespace, retriever_id)
        rows = self._rows(namespace, retriever_id, window, _SIGNALS)
        clicks = self._clicks(namespace, retriever_id, window)
        current, advice = recommendations(backend, rows, clicks)
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
        self, namespace: str, retriever_id: str, window: Window, columns: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            return queries.rows(
                tx.conn,
                namespace,
                retriever_id,
                stamp(window.start),
                stamp(window.end),
                columns,
                surfaces=SEARCHES,
            )

    def _clicks(self, namespace: str, retriever_id: str, window: Window) -> list[dict[str, Any]]:
        with self.store.read() as tx:
            return queries.clicks(
                tx.conn, namespace, retriever_id, stamp(window.start), stamp(window.end)
            )


_PERFORMANCE = (
    "created_at",
    "outcome",
    "results",
    "latency_ms",
    "cached",
    "page_number",
    "page_size",
)
_SIGNALS = (*_PERFORMANCE, "execution_id", "query", "surface", "mode")


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures of one bucket (or the whole window)."""
    done = [row for row in rows if row["outcome"] == "ok"]
    latencies = [row["latency_ms"] for row in done]
    empty = sum(1 for row in done if row["results"] == 0)
    cached = sum(1 for row in done if row["cached"])
    return {
        "query_count": len(done),
        "avg_latency_ms": average(latencies),
        "p50_latency_ms": percentile(latencies, 50),
        "p95_latency_ms": percentile(latencies, 95),
        "p99_latency_ms": percentile(latencies, 99),
        "no_results_count": empty,
        "no_results_rate": rate(empty, len(done)),
        "cache_hit_rate": rate(cached, len(done)),
        "rate_limited_count": sum(1 for row in rows if row["outcome"] == "refused"),
        "error_count": sum(1 for row in rows if row["outcome"] == "failed"),
        "avg_results_returned": average([_shown(row) for row in done]),
    }


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


def _shown(row: dict[str, Any]) -> int:
    """How many results the search's page showed (its size, or fewer on the last page)."""
    size = row["page_size"] or 0
    before = ((row["page_number"] or 1) - 1) * size
    return max(min((row["results"] or 0) - before, size), 0)


def _utc(stamped: str) -> str:
    return datetime.fromisoformat(stamped).astimezone(UTC).isoformat()
