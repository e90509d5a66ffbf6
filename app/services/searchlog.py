"""The search log: a row for each public search, for the publisher's insights.

A search never waits for its row: `record` appends to a bounded buffer in memory, and a task
writes the buffer to the store in batches, once a second. A full buffer drops the row and
counts it (`searches_dropped_total`), it never blocks. Each worker keeps its own buffer and
they all write to the one store, so the log is whole across workers and servers. Rows older
than the retention are deleted by the same task, once an hour.

Only what was searched is kept, never who searched: the query folded for case and spacing,
the filters, facets and sort over exposed fields (the only ones a search may name), the page,
the count, the time taken, the mode, the execution id and the session id the client sent.
No address, key, password or cookie; a publisher turns a retriever's log off with
`display_config.extensions.search_log: false`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from app.adapters.clock import Clock, stamp
from app.adapters.store import Store, clicks, rollups
from app.adapters.store import searchlog as queries
from app.adapters.threads import in_thread
from app.errors import StoreUnavailable
from app.metrics import Metrics
from app.schemas.extensions import search_log_on
from app.schemas.filters import Condition, Filter
from app.schemas.search import FULL_TEXT_INPUT, QUERY_VECTOR_INPUT, SearchRequest
from app.services.catalog import PublicRetriever
from app.services.limits import address_key

logger = logging.getLogger(__name__)

Surface = Literal["execute", "page", "embed", "similar", "typeahead"]
Outcome = Literal["ok", "refused", "failed"]
MAX_QUERY_CHARS = 500
MAX_FILTERS_LOGGED = 20
MAX_VALUE_CHARS = 100
SWEEP_SECONDS = 3600.0
MAX_VISITORS_KNOWN = 50_000


def fold(text: str) -> str:
    """A query as the log and the answer cache count it: "Desk  Lamp" and "desk lamp" are
    one query."""
    return " ".join(text.replace("\x00", " ").split()).casefold()


@dataclass(frozen=True)
class Searched:
    """One search as the log keeps it (a row of `search_log`, less its time)."""

    retriever: PublicRetriever
    surface: Surface
    outcome: Outcome
    latency_ms: float
    request: SearchRequest | None = None  # None when refused before it was read
    results: int | None = None
    cached: bool = False
    execution_id: str | None = None
    session_id: str | None = None  # the client's, when it sent one
    # The caller's address, held only until the writer turns it into the day's pseudonym
    # (`SearchLog.visitor`); never written.
    address: str | None = None

    def row(self, now: str, visitor: str | None) -> dict[str, Any]:
        record, request = self.retriever.record, self.request
        exposed = self.retriever.display.exposed_fields
        return {
            "retriever_id": record.retriever_id,
            "namespace": record.namespace,
            "surface": self.surface,
            "outcome": self.outcome,
            "query": _query(request.inputs) if request else None,
            "filters": _filters(request, exposed) if request else None,
            "facets": list(request.facets) or None if request else None,
            "sort": f"{request.sort.field}:{request.sort.direction}"
            if request and request.sort
            else None,
            "page_number": request.page_number if request else None,
            "page_size": request.page_size if request else None,
            "results": self.results,
            "latency_ms": round(self.latency_ms, 3),
            "mode": _mode(self.retriever.backend),
            "cached": self.cached,
            "execution_id": self.execution_id,
            "session_id": self.session_id or visitor,
            # Not a column: whom learned suggestions count (a client picks its own session
            # ids, so they could plant a suggestion; an address is harder to come by).
            "visitor": visitor,
            "created_at": now,
        }


class SearchLog:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        metrics: Metrics,
        retention_days: int,
        secret: str,
        buffer_size: int = 10_000,
        interval: float = 1.0,
    ) -> None:
        self.store = store
        self._secret = hashlib.sha256(b"visitor:" + secret.encode()).digest()
        self.clock = clock
        self.metrics = metrics
        self.retention = timedelta(days=retention_days)
        self.buffer_size = buffer_size
        self.interval = interval
        self._rows: list[tuple[Searched, datetime]] = []
        self._task: asyncio.Task[None] | None = None
        self._swept = 0.0
        # Pseudonyms made, by day and address: a visitor searches many times a day, and
        # reading an address costs more than writing its row. Only the writer's thread
        # touches it.
        self._visitors: dict[tuple[str, str], str] = {}

    def visitor(self, ip: str, day: str) -> str:
        """A visitor's pseudonym for the day (`2026-03-02`, in UTC), when the client sends no
        session id: a keyed hash of its address and the date, so that distinct visitors can be
        counted while the address is never kept, and one day's visitor is not the next day's.
        An IPv6 client is its /64, as for the rate limits."""
        known = self._visitors.get((day, ip))
        if known is None:
            if len(self._visitors) >= MAX_VISITORS_KNOWN:
                self._visitors.clear()  # (yesterday's with today's: cheaper than an LRU)
            digest = hmac.new(self._secret, f"{day}|{address_key(ip)}".encode(), hashlib.sha256)
            known = self._visitors[(day, ip)] = "v-" + digest.hexdigest()[:20]
        return known

    def record(self, searched: Searched) -> None:
        """Keep the search for the next write; never waits, never raises. The request pays
        for an append: the row is made by the writer, in its thread."""
        if not search_log_on(searched.retriever.display.extensions):
            return
        if len(self._rows) >= self.buffer_size:
            self.metrics.searches_dropped.inc()
            return
        self._rows.append((searched, self.clock()))
        self._start()

    async def flush(self) -> int:
        """Write what is buffered now (the rows written; on a store outage they are dropped
        and counted, so memory stays bounded)."""
        rows, self._rows = self._rows, []
        if not rows:
            return 0
        try:
            await in_thread(self._write, rows)
        except Exception as error:  # the store down or full: the search went on, its row is lost
            _warn(error, "search log: %s rows not written", len(rows))
            self.metrics.searches_dropped.inc(len(rows))
            return 0
        self.metrics.searches_logged.inc(len(rows))
        return len(rows)

    async def sweep(self) -> int:
        """Delete rows older than the retention, and the long tail of past days' query
        totals; roll the clicks of past days up by query; the log rows deleted."""
        now = self.clock()
        cutoff = stamp(now - self.retention)

        def delete() -> int:
            with self.store.write() as tx:
                deleted = queries.delete_before(tx.conn, cutoff)
                rollups.compact(tx.conn, stamp(now))
                clicks.roll_up(tx.conn, stamp(now))
                return deleted

        return await in_thread(delete)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None
        await self.flush()

    def _write(self, searches: list[tuple[Searched, datetime]]) -> None:
        rows = []
        for searched, moment in searches:
            stamped = stamp(moment)
            # (the stamp is in UTC, so its first ten characters are the visitor's day)
            address = searched.address
            visitor = self.visitor(address, stamped[:10]) if address else None
            rows.append(searched.row(stamped, visitor))
        with self.store.write() as tx:
            queries.insert(tx.conn, rows)

    def _start(self) -> None:
        if self._task is not None and not self._task.done():
            return  # (aclose, at the app's shutdown, ends it and lets the next loop start one)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()
            if time.monotonic() - self._swept >= SWEEP_SECONDS:
                self._swept = time.monotonic()
                try:
                    await self.sweep()
                except Exception as error:
                    _warn(error, "search log: old rows not swept")


def _query(inputs: Mapping[str, Any]) -> str | None:
    text = inputs.get(FULL_TEXT_INPUT)
    if not isinstance(text, str) or not text.strip():
        return None
    return fold(text)[:MAX_QUERY_CHARS]


def _filters(request: SearchRequest, exposed: list[str]) -> list[dict[str, Any]] | None:
    """The conditions a search picked, flattened: the filter tree's, and the inputs other
    than the query's text and vector, where they name an exposed field."""
    picked = [
        {"field": name, "operator": "eq", "value": _value(value)}
        for name, value in request.inputs.items()
        if name not in (FULL_TEXT_INPUT, QUERY_VECTOR_INPUT) and name in exposed
    ]
    if request.filters is not None:
        picked += [
            {"field": c.field, "operator": c.operator, "value": _value(c.value)}
            for c in _conditions(request.filters)
            if c.field in exposed
        ]
    return picked[:MAX_FILTERS_LOGGED] or None


def _conditions(node: Filter) -> Iterator[Condition]:
    if isinstance(node, Condition):
        yield node
        return
    for child in node.children:
        yield from _conditions(child)


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")[:MAX_VALUE_CHARS]
    if isinstance(value, list):
        return [_value(item) for item in value[:MAX_FILTERS_LOGGED]]
    return value if isinstance(value, int | float | bool) or value is None else str(value)[:100]


def _mode(backend: Any) -> str:
    """How the retriever searches: keyword, semantic or hybrid here, upstream at Mixpeek."""
    # A config's fields are in its `__dict__`: `getattr` of one it lacks goes through
    # pydantic's `__getattr__` and an AttributeError, 2 µs a row.
    fields = getattr(backend, "__dict__", None)
    return str((fields.get("mode") if fields is not None else None) or "upstream")


def _warn(error: Exception, message: str, *args: object) -> None:
    """One warning; with the traceback unless the store is out (`outages` reports that as one
    line already: not a traceback a second beside it)."""
    logger.warning(message, *args, exc_info=not isinstance(error, StoreUnavailable))
