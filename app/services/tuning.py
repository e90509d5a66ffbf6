"""What a retriever's log and clicks suggest changing (Mixpeek's `analyze-tuning`).

Each recommendation rests on counts it names in its reasoning, and its confidence grows with
them (n / (n + 50): 50 searches give 0.5, 450 give 0.9), so that a handful of searches never
reads as a verdict.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.services.figures import average, percentile, rate

MIN_SEARCHES = 20  # below it, no recommendation at all
NO_RESULTS_RATE = 0.1
REPEAT_SHARE = 0.3
DEEP_CLICK_POSITION = 3.0
SLOW_P95_MS = 300.0
TOP = 5


def recommendations(
    backend: dict[str, Any], rows: list[dict[str, Any]], clicks: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The current figures, and the recommendations they support (most confident first)."""
    done = [row for row in rows if row["outcome"] == "ok"]
    by_execution = {row["execution_id"]: row for row in done if row["execution_id"]}
    clicked = [
        click
        for click in clicks
        if "click" in click["interaction_types"] and click["execution_id"] in by_execution
    ]
    empty = [row["query"] for row in done if row["results"] == 0 and row["query"]]
    queries = [row["query"] for row in done if row["query"]]
    latencies = [row["latency_ms"] for row in done]
    current = {
        "query_count": len(done),
        "no_results_rate": rate(len(empty), len(done)),
        "click_through_rate": rate(len({c["execution_id"] for c in clicked}), len(by_execution)),
        "click_count": len(clicked),
        # Interactions count positions from 0; people count them from 1.
        "avg_click_position": average([c["position"] + 1 for c in clicked]),
        "p95_latency_ms": percentile(latencies, 95),
        "cache_hit_rate": rate(sum(1 for row in done if row["cached"]), len(done)),
    }
    if len(done) < MIN_SEARCHES:
        return current, []
    advice: list[dict[str, Any]] = []
    if current["no_results_rate"] >= NO_RESULTS_RATE:
        advice += _no_results(backend, empty, len(done))
    repeats = len(queries) - len(set(queries))
    if rate(repeats, len(queries)) >= REPEAT_SHARE and current["cache_hit_rate"] == 0:
        advice.append(
            _advice(
                "query_cache",
                None,
                60,
                "repeated searches answered from memory, in microseconds",
                repeats,
                f"{repeats} of {len(queries)} searches repeated an earlier query and none was "
                "answered from the cache; set display_config.extensions.query_cache_seconds.",
            )
        )
    if len(clicked) >= MIN_SEARCHES and current["avg_click_position"] > DEEP_CLICK_POSITION:
        advice.append(_deep_clicks(clicked, by_execution, current["avg_click_position"]))
    if current["p95_latency_ms"] > SLOW_P95_MS:
        advice.append(
            _advice(
                "latency",
                current["p95_latency_ms"],
                SLOW_P95_MS,
                "faster answers for the slowest searches",
                len(done),
                f"One search in twenty took {current['p95_latency_ms']:.0f} ms or more; see "
                "the slow queries for which, and turn the query cache on for repeated ones.",
            )
        )
    advice.sort(key=lambda item: item["confidence"], reverse=True)
    return current, advice


def _no_results(backend: dict[str, Any], empty: list[str], searches: int) -> list[dict[str, Any]]:
    top = [query for query, _ in Counter(empty).most_common(TOP)]
    share = f"{len(empty)} of {searches} searches found nothing"
    found: list[dict[str, Any]] = []
    if backend.get("type") == "local" and backend.get("mode", "hybrid") == "keyword":
        found.append(
            _advice(
                "retrieval_mode",
                "keyword",
                "hybrid",
                "fewer searches that find nothing",
                len(empty),
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
            len(empty),
            f"{share}; the most frequent were {', '.join(repr(q) for q in top)}. Add "
            "synonyms that lead them to documents that exist.",
        )
    )
    return found


def _deep_clicks(
    clicked: list[dict[str, Any]], by_execution: dict[str, dict[str, Any]], position: float
) -> dict[str, Any]:
    deep = Counter(
        (by_execution[c["execution_id"]]["query"], c["document_id"])
        for c in clicked
        if c["position"] + 1 > DEEP_CLICK_POSITION and by_execution[c["execution_id"]]["query"]
    )
    pins = [{"query": q, "document_id": d} for (q, d), _ in deep.most_common(TOP)]
    return _advice(
        "curation",
        None,
        pins,
        "the results people choose, higher on the page",
        len(clicked),
        f"People click at position {position:.1f} on average over {len(clicked)} clicks; "
        "pin the documents they reach for most for those queries.",
    )


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
