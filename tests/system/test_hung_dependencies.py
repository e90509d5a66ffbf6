"""PostgreSQL and Redis that hang rather than refuse (their processes stopped with SIGSTOP, as a
frozen machine or a lost network leaves them: connections open, nothing answered). PostgreSQL:
/readyz still answers, 503 naming the store, within a few seconds, so that a load balancer
learns of it; every request that needs the store (the execute, the page, the owner API) is a 503
naming it within the store's time limit, a burst of them too, and a write cut short says
whether it may have been saved. Redis: the public execute (the direct layer's, compared with
the router's) answers at once, refused with when to ask again or counted in memory, as
configured. All is back once each runs again."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.adapters.engine import PgEngine
from app.adapters.engine.pg.core import ANALYZE_AFTER, SCHEMA_LOCK_ID
from app.adapters.store import Store
from app.errors import StoreUnavailable
from app.services.readiness import STORE_ANSWERS_WITHIN_SECONDS
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import local_backend, owner_headers
from tests.servers import LiveServer, PostgresServer, RedisServer
from tests.system.test_direct_faults import ALL, EVERY, LIMITS_DOWN, ROOMY, URL, _down, _ids, pair
from tests.web.test_direct import same

# The deadline, and what a busy machine adds to it.
READY_ANSWERS_WITHIN_SECONDS = STORE_ANSWERS_WITHIN_SECONDS + 5


@contextmanager
def hung(server: PostgresServer | RedisServer) -> Iterator[None]:
    """The server's processes stopped (not ended) until the block ends."""
    if isinstance(server, RedisServer):
        assert server.process is not None
        processes = [server.process.pid]
    else:
        postmaster = int((server.datadir / "postmaster.pid").read_text().split()[0])
        children = subprocess.run(
            ["pgrep", "-P", str(postmaster)], capture_output=True, text=True, check=False
        ).stdout.split()
        processes = [postmaster, *map(int, children)]
    for pid in processes:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in processes:
            os.kill(pid, signal.SIGCONT)


def _ready(client: httpx.Client) -> Any:
    began = time.monotonic()
    answer = client.get("/readyz", timeout=READY_ANSWERS_WITHIN_SECONDS * 2)
    assert time.monotonic() - began < READY_ANSWERS_WITHIN_SECONDS
    return answer


def test_a_hung_store_is_a_503_from_readyz_within_seconds(
    make_settings: Any, postgres_server: PostgresServer
) -> None:
    settings: Settings = make_settings(database_url=postgres_server.url)
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url) as client:
        assert client.get("/v1/retrievers", headers=owner_headers()).status_code == 200
        assert _ready(client).status_code == 200
        threads = threading.active_count()  # (the server runs in this process)
        with hung(postgres_server):
            for _ in range(6):
                down = _ready(client)
                assert down.status_code == 503, down.text
                assert down.json()["error"]["details"] == {"store": "down"}
            # A ping left hanging is not joined by another on each probe: the probes held
            # neither a thread nor a connection of the store's each.
            assert threading.active_count() - threads <= 2
            assert client.get("/healthz", timeout=5).status_code == 200
        deadline = time.monotonic() + 30
        while (answer := _ready(client)).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.2)
        assert client.get("/v1/retrievers", headers=owner_headers()).status_code == 200


# A rate-limit check that waits on Redis gives up this soon (a busy machine's margin added).
LIMITS_ANSWER_WITHIN_SECONDS = 3.0


@pytest.mark.parametrize("on_failure", ["refuse", "fallback"])
def test_a_hung_redis_the_execute_answers_at_once(
    make_settings: Any, redis_server: RedisServer, on_failure: str
) -> None:
    settings = make_settings(rate_limit_storage=redis_server.url, rate_limit_on_failure=on_failure)
    with pair(settings, rate_limit=ROOMY) as clients:
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        with hung(redis_server):
            for _ in range(3):
                began = time.monotonic()
                answer = same(clients, "POST", URL, json=ALL)
                assert time.monotonic() - began < 2 * LIMITS_ANSWER_WITHIN_SECONDS
                if on_failure == "refuse":
                    _down(answer, 503, "rate_limits_unavailable", LIMITS_DOWN)
                else:
                    assert _ids(answer) == EVERY
            wait = int(answer.headers.get("retry-after", "0"))
        time.sleep(wait)
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY


