"""A PostgreSQL that hangs (SIGSTOP), under load: once a connection's ping has waited the store's
time limit, a request at a time tries the store again and the others are a 503 at once, not each
a whole limit's wait; the first answer once it runs again ends it, and every request is answered
as before. A statement cut short for being slow, on a store that answers, refuses nobody."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.adapters.store import Store
from app.errors import StoreUnavailable
from app.web.app import create_app
from tests.servers import LiveServer, PostgresServer
from tests.system.test_direct_faults import ALL, EVERY, URL, _ids, pair
from tests.system.test_hung_dependencies import _store_down, hung

LIMIT_SECONDS = 5.0
# Well under the limit, on a busy machine (a config reload in flight is waited for a second).
AT_ONCE_SECONDS = 2.5


def test_while_one_request_tries_a_hung_store_the_others_are_refused_at_once(
    make_settings: Any, postgres_server: PostgresServer
) -> None:
    settings = make_settings(database_url=postgres_server.url, store_timeout_seconds=LIMIT_SECONDS)
    with pair(settings):
        pass  # (the data, published)
    app = create_app(settings)
    with LiveServer(app) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        assert _ids(client.post(URL, json=ALL)) == EVERY
        timed: list[tuple[float, httpx.Response]] = []
        # (connections in the pool, each pinged at its next checkout)
        _all_at_once(lambda: client.post(URL, json=ALL), 8)

        def ask() -> None:
            began = time.monotonic()
            with httpx.Client(base_url=live.url, timeout=60) as one:
                answer = one.post(URL, json=ALL)
            timed.append((time.monotonic() - began, answer))

        with hung(postgres_server):
            began = time.monotonic()
            assert _store_down(client.post(URL, json=ALL)) == "not_answering"
            assert time.monotonic() - began >= LIMIT_SECONDS * 0.9  # (the whole limit)
            # Taken for hung once a connection's ping has waited the limit (a statement cut
            # short first says nothing of the store): then refused at once.
            for _ in range(2):
                began = time.monotonic()
                assert _store_down(client.post(URL, json=ALL)) == "not_answering"
                if time.monotonic() - began < AT_ONCE_SECONDS:
                    break
            else:
                raise AssertionError("a hung store was never taken for hung")
            trying = threading.Thread(target=ask)
            trying.start()  # (it, or the search log's writer, now tries the store again)
            time.sleep(0.5)
            _all_at_once(ask, 20)
            trying.join(timeout=60)
            assert len(timed) == 21
            for _, answer in timed:
                assert _store_down(answer) == "not_answering"
            quick = sorted(seconds for seconds, _ in timed)
            # The burst came while a request was trying the store: none of it waited.
            assert quick[-2] < AT_ONCE_SECONDS, quick
            pool = app.state.services.store.engine.pool
            assert pool.checkedout() <= 2  # (the one trying, and maybe the log's writer)
        # Running again: the next answers end it, and all is answered, a burst too.
        deadline = time.monotonic() + 10
        while (answer := client.post(URL, json=ALL)).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.1)
        assert _ids(answer) == EVERY
        timed.clear()
        _all_at_once(ask, 20)
        assert [answer.status_code for _, answer in timed] == [200] * 20


def test_a_statement_cut_short_on_a_store_that_answers_refuses_nobody(
    postgres_database: str,
) -> None:
    store = Store(postgres_database, 1.0)
    with store.read() as tx:  # (a pool of connections, as a server's)
        tx.conn.execute(sa.text("select 1"))
    began = time.monotonic()
    with pytest.raises(StoreUnavailable) as cut, store.read() as tx:
        tx.conn.execute(sa.text("select pg_sleep(3)"))  # slow, not hung
    assert cut.value.reason == "not_answering"
    assert time.monotonic() - began < 2.5
    answers: list[object] = []
    ask = partial(_read_one, store, answers)

    _all_at_once(ask, 20)
    assert answers == [1] * 20
    store.close()


def test_a_slow_failure_to_open_a_connection_refuses_nobody_else(
    postgres_database: str,
) -> None:
    """New connections meet an address that takes what is sent and never answers (a name
    resolved wrongly, a firewall), while those already open answer: only the requests that
    opened one wait and fail; the store is not taken for hung."""
    black_hole = socket.create_server(("127.0.0.1", 0), backlog=100)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.extend(iter(lambda: black_hole.accept()[0], None)),
                     daemon=True).start()  # fmt: skip
    store = Store(postgres_database, 1.0)
    connect = store.engine.dialect.connect
    lost = False

    def opening(*cargs: Any, **cparams: Any) -> Any:
        if lost:
            cparams.update(host="127.0.0.1", port=black_hole.getsockname()[1])
        return connect(*cargs, **cparams)

    store.engine.dialect.connect = opening  # type: ignore[method-assign]
    answers: list[object] = []
    ask = partial(_read_one, store, answers)

    _all_at_once(ask, 10)
    lost = True
    with store.engine.connect() as dropped:  # (one closed: the next opened meets the hole)
        dropped.invalidate()
    answers.clear()
    stop = time.monotonic() + 8

    def keep_asking() -> None:
        while time.monotonic() < stop:
            ask()
            time.sleep(0.01)

    _all_at_once(keep_asking, 8)
    refused = [answer for answer in answers if answer != 1]
    assert len(answers) > 100
    assert len(refused) <= 0.05 * len(answers), (len(refused), len(answers))
    store.close()
    black_hole.close()


def _read_one(store: Store, answers: list[object]) -> None:
    """One read of the store: its answer, or the reason it was refused."""
    try:
        with store.read() as tx:
            answers.append(tx.conn.execute(sa.text("select 1")).scalar())
    except StoreUnavailable as refused:
        answers.append(refused.reason)


def _all_at_once(work: Callable[[], object], threads: int) -> None:
    started = [threading.Thread(target=work) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=60)
