"""How the engine reaches a Typesense cluster: its clients over connections of each thread's
own, with the timeouts that keep a stopped node cheap, and the one place a cluster that does
not answer becomes a 503 that says so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import typesense
from typesense import exceptions

from app.adapters import outages
from app.adapters.engine.typesense import health
from app.errors import StoreUnavailable
from app.typesense_address import TypesenseAddress

TIMEOUT_SECONDS = 5  # for an answer (an import of a batch takes longest)
# For a connection: a node that is down, not just refusing, costs this before the next is tried.
CONNECT_SECONDS = 1
# A node that failed is left alone this long, then tried again by the next request.
HEALTHCHECK_SECONDS = 15


def pool() -> httpx.Client:
    return ThreadPools()


def _own_pool() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_SECONDS))


class ThreadPools(httpx.Client):
    """An `httpx.Client` whose requests each go through a pool of the calling thread's own:
    searches run on the server's worker threads, and over one shared pool they spent more time
    waiting on its lock than on Typesense (docs/performance.md, "Typesense"). The same timeouts;
    closing closes every thread's pool."""

    def __init__(self) -> None:
        super().__init__(timeout=httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_SECONDS))
        self._local = threading.local()
        self._pools: list[httpx.Client] = []
        self._lock = threading.Lock()

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:
        return self._own().request(*args, **kwargs)

    def _own(self) -> httpx.Client:
        own: httpx.Client | None = getattr(self._local, "pool", None)
        if own is None:
            own = self._local.pool = _own_pool()
            with self._lock:
                self._pools.append(own)
        return own

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, []
        for own in pools:
            own.close()
        super().close()


def client(address: TypesenseAddress, http: httpx.Client) -> typesense.Client:
    """A client over every node of the cluster, each tried once more when one fails."""
    return typesense.Client({
        "api_key": address.api_key,
        "nodes": [
            {"host": host, "port": port, "protocol": "https" if address.tls else "http"}
            for host, port in address.nodes
        ],
        "connection_timeout_seconds": TIMEOUT_SECONDS,
        "num_retries": len(address.nodes),  # each node once more
        "retry_interval_seconds": 0.1,
        "healthcheck_interval_seconds": HEALTHCHECK_SECONDS,
    }, http_client=http)  # fmt: skip


@contextmanager
def reached() -> Iterator[None]:
    """A cluster that does not answer (every node tried) is a 503 that says so, not a 500; so is
    one that answers 5xx, such as "Could not find a leader" while its nodes elect one. Logged
    once a minute, naming the node last tried (never the key, which only a header carries)."""
    try:
        yield
    except _UNAVAILABLE as exc:
        outages.report("engine", outages.NOT_ANSWERING, health.said(exc))
        raise StoreUnavailable(
            "The search engine (Typesense) is not answering; try again shortly.",
            reason=outages.NOT_ANSWERING,
            retry_after=5,
        ) from exc


_UNAVAILABLE = (
    exceptions.ServiceUnavailable,
    exceptions.ServerError,
    exceptions.HTTPStatus0Error,
    exceptions.Timeout,
    httpx.TransportError,
)
