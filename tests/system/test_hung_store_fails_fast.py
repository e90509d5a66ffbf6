"""A PostgreSQL that hangs (SIGSTOP), under load: once one wait has been cut short at the store's
time limit, one request at a time tries the store again and the others are a 503 at once, not
each a whole limit's wait; the first answer once it runs again ends it, and every request is
answered as before."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from app.web.app import create_app
from tests.servers import LiveServer, PostgresServer
from tests.system.test_direct_faults import ALL, EVERY, URL, _ids, pair
from tests.system.test_hung_dependencies import _store_down, hung

LIMIT_SECONDS = 6.0
# Well under the limit, on a busy machine (a config reload in flight is waited for 1 s).
AT_ONCE_SECONDS = 3.0


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

        def ask() -> None:
            began = time.monotonic()
            with httpx.Client(base_url=live.url, timeout=60) as one:
                answer = one.post(URL, json=ALL)
            timed.append((time.monotonic() - began, answer))

        with hung(postgres_server):
            began = time.monotonic()
            assert _store_down(client.post(URL, json=ALL)) == "not_answering"
            assert time.monotonic() - began >= LIMIT_SECONDS * 0.9  # (the limit's whole wait)
            trying = threading.Thread(target=ask)
            trying.start()  # (it, or the search log's writer, now tries the store again)
            time.sleep(0.5)
            burst = [threading.Thread(target=ask) for _ in range(20)]
            for thread in burst:
                thread.start()
            for thread in burst:
                thread.join(timeout=60)
            trying.join(timeout=60)
            assert len(timed) == 21
            for _, answer in timed:
                assert _store_down(answer) == "not_answering"
            quick = sorted(seconds for seconds, _ in timed)
            # The burst came while a request was trying the store: none of it waited.
            assert quick[19] < AT_ONCE_SECONDS, quick
            pool = app.state.services.store.engine.pool
            assert pool.checkedout() <= 2  # (the one trying, and maybe the log's writer)
        # Running again: the next answers end it, and all is answered, a burst too.
        deadline = time.monotonic() + 10
        while (answer := client.post(URL, json=ALL)).status_code != 200:
            assert time.monotonic() < deadline, answer.text
            time.sleep(0.1)
        assert _ids(answer) == EVERY
        timed.clear()
        burst = [threading.Thread(target=ask) for _ in range(20)]
        for thread in burst:
            thread.start()
        for thread in burst:
            thread.join(timeout=60)
        assert [answer.status_code for _, answer in timed] == [200] * 20
