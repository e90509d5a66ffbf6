"""Searches of a three-node Typesense cluster answered on the event loop (`onloop.py`, over
aiohttp) while its nodes stop for real (`typesense_cluster`, one for the session): a node
killed between searches or in the middle of them, and the searches keep answering through the
other two; every node stopped, and the JSON execute and the page answer a 503 that names
Typesense, never a 500, with nothing stored lost once the nodes are back."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import TypeVar

import httpx
import pytest
from starlette.testclient import TestClient

from app.adapters.engine import Search, SearchResult
from app.adapters.engine.typesense import TypesenseEngine
from app.settings import Settings
from app.typesense_address import TypesenseAddress
from app.web.app import create_app
from tests.helpers import NAMESPACE, owner_headers, publish_local
from tests.servers import TypesenseCluster, drop_prefixed

pytestmark = pytest.mark.typesense
T = TypeVar("T")

LAMPS = [
    {"document_id": f"lamp-{n}", "title": f"Desk lamp {n}", "description": "A lamp for a desk"}
    for n in range(20)
]
LAMP = Search(fields=["title"], text="lamp")
EXECUTE = "/v1/public/retrievers/lamps/execute"
DESK_LAMP = {"inputs": {"query": "desk lamp"}, "pagination": {"page_size": 50}}
UNAVAILABLE = "The search engine (Typesense) is not answering; try again shortly."
# A search that meets a dead node takes a refused connection (or a dropped one) more, then the
# node is tried last for 15 s: well under this, even on a busy machine.
SLOWEST_SEARCH_SECONDS = 1.5


@pytest.fixture
def cluster(typesense_cluster: TypesenseCluster) -> Iterator[TypesenseCluster]:
    """The session's cluster, its collections (`rp_`) dropped after the test; every node
    running again at its end."""
    yield typesense_cluster
    if any(node.process is None for node in typesense_cluster.nodes):
        for node in typesense_cluster.nodes:
            if node.process is None:
                node.launch()
        typesense_cluster.wait_healthy()
    drop_prefixed(typesense_cluster.url, "rp_")


def _ids(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return sorted(document["document_id"] for document in answer.json()["documents"])


def _stocked(client: TestClient) -> None:
    added = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": LAMPS}
    )
    assert added.status_code == 200, added.text
    publish_local(client, "lamps", ["title", "description"])


def _on_a_loop(engine: TypesenseEngine, work: Callable[[], Awaitable[T]]) -> T:
    """`work()` on an event loop of its own, the engine's connections of that loop closed
    after it."""

    async def run() -> T:
        try:
            return await work()
        finally:
            engine.loop_searches.close()

    return asyncio.run(run())


def _searches(engine: TypesenseEngine, seconds: float, at_once: int = 8) -> list[float]:
    """Searches on the loop, `at_once` together, for `seconds`: each answered on the loop (not
    left to a worker thread) with every lamp; how long each round took."""

    async def one() -> SearchResult | None:
        return await engine.search_on_loop(NAMESPACE, "products", LAMP)

    async def rounds() -> list[float]:
        took: list[float] = []
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            began = time.monotonic()
            found = await asyncio.gather(*(one() for _ in range(at_once)))
            took.append(time.monotonic() - began)
            assert all(result is not None for result in found), "a search left the loop"
            assert {result.total for result in found if result is not None} == {len(LAMPS)}
            await asyncio.sleep(0.02)
        return took

    return _on_a_loop(engine, rounds)


def test_searches_on_the_loop_answer_through_the_others_when_a_node_stops(
    cluster: TypesenseCluster, make_settings: Callable[..., Settings]
) -> None:
    engine = TypesenseEngine(TypesenseAddress.parse(cluster.url))
    settings = make_settings(engine_url=cluster.url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        _stocked(client)
        every = _ids(client.post(EXECUTE, json=DESK_LAMP))
        assert len(every) == len(LAMPS)
        assert engine.search(NAMESPACE, "products", LAMP).total == len(LAMPS)  # (its schema read)
        first, second = cluster.nodes[0], cluster.nodes[1]
        # Killed in the middle of searches: those sent to it go to the next node.
        killer = threading.Timer(0.5, first.halt, kwargs={"kill": True})
        killer.start()
        try:
            rounds = _searches(engine, seconds=2.0)
            killer.join()
            assert first.process is None
            assert len(rounds) > 5, rounds
            assert max(rounds) < SLOWEST_SEARCH_SECONDS, rounds
        finally:
            killer.join()
            cluster.restart(first)
        # Stopped between requests (another node, of three running again): the server's
        # execute and page keep answering, on the loop.
        assert _ids(client.post(EXECUTE, json=DESK_LAMP)) == every
        second.halt()
        try:
            for _ in range(6):  # each request starts at the next node: the stopped one met
                assert _ids(client.post(EXECUTE, json=DESK_LAMP)) == every
                page = client.get("/r/lamps", params={"query": "lamp"})
                assert page.status_code == 200
                assert "<mark>lamp</mark>" in page.text  # (a card, its word marked)
            assert max(_searches(engine, seconds=0.5)) < SLOWEST_SEARCH_SECONDS
        finally:
            cluster.restart(second)
        # Back: each node that stopped answers with every lamp, on the loop.
        for node in (first, second):
            alone = TypesenseEngine(TypesenseAddress.parse(cluster.url_of([node])))
            assert alone.search(NAMESPACE, "products", LAMP).total == len(LAMPS)
            result = _on_a_loop(alone, partial(alone.search_on_loop, NAMESPACE, "products", LAMP))
            assert result is not None
            assert result.total == len(LAMPS)
            alone.close()
    engine.close()


def test_every_node_stopped_is_a_503_that_names_typesense_and_nothing_is_lost(
    cluster: TypesenseCluster, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(engine_url=cluster.url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        _stocked(client)
        every = _ids(client.post(EXECUTE, json=DESK_LAMP))
        try:
            # Stopped one after another while searches come in: each answers or says why.
            stopper = threading.Thread(target=lambda: [n.halt(kill=True) for n in cluster.nodes])
            stopper.start()
            statuses = set()
            while stopper.is_alive():
                statuses.add(client.post(EXECUTE, json=DESK_LAMP).status_code)
                statuses.add(client.get("/r/lamps", params={"query": "lamp"}).status_code)
            stopper.join()
            assert statuses <= {200, 503}, statuses
            for _ in range(2):  # (and again, the nodes left alone as failed)
                execute = client.post(EXECUTE, json=DESK_LAMP)
                assert execute.status_code == 503, execute.text
                assert execute.json()["error"]["type"] == "store_unavailable"
                assert execute.json()["error"]["message"] == UNAVAILABLE
                assert int(execute.headers["retry-after"]) > 0
                page = client.get("/r/lamps", params={"query": "lamp"})
                assert page.status_code == 503, page.text[:300]
                assert page.headers["content-type"].startswith("text/html")
                assert UNAVAILABLE in page.text  # (the search page, the reason in its results)
                assert "Traceback" not in page.text
                assert cluster.api_key not in execute.text + page.text
        finally:
            for node in cluster.nodes:
                node.launch()
            cluster.wait_healthy()
        # Nothing lost: the retriever is published still, and finds every document.
        assert _ids(client.post(EXECUTE, json=DESK_LAMP)) == every
        page = client.get("/r/lamps", params={"query": "lamp"})
        assert page.status_code == 200
        assert "<mark>lamp</mark>" in page.text  # (a card, its word marked)
        count = client.get("/v1/collections/products", headers=owner_headers())
        assert count.json()["documents"] == len(LAMPS)
