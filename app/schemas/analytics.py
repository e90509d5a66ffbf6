"""A retriever's insights as Mixpeek's analytics models have them (mixpeek 1.3.783)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, RootModel

from app.schemas.base import Model

Rate = float  # from 0 to 1


class TimeRange(Model):
    start: str = Field(description="Start time (UTC, ISO 8601)")
    end: str = Field(description="End time (UTC, ISO 8601), not included")


class RetrieverPerformanceResponse(Model):
    retriever_id: str
    time_range: TimeRange
    metrics: list[dict[str, Any]] = Field(
        description="One entry per hour, day or week of the range, oldest first: timestamp, "
        "query_count, avg/p50/p95/p99_latency_ms, no_results_count, no_results_rate, "
        "cache_hit_rate, rate_limited_count, error_count, avg_results_returned."
    )
    summary: dict[str, Any] | None = Field(description="The same figures over the whole range.")


class RetrieverSignal(Model):
    timestamp: str
    execution_id: str
    signal_type: str = Field(description="cache_hit, cache_miss or no_results")
    signal_data: dict[str, Any] = Field(description="query, results, latency_ms")
    metadata: dict[str, Any] | None = Field(description="surface and mode")


class RetrieverSignals(RootModel[list[RetrieverSignal]]):
    pass


class SlowQuery(Model):
    execution_id: str | None
    query: str | None
    latency_ms: float
    results: int | None
    surface: str
    mode: str | None
    cached: bool
    timestamp: str


class SlowQueries(RootModel[list[SlowQuery]]):
    pass


class StagePerformanceMetrics(Model):
    stage_name: str
    stage_type: str
    execution_count: int
    avg_latency_ms: float
    p95_latency_ms: float
    avg_documents_in: float = Field(description="Documents the stage matched, on average.")
    avg_documents_out: float = Field(description="Documents a page showed, on average.")


class StageBreakdownResponse(Model):
    retriever_id: str
    stages: list[StagePerformanceMetrics]
    total_latency_ms: float


class CachePerformanceResponse(Model):
    retriever_id: str
    time_range: TimeRange
    cache_hit_rate: Rate
    total_cache_hits: int
    total_cache_misses: int
    avg_cache_hit_latency_ms: float
    avg_cache_miss_latency_ms: float
    hourly_breakdown: list[dict[str, Any]] = Field(description="hour, hits, misses, hit_rate")


class InteractionTuningRecommendation(Model):
    recommendation_type: str = Field(
        description="retrieval_mode, synonyms, query_cache, curation or latency"
    )
    current_value: Any = None
    recommended_value: Any = None
    expected_impact: str
    confidence: Rate
    reasoning: str


class InteractionTuningResponse(Model):
    retriever_id: str
    analysis_period: TimeRange
    recommendations: list[InteractionTuningRecommendation]
    current_performance: dict[str, Any]


class QueryFigures(Model):
    query: str
    searches: int
    sessions: int = Field(description="Distinct X-Session-ID values that searched it.")
    no_results: int = Field(description="Its searches that found nothing.")
    click_through_rate: Rate = Field(description="Its searches with a click, of all of them.")
    avg_click_position: float | None = Field(description="From 1; null without a click.")
    avg_latency_ms: float
    few: bool = Field(description="Fewer than 10 searches: a count, not yet a rate to act on.")


class DocumentFigures(Model):
    document_id: str
    clicks: int
    avg_click_position: float = Field(description="From 1.")
    few: bool = Field(description="Fewer than 10 clicks.")


class FilterFigures(Model):
    field: str
    value: Any
    searches: int = Field(description="Searches that picked this value of this field.")


class _Report(Model):
    time_range: TimeRange
    total: int
    limit: int
    offset: int


class QueryReport(_Report):
    results: list[QueryFigures]


class DocumentReport(_Report):
    results: list[DocumentFigures]


class FilterReport(_Report):
    results: list[FilterFigures]
