"""A retriever's insights for its owner: Mixpeek's analytics calls, read off the search log
(viewer role and up, in the owner's namespace)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from app.errors import invalid
from app.schemas.analytics import (
    CachePerformanceResponse,
    DocumentFigures,
    DocumentReport,
    FilterFigures,
    FilterReport,
    InteractionTuningResponse,
    QueryFigures,
    QueryReport,
    RetrieverPerformanceResponse,
    RetrieverSignals,
    SlowQueries,
    StageBreakdownResponse,
)
from app.web.requests import (
    bool_param,
    call,
    int_param,
    owner_namespace,
    paging,
    services_of,
    text_param,
)
from app.web.responses import JSONResponse, csv_text
from app.web.routing import api, owner_operation, route

_TAG = "Analytics"
_HOURS = ("hours", {"type": "integer", "minimum": 1, "maximum": 720, "default": 24})
_DATE = {"type": "string", "format": "date-time"}
MAX_HOURS = 720
MAX_DAYS = 90


@api(
    owner_operation(
        "Searches, latency, results and cache over time",
        _TAG,
        RetrieverPerformanceResponse,
        query=("start_date", "end_date", "group_by"),
        query_schemas=(
            ("start_date", _DATE),
            ("end_date", _DATE),
            ("group_by", {"type": "string", "enum": ["hour", "day", "week"], "default": "hour"}),
        ),
    )
)
async def performance(request: Request) -> Response:
    namespace, retriever_id = await _target(request)
    analytics = services_of(request).analytics
    group_by = request.query_params.get("group_by", "hour")
    start, end = _date(request, "start_date"), _date(request, "end_date")
    return JSONResponse(
        await call(analytics.performance, namespace, retriever_id, start, end, group_by)
    )


@api(
    owner_operation(
        "Signals of recent searches (cache hits and misses, no results)",
        _TAG,
        RetrieverSignals,
        query=("signal_type", "limit", "hours"),
        query_schemas=(
            ("signal_type", {"type": "string", "enum": ["cache_hit", "cache_miss", "no_results"]}),
            ("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
            _HOURS,
        ),
    )
)
async def signals(request: Request) -> Response:
    namespace, retriever_id = await _target(request)
    kind = request.query_params.get("signal_type")
    limit = int_param(request, "limit", 100, 1, 1000)
    hours = int_param(request, "hours", 24, 1, MAX_HOURS)
    analytics = services_of(request).analytics
    return JSONResponse(await call(analytics.signals, namespace, retriever_id, kind, limit, hours))


@api(
    owner_operation(
        "The slowest searches",
        _TAG,
        SlowQueries,
        query=("limit", "hours"),
        query_schemas=(
            ("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}),
            _HOURS,
        ),
    )
)
async def slow_queries(request: Request) -> Response:
    namespace, retriever_id = await _target(request)
    limit = int_param(request, "limit", 10, 1, 1000)
    hours = int_param(request, "hours", 24, 1, MAX_HOURS)
    analytics = services_of(request).analytics
    return JSONResponse(await call(analytics.slow_queries, namespace, retriever_id, limit, hours))


@api(
    owner_operation(
        "Time spent in each stage",
        _TAG,
        StageBreakdownResponse,
        query=("hours",),
        query_schemas=(_HOURS,),
    )
)
async def stages(request: Request) -> Response:
    return await _over_hours(request, services_of(request).analytics.stages)


@api(
    owner_operation(
        "How often the query cache answers, and how fast",
        _TAG,
        CachePerformanceResponse,
        query=("hours",),
        query_schemas=(_HOURS,),
    )
)
async def cache_performance(request: Request) -> Response:
    return await _over_hours(request, services_of(request).analytics.cache_performance)


async def _over_hours(
    request: Request, read: Callable[[str, str, int], dict[str, Any]]
) -> Response:
    """A figure over the last `hours` (24 unless asked)."""
    namespace, retriever_id = await _target(request)
    hours = int_param(request, "hours", 24, 1, MAX_HOURS)
    return JSONResponse(await call(read, namespace, retriever_id, hours))


@api(
    owner_operation(
        "What the searches and clicks suggest changing",
        _TAG,
        InteractionTuningResponse,
        query=("days",),
        query_schemas=(("days", {"type": "integer", "minimum": 1, "maximum": 90, "default": 7}),),
    )
)
async def analyze_tuning(request: Request) -> Response:
    namespace, retriever_id = await _target(request)
    days = int_param(request, "days", 7, 1, MAX_DAYS)
    analytics = services_of(request).analytics
    return JSONResponse(await call(analytics.tuning, namespace, retriever_id, days))


async def _target(request: Request) -> tuple[str, str]:
    """The owner's namespace (any role reads) and the retriever asked about."""
    return await owner_namespace(request), request.path_params["retriever_id"]


