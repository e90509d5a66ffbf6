"""Mixpeek's analytics calls, answered from a known search log: each figure against one
computed by hand; clicks joined by execution id; a viewer reads; another namespace sees
nothing; bad parameters are refused by name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.adapters.clock import stamp
from app.adapters.store import rollups, searchlog
from app.web.app import create_app
from tests.helpers import (
    NAMESPACE,
    OTHER_KEY,
    OTHER_NAMESPACE,
    OWNER_KEY,
    FakeClock,
    local_backend,
    owner_headers,
)

VIEWER_KEY = "viewer-key-0123456789abcdef"
NOW = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
# (minute of the day, outcome, latency, results, cached, surface)
LOG = [
    ("10:05", "ok", 10.0, 5, False, "execute"),
    ("10:20", "ok", 20.0, 0, False, "page"),
    ("10:30", "ok", 30.0, 3, True, "execute"),
    ("10:45", "ok", 40.0, 0, False, "embed"),
    ("11:10", "ok", 100.0, 1, False, "execute"),
    ("11:20", "ok", 200.0, 1, False, "similar"),
    ("11:30", "refused", 0.5, None, False, "execute"),
    ("11:40", "failed", 3.0, None, False, "execute"),
    ("11:50", "ok", 1.0, 4, False, "typeahead"),  # counted nowhere here
]

FILTERS = {
    0: [{"field": "category", "operator": "in", "value": ["light", "seating"]}],
    1: [{"field": "category", "operator": "eq", "value": "light"}],
}


@pytest.fixture
def app_client(make_settings: Any, database_url: str) -> Iterator[tuple[TestClient, str]]:
    settings = make_settings(
        database_url=database_url,
        api_keys=[
            f"{NAMESPACE}:{OWNER_KEY}",
            f"{NAMESPACE}:{VIEWER_KEY}@viewer",
            f"{OTHER_NAMESPACE}:{OTHER_KEY}",
        ],
    )
    with TestClient(create_app(settings, clock=FakeClock(NOW)), raise_server_exceptions=False) as c:
        retriever_id = c.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "shop", "backend": {**local_backend(), "mode": "keyword"}},
        ).json()["retriever_id"]
        rows = [_row(retriever_id, n, *entry) for n, entry in enumerate(LOG)]
        store = c.app.state.services.store  # type: ignore[attr-defined]
        with store.write() as tx:
            searchlog.insert(tx.conn, rows)
            for n, position in ((0, 0), (4, 2)):  # clicks on two of the six searches
                tx.insert_interaction(
                    {
                        "interaction_id": f"int_{n}",
                        "retriever_id": retriever_id,
                        "namespace": NAMESPACE,
                        "document_id": f"doc{n}",
                        "interaction_types": ["click"],
                        "position": position,
                        "execution_id": f"exe_{n}",
                        "session_id": None,
                        "details": None,
                        "created_at": stamp(NOW.replace(minute=0, second=0)),
                    }
                )
        yield c, retriever_id


def _row(
    retriever_id: str,
    n: int,
    at: str,
    outcome: str,
    latency: float,
    results: int | None,
    cached: bool,
    surface: str,
) -> dict[str, Any]:
    hour, minute = map(int, at.split(":"))
    return {
        "retriever_id": retriever_id,
        "namespace": NAMESPACE,
        "surface": surface,
        "outcome": outcome,
        "query": f"query {n % 3}",
        "filters": FILTERS.get(n),
        "facets": None,
        "sort": None,
        "page_number": 1,
        "page_size": 10,
        "results": results,
        "latency_ms": latency,
        "mode": "keyword",
        "cached": cached,
        "execution_id": f"exe_{n}" if outcome == "ok" else None,
        "session_id": None,
        "created_at": stamp(NOW.replace(hour=hour, minute=minute, second=0)),
    }


def _get(client: TestClient, path: str, key: str = OWNER_KEY, **params: Any) -> Any:
    namespace = OTHER_NAMESPACE if key == OTHER_KEY else NAMESPACE
    response = client.get(path, headers=owner_headers(key, namespace), params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_performance_by_hour_against_figures_computed_by_hand(
    app_client: tuple[TestClient, str],
) -> None:
    client, retriever_id = app_client
    body = _get(client, f"/v1/analytics/retrievers/{retriever_id}/performance")
    assert body["time_range"] == {
        "start": "2026-03-01T12:00:10+00:00",
        "end": "2026-03-02T12:00:10+00:00",
    }
    summary = body["summary"]
    assert summary["query_count"] == 6
    assert summary["avg_latency_ms"] == pytest.approx(400 / 6, abs=0.001)
    assert (summary["p50_latency_ms"], summary["p95_latency_ms"]) == (30.0, 200.0)
    assert (summary["no_results_count"], summary["no_results_rate"]) == (2, 0.3333)
    assert summary["cache_hit_rate"] == 0.1667
    assert (summary["rate_limited_count"], summary["error_count"]) == (1, 1)
    # 25 hours: from the hour the window starts in to the one it ends in, every one listed.
    assert len(body["metrics"]) == 25
    ten = next(m for m in body["metrics"] if m["timestamp"] == "2026-03-02T10:00:00+00:00")
    assert (ten["query_count"], ten["p50_latency_ms"], ten["avg_results_returned"]) == (
        4,
        20.0,
        2.0,
    )
    assert sum(m["query_count"] for m in body["metrics"]) == 6

    by_day = _get(
        client,
        f"/v1/analytics/retrievers/{retriever_id}/performance",
        group_by="day",
        start_date="2026-03-02T00:00:00.000000+0000",
        end_date="2026-03-03T00:00:00",
    )
    assert [m["query_count"] for m in by_day["metrics"]] == [6]


def test_cache_stages_slow_queries_and_signals(app_client: tuple[TestClient, str]) -> None:
    client, retriever_id = app_client
    base = f"/v1/analytics/retrievers/{retriever_id}"
    cache = _get(client, f"{base}/cache-performance")
    assert (cache["total_cache_hits"], cache["total_cache_misses"]) == (1, 5)
    assert (cache["avg_cache_hit_latency_ms"], cache["avg_cache_miss_latency_ms"]) == (30.0, 74.0)
    assert cache["cache_hit_rate"] == 0.1667

    stages = _get(client, f"{base}/stages")
    [stage] = stages["stages"]
    assert stage["stage_name"] == "full_text_search"
    assert (stage["execution_count"], stage["avg_latency_ms"], stage["p95_latency_ms"]) == (
        5,
        74.0,
        200.0,
    )
    assert stage["avg_documents_in"] == 1.4

    slow = _get(client, f"{base}/slow-queries", limit=2)
    assert [(q["latency_ms"], q["surface"]) for q in slow] == [
        (200.0, "similar"),
        (100.0, "execute"),
    ]

    signals = _get(client, f"{base}/signals", signal_type="no_results")
    assert [s["execution_id"] for s in signals] == ["exe_3", "exe_1"]  # newest first
    assert _get(client, f"{base}/signals", limit=1)[0]["execution_id"] == "exe_5"


def test_tuning_joins_clicks_by_execution_and_waits_for_enough_searches(
    app_client: tuple[TestClient, str],
) -> None:
    client, retriever_id = app_client
    response = client.post(
        f"/v1/analytics/retrievers/{retriever_id}/analyze-tuning", headers=owner_headers()
    )
    assert response.status_code == 200, response.text
    current = response.json()["current_performance"]
    assert (current["click_through_rate"], current["avg_click_position"]) == (0.3333, 2.0)
    assert response.json()["recommendations"] == []  # six searches are too few to advise


def test_a_viewer_reads_and_another_namespace_sees_nothing(
    app_client: tuple[TestClient, str],
) -> None:
    client, retriever_id = app_client
    path = f"/v1/analytics/retrievers/{retriever_id}/performance"
    assert _get(client, path, VIEWER_KEY)["summary"]["query_count"] == 6
    other = client.get(path, headers=owner_headers(OTHER_KEY, OTHER_NAMESPACE))
    assert other.status_code == 404
    assert client.get(path).status_code == 401


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("performance", {"group_by": "month"}, "group_by"),
        ("performance", {"start_date": "yesterday"}, "start_date"),
        (
            "performance",
            {"start_date": "2026-03-02T00:00:00", "end_date": "2026-03-01"},
            "start_date",
        ),
        ("performance", {"group_by": "hour", "start_date": "2020-01-01"}, "start_date"),
        ("signals", {"signal_type": "rerank_scores"}, "signal_type"),
        ("signals", {"limit": "1001"}, "limit"),
        ("slow-queries", {"hours": "0"}, "hours"),
        ("stages", {"hours": "721"}, "hours"),
        ("cache-performance", {"hours": "1e3"}, "hours"),
    ],
)
def test_bad_parameters_are_refused_by_name(
    app_client: tuple[TestClient, str], path: str, params: dict[str, str], named: str
) -> None:
    client, retriever_id = app_client
    response = client.get(
        f"/v1/analytics/retrievers/{retriever_id}/{path}", headers=owner_headers(), params=params
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["errors"][0]["field"] == named


def test_top_queries_with_their_click_through_and_those_that_found_nothing(
    app_client: tuple[TestClient, str],
) -> None:
    client, retriever_id = app_client
    base = f"/v1/analytics/retrievers/{retriever_id}"
    report = _get(client, f"{base}/queries")
    assert report["total"] == 3
    figures = [
        (
            q["query"],
            q["searches"],
            q["no_results"],
            q["click_through_rate"],
            q["avg_click_position"],
        )
        for q in report["results"]
    ]
    assert figures == [
        ("query 0", 2, 1, 0.5, 1.0),
        ("query 1", 2, 1, 0.5, 3.0),
        ("query 2", 2, 0, 0.0, None),
    ]
    assert all(q["few"] for q in report["results"])
    paged = _get(client, f"{base}/queries", limit=1, offset=1)
    assert ([q["query"] for q in paged["results"]], paged["total"]) == (["query 1"], 3)

    empty = _get(client, f"{base}/queries", no_results="true")
    assert [(q["query"], q["searches"]) for q in empty["results"]] == [
        ("query 0", 1),
        ("query 1", 1),
    ]

    documents = _get(client, f"{base}/documents")
    assert [
        (d["document_id"], d["clicks"], d["avg_click_position"]) for d in documents["results"]
    ] == [
        ("doc0", 1, 1.0),
        ("doc4", 1, 3.0),
    ]
    filters = _get(client, f"{base}/filters")
    assert [(f["field"], f["value"], f["searches"]) for f in filters["results"]] == [
        ("category", "light", 2),
        ("category", "seating", 1),
    ]
    outside = _get(client, f"{base}/queries", start_date="2026-01-01", end_date="2026-02-01")
    assert (outside["results"], outside["total"]) == ([], 0)


def test_a_report_as_csv_defuses_formulas(app_client: tuple[TestClient, str]) -> None:
    client, retriever_id = app_client
    store = client.app.state.services.store  # type: ignore[attr-defined]
    hostile = _row(retriever_id, 9, "11:55", "ok", 5.0, 1, False, "execute")
    hostile["query"] = '=HYPERLINK("http://evil.example","x")'
    with store.write() as tx:
        searchlog.insert(tx.conn, [hostile])
    response = client.get(
        f"/v1/analytics/retrievers/{retriever_id}/queries",
        headers=owner_headers(),
        params={"format": "csv"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0].startswith("query,searches,sessions,no_results,click_through_rate")
    assert len(lines) == 5
    assert any(line.startswith("\"'=HYPERLINK(") for line in lines)
    assert not any(line.startswith("=") for line in lines)
    bad = client.get(
        f"/v1/analytics/retrievers/{retriever_id}/queries",
        headers=owner_headers(),
        params={"format": "xlsx"},
    )
    assert bad.status_code == 422


def test_tuning_advises_from_enough_searches_with_its_evidence(
    app_client: tuple[TestClient, str],
) -> None:
    client, retriever_id = app_client
    store = client.app.state.services.store  # type: ignore[attr-defined]
    rows = []
    for n in range(50):  # 30 of 50 find nothing; every query is searched ten times
        row = _row(retriever_id, 100 + n, "09:00", "ok", 12.0, 0 if n < 30 else 4, False, "page")
        row["query"] = f"wanted {n % 5}"
        rows.append(row)
    with store.write() as tx:
        searchlog.insert(tx.conn, rows)
    response = client.post(
        f"/v1/analytics/retrievers/{retriever_id}/analyze-tuning", headers=owner_headers()
    )
    assert response.status_code == 200, response.text
    advice = {r["recommendation_type"]: r for r in response.json()["recommendations"]}
    # Repeated queries, but the known log's one answer from the cache shows it is on.
    assert set(advice) == {"retrieval_mode", "synonyms"}
    # 32 of the 56 searches found nothing (30 here, two in the known log).
    assert advice["retrieval_mode"]["recommended_value"] == "hybrid"
    assert advice["retrieval_mode"]["confidence"] == round(32 / 82, 3)
    assert advice["synonyms"]["recommended_value"][:3] == ["wanted 0", "wanted 1", "wanted 2"]
    assert "32 of 56 searches found nothing" in advice["synonyms"]["reasoning"]


def test_past_days_keep_their_most_searched_queries_and_those_that_found_nothing(
    app_client: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, retriever_id = app_client
    monkeypatch.setattr(rollups, "KEPT_QUERIES", 2)
    store = client.app.state.services.store  # type: ignore[attr-defined]
    rows = []
    for n, (text, times, found) in enumerate(
        [("popular", 5, 3), ("second", 4, 3), ("empty", 1, 0), ("tail a", 1, 2), ("tail b", 1, 2)]
    ):
        for k in range(times):
            row = _row(retriever_id, 200 + 10 * n + k, "08:00", "ok", 5.0, found, False, "page")
            rows.append({**row, "query": text, "created_at": "2026-02-20T08:00:00.000000+00:00"})
    with store.write() as tx:
        searchlog.insert(tx.conn, rows)
        assert rollups.compact(tx.conn, stamp(NOW)) == 2  # the two tail queries
    report = _get(
        client,
        f"/v1/analytics/retrievers/{retriever_id}/queries",
        start_date="2026-02-20T00:00:00",
        end_date="2026-02-21T00:00:00",
    )
    assert [(q["query"], q["searches"]) for q in report["results"]] == [
        ("popular", 5),
        ("second", 4),
        ("empty", 1),
    ]


def test_a_number_thousands_of_digits_long_is_refused_by_name(
    app_client: tuple[TestClient, str],
) -> None:
    client, retriever_id = app_client
    for path, name in (("filters", "offset"), ("filters", "limit"), ("stages", "hours")):
        response = client.get(
            f"/v1/analytics/retrievers/{retriever_id}/{path}",
            headers=owner_headers(),
            params={name: "9" * 5000},
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["details"]["errors"][0]["field"] == name
