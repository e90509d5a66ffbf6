"""How the engine reaches a Typesense cluster: its clients (in worker threads, and on the
event loop), with the timeouts that keep a stopped node cheap, and the one place a cluster that does
not answer becomes a 503 that says so."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import httpx
import typesense
from typesense import exceptions

from app import jsonutil
from app.adapters import outages
from app.adapters.engine.typesense import health
from app.errors import StoreUnavailable
from app.typesense_address import TypesenseAddress

TIMEOUT_SECONDS = 5  # for an answer (an import of a batch takes longest)
# For a connection: a node that is down, not just refusing, costs this before the next is tried.
CONNECT_SECONDS = 1
# A node that failed is left alone this long, then tried again by the next request.
HEALTHCHECK_SECONDS = 15
# Answers uncompressed: on loopback or a LAN, the node's gzip and our gunzip cost more CPU on
# both sides than the bytes they save (docs/performance.md, "Typesense").
PLAIN = {"Accept-Encoding": "identity"}


def pool() -> httpx.Client:
    """The connections of the engine's searches and writes run in worker threads."""
    return httpx.Client(timeout=_timeout(), headers=PLAIN)


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(TIMEOUT_SECONDS, connect=CONNECT_SECONDS)


def client(address: TypesenseAddress, http: httpx.Client) -> typesense.Client:
    """A client over every node of the cluster, each tried once more when one fails."""
    return typesense.Client(_configuration(address), http_client=http)


class LoopSearches:
    """`multi_search` sent from the event loop (`onloop.py`) over aiohttp, a session for each
    loop (a server has one; tests start several): measured, its requests cost the server a
    third of the CPU the Typesense client's async flavour (over httpx) costs, and under 32 at
    once a tenth (docs/performance.md, "Typesense"). Nodes as the client takes them: each
    request starts at the next node, a node that failed is left alone `HEALTHCHECK_SECONDS`
    (tried last meanwhile), the others are tried in turn; none answering is `Unanswered`."""

    def __init__(self, address: TypesenseAddress) -> None:
        scheme = "https" if address.tls else "http"
        self._nodes = [
            f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
            for host, port in address.nodes
        ]
        self._headers = {"X-TYPESENSE-API-KEY": address.api_key, **PLAIN}
        self._timeout = aiohttp.ClientTimeout(total=TIMEOUT_SECONDS, connect=CONNECT_SECONDS)
        self._sessions: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, aiohttp.ClientSession
        ] = weakref.WeakKeyDictionary()
        self._failed: dict[str, float] = {}  # node: time.monotonic() when it last failed
        self._turn = itertools.count()

    async def multi_search(self, body: dict[str, Any]) -> dict[str, Any]:
        session = self._session()
        start = next(self._turn) % len(self._nodes)
        turn = self._nodes[start:] + self._nodes[:start]
        now = time.monotonic()
        left = [n for n in turn if now - self._failed.get(n, -math.inf) < HEALTHCHECK_SECONDS]
        fresh = [n for n in turn if n not in left]
        failure = Unanswered("", "no node")
        for node in fresh + left:
            try:
                async with session.post(f"{node}/multi_search", data=jsonutil.dumps(body)) as sent:
                    data = await sent.read()
                    if sent.status == 200:
                        self._failed.pop(node, None)
                        answer: dict[str, Any] = jsonutil.loads(data)
                        return answer
                    said = f"{sent.status} {data[:200].decode(errors='replace')}"
                    if sent.status < 500:  # (asked wrongly: no other node answers otherwise)
                        raise RuntimeError(f"Typesense refused a search: {said}")
            except (aiohttp.ClientError, TimeoutError) as error:
                said = str(error) or type(error).__name__
            self._failed[node] = time.monotonic()
            failure = Unanswered(node.split("://")[1], said)
        raise failure

    def _session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        found = self._sessions.get(loop)
        if found is None or found.closed:
            found = self._sessions[loop] = aiohttp.ClientSession(
                headers=self._headers,
                timeout=self._timeout,
                connector=aiohttp.TCPConnector(limit=0),  # (as many as the searches at once)
            )
        return found

    def close(self) -> None:
        """Close every loop's connections, on its own thread (the server's, at its shutdown)."""
        for loop, session in list(self._sessions.items()):
            connector = session.connector
            if connector is None or loop.is_closed():
                continue
            # (`_close` closes them at once, where `close` leaves a task to the loop, which may
            # never run it again.)
            with contextlib.suppress(RuntimeError):
                if loop.is_running() and loop is not _running():
                    loop.call_soon_threadsafe(connector._close)
                else:
                    connector._close()
        self._sessions.clear()


def _running() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Unanswered(Exception):
    """No node answered a search sent from the event loop: what the last one tried did."""

    def __init__(self, node: str, what: str) -> None:
        super().__init__(what)
        self.node = node  # HOST:PORT


def _configuration(address: TypesenseAddress) -> Any:  # (a `ConfigDict`)
    return {
        "api_key": address.api_key,
        "nodes": [
            {"host": host, "port": port, "protocol": "https" if address.tls else "http"}
            for host, port in address.nodes
        ],
        "connection_timeout_seconds": TIMEOUT_SECONDS,
        "num_retries": len(address.nodes),  # each node once more
        "retry_interval_seconds": 0.1,
        "healthcheck_interval_seconds": HEALTHCHECK_SECONDS,
    }  # fmt: skip


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
    Unanswered,
)
