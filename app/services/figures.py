"""The arithmetic of the insights: windows of time, buckets, averages, rates, percentiles."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.errors import invalid


@dataclass(frozen=True)
class Window:
    """From `start` up to (not including) `end`, both in UTC."""

    start: datetime
    end: datetime

    def body(self) -> dict[str, str]:
        """Mixpeek's `TimeRange`."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def bucket_start(moment: datetime, group_by: str) -> datetime:
    """The start of the hour, day or week (from Monday) that holds `moment`."""
    hour = moment.replace(minute=0, second=0, microsecond=0)
    if group_by == "hour":
        return hour
    day = hour.replace(hour=0)
    return day if group_by == "day" else day - timedelta(days=day.weekday())


def average(values: list[float] | list[int]) -> float:
    """The mean, to three decimals; 0 when there is nothing."""
    return round(sum(values) / len(values), 3) if values else 0.0


def rate(part: int, whole: int) -> float:
    """`part` of `whole`, from 0 to 1; 0 when the whole is nothing."""
    return round(part / whole, 4) if whole else 0.0


def percentile(values: list[float], rank: float) -> float:
    """The nearest-rank percentile: the smallest value that `rank` percent of the values
    are at or below; 0 when there is nothing."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(math.ceil(rank / 100 * len(ordered)) - 1, 0)]


def window_of(
    now: datetime, start: datetime | None, end: datetime | None, span: timedelta
) -> Window:
    """The range a caller asked for (a date without a zone is UTC), by default the `span`
    before now; a 422 when it starts after it ends."""
    end = _aware(end) if end else now.astimezone(UTC)
    start = _aware(start) if start else end - span
    if start >= end:
        raise invalid("start_date", "a time before end_date")
    return Window(start, end)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def ratio(total: float, count: int) -> float:
    """`total` over `count`, to three decimals; 0 when the count is nothing."""
    return round(total / count, 3) if count else 0.0


def spread_percentile(buckets: list[dict[str, Any]], rank: float) -> float:
    """The nearest-rank percentile of latencies kept as buckets (`bucket`, `count`,
    `total`, each spanning 9% of its latency): the mean of the bucket that holds it, exact
    where a bucket holds one value; 0 when there is nothing."""
    merged: dict[int, list[float]] = {}
    for row in buckets:
        into = merged.setdefault(int(row["bucket"]), [0, 0.0])
        into[0] += int(row["count"])
        into[1] += float(row["total"])
    count = sum(int(n) for n, _ in merged.values())
    if not count:
        return 0.0
    wanted, seen = max(math.ceil(rank / 100 * count), 1), 0
    for bucket in sorted(merged):
        n, total = merged[bucket]
        seen += int(n)
        if seen >= wanted:
            return round(total / n, 3)
    return 0.0  # not reached: the counts add up to `count`
