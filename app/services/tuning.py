"""What a retriever's log and clicks suggest changing (Mixpeek's `analyze-tuning`).

Each recommendation rests on counts it names in its reasoning, and its confidence grows with
them (n / (n + 50): 50 searches give 0.5, 450 give 0.9), so that a handful of searches never
reads as a verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.services.figures import rate

MIN_SEARCHES = 20  # below it, no recommendation at all
NO_RESULTS_RATE = 0.1
REPEAT_SHARE = 0.3
DEEP_CLICK_POSITION = 3.0
SLOW_P95_MS = 300.0
TOP = 5


@dataclass(frozen=True)
class Evidence:
    """What the recommendations rest on, over the period analysed."""

    searches: int
    no_results: int
    empty_queries: list[tuple[str, int]]  # the queries that found nothing most often
    repeats: int  # searches that repeated a query searched before that day
    clicks: dict[str, Any]  # clicks, clicked_searches, position (from 0), deep
    p95_latency_ms: float
    cache_hit_rate: float


def recommendations(
    backend: dict[str, Any], evidence: Evidence
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The current figures, and the recommendations they support (most confident first)."""
    clicks = evidence.clicks
    position = clicks["position"]
    current = {
        "query_count": evidence.searches,
        "no_results_rate": rate(evidence.no_results, evidence.searches),
        "click_through_rate": rate(clicks["clicked_searches"], evidence.searches),
        "click_count": clicks["clicks"],
        # Interactions count positions from 0; people count them from 1.
        "avg_click_position": 0.0 if position is None else round(position + 1, 3),
        "p95_latency_ms": evidence.p95_latency_ms,
        "cache_hit_rate": evidence.cache_hit_rate,
    }
    if evidence.searches < MIN_SEARCHES:
        return current, []
    advice: list[dict[str, Any]] = []
    if current["no_results_rate"] >= NO_RESULTS_RATE:
        advice += _no_results(backend, evidence)
    if rate(evidence.repeats, evidence.searches) >= REPEAT_SHARE and not evidence.cache_hit_rate:
        advice.append(
            _advice(
                "query_cache",
                None,
                60,
                "repeated searches answered from memory, in microseconds",
                evidence.repeats,
                f"{evidence.repeats} of {evidence.searches} searches repeated a query searched "
                "earlier that day and none was answered from the cache; set "
                "display_config.extensions.query_cache_seconds.",
            )
        )
    if clicks["clicks"] >= MIN_SEARCHES and current["avg_click_position"] > DEEP_CLICK_POSITION:
        pins = [{"query": q, "document_id": d} for q, d in clicks["deep"]]
        advice.append(
            _advice(
                "curation",
                None,
                pins,
                "the results people choose, higher on the page",
                clicks["clicks"],
                f"People click at position {current['avg_click_position']:.1f} on average over "
                f"{clicks['clicks']} clicks; pin the documents they reach for most far down "
                "the page for those queries.",
            )
        )
    if evidence.p95_latency_ms > SLOW_P95_MS:
        advice.append(
            _advice(
                "latency",
                evidence.p95_latency_ms,
                SLOW_P95_MS,
                "faster answers for the slowest searches",
                evidence.searches,
                f"One search in twenty took {evidence.p95_latency_ms:.0f} ms or more; see the "
                "slow queries for which, and turn the query cache on for repeated ones.",
            )
        )
    advice.sort(key=lambda item: item["confidence"], reverse=True)
    return current, advice


def _no_results(backend: dict[str, Any], evidence: Evidence) -> list[dict[str, Any]]:
    top = [query for query, _ in evidence.empty_queries[:TOP]]
    share = f"{evidence.no_results} of {evidence.searches} searches found nothing"
    found: list[dict[str, Any]] = []
    if backend.get("type") == "local" and backend.get("mode", "hybrid") == "keyword":
        found.append(
            _advice(
                "retrieval_mode",
                "keyword",
                "hybrid",
                "fewer searches that find nothing",
                evidence.no_results,
                f"{share}; hybrid search also finds documents near in meaning to the query "
                "(embed the collection first).",
            )
        )
    found.append(
        _advice(
            "synonyms",
            None,
            top,
            "fewer searches that find nothing",
            evidence.no_results,
            f"{share}; the most frequent were {', '.join(repr(q) for q in top)}. Add "
            "synonyms that lead them to documents that exist.",
        )
    )
    return found


def _advice(
    kind: str, current: Any, recommended: Any, impact: str, evidence: int, reasoning: str
) -> dict[str, Any]:
    return {
        "recommendation_type": kind,
        "current_value": current,
        "recommended_value": recommended,
        "expected_impact": impact,
        "confidence": round(evidence / (evidence + 50), 3),
        "reasoning": reasoning,
    }
