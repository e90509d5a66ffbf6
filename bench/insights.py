"""The insights over a big search log: how fast the store takes the log's rows, and how long
each analytics call takes over them, on SQLite and on PostgreSQL.

One retriever's log of `--searches` searches (10 million by default) over 90 days: queries
drawn from 50,000 (Zipf, as real search logs are), one search in ten finding nothing, one in
five from the cache, one in five with a filter, lognormal times, 200,000 sessions, and a click
on one search in twenty. Rows are written as the server writes them (batches of 1,000 through
`store/searchlog.insert`, with their running totals), then each call is timed 30 times.

    python -m bench.insights [--quick] [--searches N] [--store sqlite|postgres|both]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from app.adapters.clock import stamp
from app.adapters.store import Store, clicks, rollups, searchlog
from app.adapters.store.records import PublishedRecord, RetrieverRecord
from app.adapters.store.tables import interactions
from app.services.analytics import Analytics
from app.services.reports import Reports
from bench.engine import percentile
from bench.generated import vocabulary
from tests.servers import PostgresServer, postgres_bin

NAMESPACE = "bench"
RETRIEVER = "ret_insights"
BATCH = 1_000
DAYS = 90
REPEATS = 30


def queries(rng: random.Random, count: int) -> list[str]:
    words = vocabulary(rng)
    return [" ".join(rng.sample(words, rng.choice((1, 1, 2, 2, 3)))) for _ in range(count)]


def generate(
    searches: int, now: datetime
) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Batches of log rows, oldest first, and the clicks on them."""
    rng = random.Random(11)
    texts = queries(rng, 50_000)
    weights = [1 / (rank + 1) for rank in range(len(texts))]
    start = now - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / searches
    for first in range(0, searches, BATCH):
        count = min(BATCH, searches - first)
        picked = rng.choices(texts, weights, k=count)
        rows, clicks = [], []
        for n in range(count):
            at = stamp(start + step * (first + n))
            results = 0 if rng.random() < 0.1 else rng.randint(1, 500)
            execution = f"exe_{first + n}"
            filters = (
                [{"field": "category", "operator": "in", "value": [rng.choice(CATEGORIES)]}]
                if rng.random() < 0.2
                else None
            )
            rows.append(
                {
                    "retriever_id": RETRIEVER,
                    "namespace": NAMESPACE,
                    "surface": rng.choice(("execute", "page", "page", "embed")),
                    "outcome": "ok",
                    "query": picked[n],
                    "filters": filters,
                    "facets": None,
                    "sort": None,
                    "page_number": 1,
                    "page_size": 20,
                    "results": results,
                    "latency_ms": rng.lognormvariate(1.5, 0.6),
                    "mode": "hybrid",
                    "cached": rng.random() < 0.2,
                    "execution_id": execution,
                    "session_id": f"s{rng.randrange(200_000)}",
                    "created_at": at,
                }
            )
            if results and rng.random() < 0.05:
                clicks.append(
                    {
                        "interaction_id": f"int_{first + n}",
                        "retriever_id": RETRIEVER,
                        "namespace": NAMESPACE,
                        "document_id": f"doc{rng.randrange(5_000)}",
                        "interaction_types": ["click"],
                        "position": min(int(rng.expovariate(0.4)), 19),
                        "execution_id": execution,
                        "session_id": None,
                        "details": None,
                        "created_at": at,
                    }
                )
        yield rows, clicks


CATEGORIES = ("audio", "books", "garden", "kitchen", "lighting", "office", "toys")


def fill(store: Store, searches: int, now: datetime) -> float:
    """Write the log; rows a second."""
    started = time.perf_counter()
    for number, (rows, clicked) in enumerate(generate(searches, now)):
        with store.write() as tx:
            searchlog.insert(tx.conn, rows)
            if clicked:
                tx.conn.execute(interactions.insert(), clicked)
        if number % 500 == 0:
            done = (number + 1) * BATCH
            rate = done / (time.perf_counter() - started)
            print(f"  {done:>12,} rows, {rate:,.0f} a second", flush=True)
    return searches / (time.perf_counter() - started)


def calls(analytics: Analytics, reports: Reports, now: datetime) -> dict[str, Any]:
    week = now - timedelta(days=7)
    return {
        "performance, last day by hour": lambda: analytics.performance(
            NAMESPACE, RETRIEVER, None, None, "hour"
        ),
        "performance, 90 days by day": lambda: analytics.performance(
            NAMESPACE, RETRIEVER, now - timedelta(days=90), now, "day"
        ),
        "cache performance, 30 days": lambda: analytics.cache_performance(
            NAMESPACE, RETRIEVER, 720
        ),
        "stages, last day": lambda: analytics.stages(NAMESPACE, RETRIEVER, 24),
        "signals, 100 newest": lambda: analytics.signals(NAMESPACE, RETRIEVER, None, 100, 24),
        "slow queries, last day": lambda: analytics.slow_queries(NAMESPACE, RETRIEVER, 10, 24),
        "tuning, 7 days": lambda: analytics.tuning(NAMESPACE, RETRIEVER, 7),
        "top queries, 7 days": lambda: reports.queries(NAMESPACE, RETRIEVER, week, now, 20, 0),
        "no-result queries, 7 days": lambda: reports.queries(
            NAMESPACE, RETRIEVER, week, now, 20, 0, empty_only=True
        ),
        "clicked documents, 7 days": lambda: reports.documents(
            NAMESPACE, RETRIEVER, week, now, 20, 0
        ),
        "filters, 7 days": lambda: reports.filters(NAMESPACE, RETRIEVER, week, now, 20, 0),
    }