# The store's time limit in these tests, and what a busy machine adds to it: a request's wait
# ends at the limit, or at two seconds when it opens a connection (libpq's least timeout).
STORE_LIMIT_SECONDS = 1.0
STORE_ANSWERS_WITHIN = 2.0 + 5
PAGE = "/r/products"
RETRIEVERS = "/v1/retrievers"


def _store_down(answer: Any) -> str:
    """A 503 naming the store and saying to try again, with Retry-After; its reason."""
    assert answer.status_code == 503, answer.text[:300]
    assert int(answer.headers["retry-after"]) > 0
    assert "Traceback" not in answer.text
    if answer.headers["content-type"].startswith("text/html"):
        assert "The store" in answer.text
        assert "try again" in answer.text.lower()
        return ""
    error = answer.json()["error"]
    assert error["type"] == "store_unavailable", error
    assert "The store" in error["message"], error
    assert "try again" in error["message"].lower(), error
    reason: str = error["details"]["reason"]
    return reason


def _back(ask: Any) -> Any:
    """`ask()`'s answer once the store answers again: the request trying it again (`time_limit`)
    may still be on its way for a moment after, and others meanwhile are refused at once."""
    deadline = time.monotonic() + 2
    while (answer := ask()).status_code == 503 and time.monotonic() < deadline:
        time.sleep(0.02)
    return answer


def _timed(send: Any, *args: Any, within: float = STORE_ANSWERS_WITHIN, **kw: Any) -> Any:
    began = time.monotonic()
    answer = send(*args, **kw)
    assert time.monotonic() - began < within, answer.text[:300]
    return answer


def test_a_hung_store_every_request_is_a_503_within_the_limit_then_all_is_back(
    make_settings: Any, postgres_server: PostgresServer
) -> None:
    settings = make_settings(
        database_url=postgres_server.url, store_timeout_seconds=STORE_LIMIT_SECONDS
    )
    with pair(settings) as clients:
        direct = clients[0]
        rid = direct.app_state["retriever_id"]  # type: ignore[attr-defined]
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        with hung(postgres_server):
            # The direct layer and the router alike, twice: the connections the first cut
            # short are gone, the next are opened and time out in their turn.
            for _ in range(2):
                answer = _timed(
                    same, clients, "POST", URL, json=ALL, within=2 * STORE_ANSWERS_WITHIN
                )
                assert _store_down(answer) == "not_answering"
            _store_down(_timed(direct.get, PAGE))
            _store_down(_timed(direct.get, RETRIEVERS, headers=owner_headers()))
            _store_down(_timed(direct.get, f"{RETRIEVERS}/{rid}", headers=owner_headers()))
            created = _timed(
                direct.post,
                RETRIEVERS,
                headers=owner_headers(),
                json={"retriever_name": "made-while-hung", "backend": local_backend()},
            )
            assert _store_down(created) == "not_answering"  # (said: nothing was changed)
        # Back at once: every connection cut short was dropped, none waits on the old ones.
        assert _ids(_back(lambda: direct.post(URL, json=ALL))) == EVERY
        assert _ids(same(clients, "POST", URL, json=ALL)) == EVERY
        assert direct.get(PAGE).status_code == 200
        listed = direct.get(RETRIEVERS, headers=owner_headers(), params={"limit": 100})
        assert listed.status_code == 200
        assert "made-while-hung" not in listed.text
        made = direct.post(
            RETRIEVERS,
            headers=owner_headers(),
            json={"retriever_name": "made-after", "backend": local_backend()},
        )
        assert made.status_code == 200, made.text


