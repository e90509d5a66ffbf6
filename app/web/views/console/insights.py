"""A retriever's insights in the console: searches and latency over a date range, drawn as
SVG with their tables, and the reports of the analytics API a page at a time, each one also
as the API's CSV."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from pydantic import BaseModel
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from app import urls
from app.errors import invalid
from app.rendering import charts
from app.schemas.analytics import DocumentFigures, FilterFigures, QueryFigures
from app.services.console import Seat
from app.services.console_insights import (
    MAX_PAGE,
    REPORTS,
    ConsoleInsights,
    DateRange,
    Insights,
    about,
    bucket_label,
    read_range,
)
from app.services.reports import FEW
from app.web.requests import call, int_param, services_of
from app.web.responses import csv_text
from app.web.views.console.frame import NO_STORE, console_view, page

EXPORT_ROWS = 1000
PRESETS = (("Today", 1), ("7 days", 7), ("30 days", 30), ("90 days", 90), ("A year", 365))
MAX_DATE_CHARS = 40
COLUMNS: dict[str, type[BaseModel]] = {
    "queries": QueryFigures,
    "no_results": QueryFigures,
    "documents": DocumentFigures,
    "filters": FilterFigures,
}


def _insights(request: Request) -> ConsoleInsights:
    services = services_of(request)
    return ConsoleInsights(services.analytics, services.reports)


def _range(request: Request) -> tuple[DateRange, dict[str, str], dict[str, str]]:
    """The range asked for, its errors by field, and the values as sent (shown back)."""
    sent = {name: request.query_params.get(name, "")[:MAX_DATE_CHARS] for name in ("from", "to")}
    span, errors = read_range(services_of(request).clock, sent["from"], sent["to"])
    if not errors:
        sent = {"from": span.first.isoformat(), "to": span.last.isoformat()}
    return span, errors, sent


@console_view()
async def insights(request: Request, seat: Seat, form: FormData | None) -> Response:
    retriever_id = request.path_params["retriever_id"]
    services = services_of(request)
    subject = await call(about, services.store, seat.namespace, retriever_id)
    span, errors, sent = _range(request)
    pages = {name: int_param(request, f"{name}_page", 1, 1, MAX_PAGE) for name in REPORTS}
    found = await call(_insights(request).read, seat.namespace, retriever_id, span, pages)
    labels = [bucket_label(b["timestamp"], span.group_by) for b in found.buckets]
    return page(
        request,
        "console/insights.html",
        seat,
        422 if errors else 200,
        nav="retrievers",
        subject=subject,
        found=found,
        errors=errors,
        sent=sent,
        few=FEW,
        charts=_charts(found, labels),
        labels=labels,
        paging=_paging(request, subject.retriever_id, found),
        presets=_presets(request, subject.retriever_id, span),
        exports={
            name: urls.console_retriever(
                subject.retriever_id, "insights.csv", [("report", name), *span.query()]
            )
            for name in REPORTS
        },
    )


def _presets(request: Request, retriever_id: str, span: DateRange) -> list[tuple[str, str, bool]]:
    """The usual ranges, each ending today: label, link, and whether it is the one shown."""
    today = services_of(request).clock().astimezone(UTC).date()
    found = []
    for label, days in PRESETS:
        first = today - timedelta(days=days - 1)
        query = [("from", first.isoformat()), ("to", today.isoformat())]
        link = urls.console_retriever(retriever_id, "insights", query)
        found.append((label, link, (span.first, span.last) == (first, today)))
    return found


def _charts(found: Insights, labels: list[str]) -> dict[str, Any]:
    searches = [float(b["query_count"]) for b in found.buckets]
    latency = [
        charts.Series(name, [_latency(b, name) for b in found.buckets], name)
        for name in ("p50", "p95", "p99")
    ]
    return {
        "searches": charts.bars(labels, searches) if any(searches) else None,
        "latency": charts.lines(labels, latency) if any(searches) else None,
    }


def _latency(bucket: dict[str, Any], name: str) -> float | None:
    """A bucket's latency percentile, or None where nothing was searched (not 0 ms)."""
    return float(bucket[f"{name}_latency_ms"]) if bucket["query_count"] else None


def _paging(request: Request, retriever_id: str, found: Insights) -> dict[str, dict[str, str]]:
    """Each report's links to its previous and next pages, the other reports kept where
    they are."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k in ("from", "to")]
    links: dict[str, dict[str, str]] = {}
    for name, report in found.reports.items():
        others = [
            (f"{other}_page", str(found.reports[other].page))
            for other in REPORTS
            if other != name and found.reports[other].page > 1
        ]

        def at(number: int, name: str = name, others: list[tuple[str, str]] = others) -> str:
            query = [*kept, *others, (f"{name}_page", str(number))]
            path = urls.console_retriever(retriever_id, "insights", query)
            return f"{path}#{name.replace('_', '-')}"

        links[name] = {}
        if report.page > 1:
            links[name]["prev"] = at(report.page - 1)
        if report.page < report.pages:
            links[name]["next"] = at(report.page + 1)
    return links


@console_view()
async def export(request: Request, seat: Seat, form: FormData | None) -> Response:
    """A report over the range as the analytics API's CSV (its first `EXPORT_ROWS` rows)."""
    retriever_id = request.path_params["retriever_id"]
    name = request.query_params.get("report", "queries")
    if name not in COLUMNS:
        raise invalid("report", ", ".join(REPORTS))
    span, errors, _ = _range(request)
    if errors:
        field, message = next(iter(errors.items()))
        raise invalid(field, message, message)
    body = await call(
        _insights(request).report, seat.namespace, retriever_id, name, span, EXPORT_ROWS, 1
    )
    filename = f"{name}-{span.first.isoformat()}-{span.last.isoformat()}.csv"
    return Response(
        csv_text(body["results"], list(COLUMNS[name].model_fields)),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'},
    )