def _date(request: Request, name: str) -> datetime | None:
    """A date-time query parameter (ISO 8601; without a zone, UTC)."""
    raw = text_param(request, name, 40)
    if raw is None:
        return None
    # A "+" left unescaped in a query string arrives as a space.
    raw = raw[:-5] + "+" + raw[-4:] if len(raw) > 5 and raw[-5] == " " else raw
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise invalid(
            name,
            "an ISO 8601 date-time",
            f"Query parameter {name!r} is an ISO 8601 date-time such as "
            f"2026-01-31T00:00:00Z, not {raw[:40]!r}.",
        ) from None


# Our own reports, where Mixpeek has no call: a page at a time, as JSON or CSV.

_REPORT_QUERY = ("start_date", "end_date", "limit", "offset", "format")
_REPORT_SCHEMAS = (
    ("start_date", _DATE),
    ("end_date", _DATE),
    ("format", {"type": "string", "enum": ["json", "csv"], "default": "json"}),
)


@api(
    owner_operation(
        "Top queries, with their click-through",
        _TAG,
        QueryReport,
        query=(*_REPORT_QUERY, "no_results"),
        query_schemas=(*_REPORT_SCHEMAS, ("no_results", {"type": "boolean", "default": False})),
    )
)
async def top_queries(request: Request) -> Response:
    namespace, retriever_id = await _target(request)
    empty_only = bool_param(request, "no_results")
    reports = services_of(request).reports

    def read(*args: Any) -> dict[str, Any]:
        return reports.queries(*args, empty_only=empty_only)

    return await _report(request, read, QueryFigures, namespace, retriever_id)


@api(
    owner_operation(
        "The documents clicked most",
        _TAG,
        DocumentReport,
        query=_REPORT_QUERY,
        query_schemas=_REPORT_SCHEMAS,
    )
)
async def top_documents(request: Request) -> Response:
    namespace, retriever_id = await _target(request)
    reports = services_of(request).reports
    return await _report(request, reports.documents, DocumentFigures, namespace, retriever_id)


@api(
    owner_operation(
        "The filters picked most",
        _TAG,
        FilterReport,
        query=_REPORT_QUERY,
        query_schemas=_REPORT_SCHEMAS,
    )
)
async def top_filters(request: Request) -> Response:
    namespace, retriever_id = await _target(request)
    reports = services_of(request).reports
    return await _report(request, reports.filters, FilterFigures, namespace, retriever_id)


async def _report(
    request: Request,
    read: Callable[..., dict[str, Any]],
    row: type[BaseModel],
    namespace: str,
    retriever_id: str,
) -> Response:
    """A report's page as JSON, or its rows as CSV (`format=csv`)."""
    as_csv = request.query_params.get("format", "json")
    if as_csv not in ("json", "csv"):
        raise invalid("format", "json or csv")
    limit, offset = paging(request)
    start, end = _date(request, "start_date"), _date(request, "end_date")
    body = await call(read, namespace, retriever_id, start, end, limit, offset)
    if as_csv == "json":
        return JSONResponse(body)
    name = request.url.path.rsplit("/", 1)[-1]
    return Response(
        csv_text(body["results"], list(row.model_fields)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


_BASE = "/v1/analytics/retrievers/{retriever_id}"
routes = [
    route(f"{_BASE}/performance", get=performance),
    route(f"{_BASE}/signals", get=signals),
    route(f"{_BASE}/slow-queries", get=slow_queries),
    route(f"{_BASE}/stages", get=stages),
    route(f"{_BASE}/cache-performance", get=cache_performance),
    route(f"{_BASE}/analyze-tuning", post=analyze_tuning),
    route(f"{_BASE}/queries", get=top_queries),
    route(f"{_BASE}/documents", get=top_documents),
    route(f"{_BASE}/filters", get=top_filters),
]