def measure(label: str, url: str, searches: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    store = Store(url)
    store.migrate()
    with store.write() as tx:
        tx.insert_retriever(
            RetrieverRecord(
                retriever_id=RETRIEVER,
                namespace=NAMESPACE,
                retriever_name="insights",
                description=None,
                input_schema=None,
                backend={"type": "local", "collection": "c", "search_fields": ["title"]},
                display_config=None,
                created_at=stamp(now),
                updated_at=stamp(now),
            )
        )
    print(f"\n{label}: writing {searches:,} searches ...", flush=True)
    written = fill(store, searches, now)
    started = time.perf_counter()
    with store.write() as tx:  # what the hourly sweep does
        compacted = rollups.compact(tx.conn, stamp(now))
    rolled = 0
    while True:  # a week at a sweep, as many sweeps as the log's days need
        with store.write() as tx:
            days = clicks.roll_up(tx.conn, stamp(now))
        if not days:
            break
        rolled += days
    print(
        f"{label}: past days' long tails compacted ({compacted:,} query totals) and "
        f"{rolled} days of clicks rolled up in {time.perf_counter() - started:.1f} s"
    )
    clock = lambda: now  # noqa: E731 - the log's own "now"
    analytics, reports = Analytics(store, clock), Reports(store, clock)
    print(f"{label}: {written:,.0f} searches written a second (batches of {BATCH:,})")
    print(f"{'call':<32} {'p50 ms':>8} {'p99 ms':>8}")
    for name, call in calls(analytics, reports, now).items():
        call()  # warm
        timings = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            call()
            timings.append((time.perf_counter() - started) * 1000)
        print(f"{name:<32} {statistics.median(timings):>8.1f} {percentile(timings, 0.99):>8.1f}")
    store.close()


@contextmanager
def postgres() -> Iterator[str]:
    bindir = postgres_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL's server is not installed (scripts/system-packages)")
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server.url
    finally:
        server.remove()


def request_path(url: str) -> None:
    """What one search pays for its row: `SearchLog.record` on the request path, and the
    writer's work per row (the batch's insert with its totals), in CPU time."""
    import asyncio
    import json

    from app.metrics import Metrics
    from app.schemas.display import DisplayConfig
    from app.schemas.search import SearchRequest
    from app.services.catalog import PublicRetriever
    from app.services.searchlog import Searched, SearchLog

    store = Store(url)
    store.migrate()
    display = DisplayConfig.model_validate_json(
        json.dumps(
            {
                "title": "Bench",
                "inputs": [
                    {"field_name": "query", "label": "Q", "field_schema": {"type": "string"}}
                ],
                "exposed_fields": ["title", "category"],
            }
        )
    )
    fields = dict.fromkeys(PublishedRecord.__dataclass_fields__)
    fields.update(retriever_id=RETRIEVER, namespace=NAMESPACE)
    retriever = PublicRetriever(PublishedRecord(**fields), None, display, None, {})  # type: ignore[arg-type]
    log = SearchLog(store, datetime.now, Metrics(), 90, "s" * 40, buffer_size=10**7)
    rng = random.Random(7)
    requests = [SearchRequest(inputs={"query": q}, page_size=20) for q in queries(rng, 2_000)]
    addresses = [f"10.0.{n // 250}.{n % 250}" for n in range(1_000)]
    searches = 100_000

    async def run() -> tuple[float, float]:
        started = time.process_time()
        for n in range(searches):
            searched = Searched(
                retriever,
                "page",
                "ok",
                1.5,
                requests[n % len(requests)],
                12,
                False,
                f"exe_{n}",
                None,
                addresses[n % len(addresses)],
            )
            log.record(searched)
        recorded = time.process_time() - started
        assert log._task is not None
        log._task.cancel()
        started = time.process_time()
        while log._rows:
            batch, log._rows = log._rows[:BATCH], log._rows[BATCH:]
            log._write(batch)
        return recorded, time.process_time() - started

    recorded, written = asyncio.run(run())
    print(
        f"a search's row: {recorded / searches * 1e6:.1f} µs on the request path (record), "
        f"{written / searches * 1e6:.1f} µs of CPU in the writer (the row, its insert and totals, "
        f"batches of {BATCH:,})"
    )
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one million searches")
    parser.add_argument("--searches", type=int, default=10_000_000)
    parser.add_argument("--store", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    searches = 1_000_000 if args.quick else args.searches
    with tempfile.TemporaryDirectory() as tmp:
        request_path(f"sqlite:///{Path(tmp) / 'cost.db'}")
    if args.store in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            measure("SQLite", f"sqlite:///{Path(tmp) / 'store.db'}", searches)
    if args.store in ("postgres", "both"):
        with postgres() as url:
            measure("PostgreSQL", url, searches)


if __name__ == "__main__":
    main()