def test_a_burst_on_a_hung_store_leaves_the_server_able_to_answer(
    make_settings: Any, postgres_server: PostgresServer
) -> None:
    settings = make_settings(
        database_url=postgres_server.url, store_timeout_seconds=STORE_LIMIT_SECONDS
    )
    with pair(settings):
        pass  # (the data, published)
    app = create_app(settings)
    with LiveServer(app) as live, httpx.Client(base_url=live.url) as client:
        assert _ids(client.post(URL, json=ALL)) == EVERY
        answers: list[Any] = []

        def ask(path: str) -> None:
            with httpx.Client(base_url=live.url, timeout=60) as one:
                answers.append(one.post(path, json=ALL) if path == URL else one.get(path))

        with hung(postgres_server):
            burst = [
                threading.Thread(target=ask, args=(URL if n % 2 else PAGE,)) for n in range(60)
            ]
            for thread in burst:
                thread.start()
            for thread in burst:
                thread.join(timeout=120)
            assert len(answers) == len(burst)
            for answer in answers:
                _store_down(answer)
            # No connection is left waiting on the store: each was cut short and dropped (bar
            # the search log's writer, maybe waiting its turn: it flushes once a second).
            pool = app.state.services.store.engine.pool
            assert pool.checkedout() <= 1
        # After it, answers come at once, a burst of them too.
        assert _ids(_timed(_back, lambda: client.post(URL, json=ALL), within=5)) == EVERY
        answers.clear()
        began = time.monotonic()
        burst = [threading.Thread(target=ask, args=(URL if n % 2 else PAGE,)) for n in range(60)]
        for thread in burst:
            thread.start()
        for thread in burst:
            thread.join(timeout=120)
        assert time.monotonic() - began < 30
        assert [answer.status_code for answer in answers] == [200] * len(burst)
        assert pool.checkedout() <= 1


def _owner_keys(store: Store) -> list[str]:
    with store.read() as tx:
        return [key["key_hash"] for key in tx.list_owner_keys()]


def test_a_write_cut_short_before_its_commit_is_not_saved(
    postgres_server: PostgresServer,
) -> None:
    store = Store(postgres_server.url, STORE_LIMIT_SECONDS)
    store.migrate()

    def frozen_midway() -> None:
        with store.write() as tx:
            tx.add_owner_key("before", "ns", None, "2026-01-01T00:00:00Z", "owner")
            with hung(postgres_server):
                tx.add_owner_key("during", "ns", None, "2026-01-01T00:00:00Z", "owner")

    began = time.monotonic()
    with pytest.raises(StoreUnavailable) as refused:
        frozen_midway()
    assert time.monotonic() - began < STORE_ANSWERS_WITHIN
    assert refused.value.reason == "not_answering"
    assert _owner_keys(store) == []
    store.close()


def test_a_commit_cut_short_says_it_may_have_been_saved(
    postgres_server: PostgresServer,
) -> None:
    store = Store(postgres_server.url, STORE_LIMIT_SECONDS)
    store.migrate()

    def frozen_before_the_commit(frozen: ExitStack) -> None:
        with store.write() as tx:
            tx.add_owner_key("sent", "ns", None, "2026-01-01T00:00:00Z", "owner")
            frozen.enter_context(hung(postgres_server))  # until the commit has failed

    began = time.monotonic()
    with ExitStack() as frozen, pytest.raises(StoreUnavailable) as unconfirmed:
        frozen_before_the_commit(frozen)
    assert time.monotonic() - began < STORE_ANSWERS_WITHIN
    assert unconfirmed.value.reason == "unconfirmed"
    assert "may or may not have been saved" in unconfirmed.value.message
    assert unconfirmed.value.headers["Retry-After"] == "5"
    # The commit reached the server before the connection was cut: once it runs, it is saved.
    assert _owner_keys(store) == ["sent"]
    store.close()


