"""The console's insights of a retriever: the date range its form asks for (read by field,
each error beside its field), and the figures over it, read from the same services as the
analytics API (`Analytics.performance` and the `Reports`), a page of each report at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from app.adapters.clock import Clock
from app.adapters.store import Store
from app.services.analytics import Analytics
from app.services.reports import FEW, Reports
from app.services.retrievers import retriever_or_404

DEFAULT_DAYS = 7
MAX_DAYS = 366
HOURLY_UP_TO_DAYS = 2  # a range this short is drawn by hour, then by day up to...
DAILY_UP_TO_DAYS = 92  # ...this, then by week
REPORT_PAGE = 10
MAX_PAGE = 10_000
REPORTS = ("queries", "no_results", "documents", "filters")
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_YEAR, LAST_YEAR = 1970, 2999  # (a day a date can be added to and taken from)


@dataclass(frozen=True)
class About:
    """What the console's pages of one retriever say about it."""

    retriever_id: str
    name: str
    local: bool  # searched by this server's engines (relevance rules apply)
    public_name: str | None
    exposed_fields: list[str]


def about(store: Store, namespace: str, retriever_id: str) -> About:
    """The retriever of that id in `namespace`, or a 404 (another namespace's is not there)."""
    with store.read() as tx:
        record = retriever_or_404(tx, namespace, retriever_id)
        published = tx.get_published(namespace, retriever_id)
    exposed = published.display_config.get("exposed_fields") if published else None
    return About(
        retriever_id=record.retriever_id,
        name=record.retriever_name,
        local=record.backend.get("type") == "local",
        public_name=published.public_name if published else None,
        exposed_fields=[str(f) for f in exposed or []],
    )


@dataclass(frozen=True)
class DateRange:
    """From the first day to the last, both whole days in UTC; bucketed by `group_by`."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def group_by(self) -> str:
        if self.days <= HOURLY_UP_TO_DAYS:
            return "hour"
        return "day" if self.days <= DAILY_UP_TO_DAYS else "week"

    def query(self) -> list[tuple[str, str]]:
        return [("from", self.first.isoformat()), ("to", self.last.isoformat())]


def default_range(clock: Clock) -> DateRange:
    today = clock().astimezone(UTC).date()
    return DateRange(today - timedelta(days=DEFAULT_DAYS - 1), today)


def read_range(clock: Clock, sent_from: str, sent_to: str) -> tuple[DateRange, dict[str, str]]:
    """The range a form asks for (a day as YYYY-MM-DD; either left empty takes the default),
    and its errors by field; with errors, the default range."""
    fallback = default_range(clock)
    errors: dict[str, str] = {}
    first = _day(sent_from, "from", errors)
    last = _day(sent_to, "to", errors)
    if errors:
        return fallback, errors
    if last is None:
        last = fallback.last if first is None or first <= fallback.last else first
    if first is None:
        first = last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        return fallback, {"to": "The last day comes before the first; pick a later one."}
    if (last - first).days + 1 > MAX_DAYS:
        return fallback, {"from": f"A range is at most {MAX_DAYS} days; pick a later first day."}
    return DateRange(first, last), {}


def _day(sent: str, name: str, errors: dict[str, str]) -> date | None:
    sent = sent.strip()
    if not sent:
        return None
    found = DAY.fullmatch(sent)
    try:
        day = date.fromisoformat(sent) if found else None
    except ValueError:
        day = None
    if day is None:
        errors[name] = f"“{sent[:40]}” is not a day; write it as YYYY-MM-DD, such as 2026-01-31."
    elif not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors[name] = f"Pick a day from the years {FIRST_YEAR} to {LAST_YEAR}."
        day = None
    return day


@dataclass(frozen=True)
class Report:
    """One page of a report: its rows, how many there are in all, and which page this is."""

    name: str
    rows: list[dict[str, Any]]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // REPORT_PAGE))


@dataclass(frozen=True)
class Insights:
    range: DateRange
    buckets: list[dict[str, Any]]  # the performance metrics, each marked `few`
    summary: dict[str, Any]
    reports: dict[str, Report]

    @property
    def few(self) -> bool:
        return int(self.summary["query_count"]) < FEW


class ConsoleInsights:
    def __init__(self, analytics: Analytics, reports: Reports) -> None:
        self.analytics = analytics
        self.reports = reports

    def read(
        self, namespace: str, retriever_id: str, span: DateRange, pages: dict[str, int]
    ) -> Insights:
        """The figures over `span`, each report at its page (from 1)."""
        start, end = span.start, span.end
        performance = self.analytics.performance(namespace, retriever_id, start, end, span.group_by)
        buckets = [
            {**metric, "few": int(metric["query_count"]) < FEW} for metric in performance["metrics"]
        ]
        found = {}
        for name in REPORTS:
            page = pages.get(name, 1)
            body = self.report(namespace, retriever_id, name, span, REPORT_PAGE, page)
            found[name] = Report(name, body["results"], int(body["total"]), page)
        return Insights(span, buckets, performance["summary"], found)

    def report(
        self, namespace: str, retriever_id: str, name: str, span: DateRange, size: int, page: int
    ) -> dict[str, Any]:
        """One report's page, as the analytics API answers it (`results`, `total`, ...)."""
        args = (namespace, retriever_id, span.start, span.end, size, (page - 1) * size)
        if name == "queries":
            return self.reports.queries(*args)
        if name == "no_results":
            return self.reports.queries(*args, empty_only=True)
        if name == "documents":
            return self.reports.documents(*args)
        return self.reports.filters(*args)


def bucket_label(timestamp: str, group_by: str) -> str:
    """A bucket's start as a chart and its table name it: 14:00 for an hour, Dec 2 for a
    day or the week that starts on it."""
    moment = datetime.fromisoformat(timestamp)
    if group_by == "hour":
        return moment.strftime("%b %-d %H:00")
    return moment.strftime("%b %-d")
