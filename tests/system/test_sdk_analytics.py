"""The SDK's `AnalyticsRetrieversApi`, every call, against a live server whose searches were
logged by the server itself: each answer deserializes into the SDK's model and counts what
was searched."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import mixpeek

from tests.helpers import NAMESPACE, OWNER_KEY, owner_headers, publish_local
from tests.servers import LiveServer

WRITTEN_WITHIN_SECONDS = 10.0  # the log writes once a second; a loaded machine is slower


def test_sdk_analytics_calls_read_the_search_log(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={
                "documents": [
                    {"document_id": "d1", "title": "Desk lamp", "description": "Warm light"},
                    {"document_id": "d2", "title": "Sofa", "description": "Three seats"},
                ]
            },
        ).raise_for_status()
        retriever_id = publish_local(client, "sdk-insights", ["title", "description"])
        for text in ("lamp", "sofa", "lamp", "unicorn"):
            client.post(
                "/v1/public/retrievers/sdk-insights/execute", json={"inputs": {"query": text}}
            ).raise_for_status()

    configuration = mixpeek.Configuration(
        host=live_server.url, access_token=OWNER_KEY, api_key={"NamespaceHeader": NAMESPACE}
    )
    with mixpeek.ApiClient(configuration) as api_client:
        api = mixpeek.AnalyticsRetrieversApi(api_client)
        started = time.monotonic()
        while True:
            performance = api.get_retriever_performance_analytics(retriever_id)
            assert isinstance(performance, mixpeek.RetrieverPerformanceResponse)
            assert performance.summary is not None
            if performance.summary["query_count"] == 4:
                break
            assert time.monotonic() - started < WRITTEN_WITHIN_SECONDS
            time.sleep(0.2)
        assert performance.summary["no_results_count"] == 1

        now = datetime.now(UTC)
        by_day = api.get_retriever_performance_analytics(
            retriever_id, start_date=now - timedelta(days=2), end_date=now, group_by="day"
        )
        assert sum(m["query_count"] for m in by_day.metrics) == 4

        signals = api.get_retriever_signals_analytics(retriever_id, signal_type="no_results")
        assert [s.signal_data["query"] for s in signals] == ["unicorn"]
        assert all(isinstance(s, mixpeek.RetrieverSignal) for s in signals)

        slow = api.get_slowest_queries_analytics_retrievers_id_slow(retriever_id, limit=2)
        assert len(slow) == 2
        assert slow[0]["latency_ms"] >= slow[1]["latency_ms"]

        stages = api.get_stage_breakdown_analytics_retrievers(retriever_id, hours=1)
        assert isinstance(stages, mixpeek.StageBreakdownResponse)
        assert stages.stages[0].execution_count == 4

        cache = api.get_cache_performance_analytics_retrievers(retriever_id, hours=720)
        assert isinstance(cache, mixpeek.CachePerformanceResponse)
        assert (cache.total_cache_hits, cache.total_cache_misses) == (0, 4)

        tuning = api.analyze_for_tuning_analytics_retrievers(retriever_id, days=90)
        assert isinstance(tuning, mixpeek.InteractionTuningResponse)
        assert tuning.current_performance["query_count"] == 4