def test_a_read_cut_short_at_its_commit_is_not_said_to_be_saving(
    postgres_server: PostgresServer,
) -> None:
    store = Store(postgres_server.url, STORE_LIMIT_SECONDS)
    store.migrate()

    def frozen_before_the_commit(frozen: ExitStack) -> None:
        with store.read() as tx:
            tx.list_owner_keys()
            frozen.enter_context(hung(postgres_server))  # until the commit has failed

    with ExitStack() as frozen, pytest.raises(StoreUnavailable) as refused:
        frozen_before_the_commit(frozen)
    assert refused.value.reason == "not_answering"
    assert "saving" not in refused.value.message
    store.close()


def test_a_large_write_saved_is_answered_so_though_its_statistics_wait_past_the_limit(
    postgres_database: str,
) -> None:
    store = Store(postgres_database, 2 * STORE_LIMIT_SECONDS)
    engine = PgEngine(store.engine)
    lamps = [{"document_id": f"d{n}", "title": f"Lamp {n}"} for n in range(ANALYZE_AFTER)]
    other = sa.create_engine(store.url)
    with other.begin() as conn:
        # As autovacuum holds it while it runs: the write's ANALYZE waits past the limit.
        conn.exec_driver_sql("LOCK TABLE engine_terms IN SHARE UPDATE EXCLUSIVE MODE")
        written = engine.upsert("ns", "lamps", lamps)
    assert written.inserted == ANALYZE_AFTER
    assert engine.document("ns", "lamps", "d0") == {"title": "Lamp 0"}
    other.dispose()
    store.close()


@contextmanager
def _held(url: str, sql: str, params: tuple[Any, ...], seconds: float) -> Iterator[None]:
    """A lock taken by `sql` in another server's transaction, held `seconds` (in a thread of its
    own) after the block starts."""
    other = sa.create_engine(url)
    taken = threading.Event()

    def hold() -> None:
        with other.begin() as conn:
            conn.exec_driver_sql(sql, params)
            taken.set()
            time.sleep(seconds)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(30)
    try:
        yield
    finally:
        holder.join()
        other.dispose()


def test_a_write_behind_a_held_lock_is_a_busy_503_within_the_limit(
    postgres_database: str,
) -> None:
    """A collection written by another server for longer than the limit (its vector index
    built, a long import) is not a store that hangs: the write is told the store is busy."""
    limit = 3.0  # the lock's wait (0.8 of it) ends well before the watch would cut it
    store = Store(postgres_database, limit)
    engine = PgEngine(store.engine)
    engine.upsert("ns", "lamps", [{"document_id": "d1", "title": "Lamp"}])
    lock = "SELECT id FROM engine_collections WHERE namespace = %s AND name = %s FOR UPDATE"
    with _held(postgres_database, lock, ("ns", "lamps"), 2 * limit):
        began = time.monotonic()
        with pytest.raises(StoreUnavailable) as refused:
            engine.upsert("ns", "lamps", [{"document_id": "d2", "title": "Desk lamp"}])
        assert time.monotonic() - began < limit + 5
    assert refused.value.reason == "busy"
    assert "busy" in str(refused.value)
    engine.upsert("ns", "lamps", [{"document_id": "d2", "title": "Desk lamp"}])
    assert engine.document("ns", "lamps", "d2") == {"title": "Desk lamp"}
    store.close()


def test_the_engines_schema_waits_behind_another_servers_past_the_limit(
    postgres_database: str,
) -> None:
    """Servers starting at once: the second waits for the first's schema, however long."""
    store = Store(postgres_database, STORE_LIMIT_SECONDS)
    PgEngine(store.engine)
    schema_lock = "SELECT pg_advisory_xact_lock(%s)"
    held_for = 3 * STORE_LIMIT_SECONDS
    with _held(postgres_database, schema_lock, (SCHEMA_LOCK_ID,), held_for):
        began = time.monotonic()
        engine = PgEngine(store.engine)
        assert time.monotonic() - began > STORE_LIMIT_SECONDS  # it waited, and was not cut
    engine.upsert("ns", "lamps", [{"document_id": "d1", "title": "Lamp"}])
    assert engine.document("ns", "lamps", "d1") == {"title": "Lamp"}
    store.close()
