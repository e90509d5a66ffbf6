"""`serve --workers 2`: two processes share one engine. Writes from both at once all land (one
writer at a time), and a document written through either is found through either."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.helpers import owner_headers, publish_local
from tests.servers import server_process

# tantivy's readers look for new commits about twice a second; a write is to be seen within one.
VISIBLE_WITHIN_SECONDS = 1.0
SLACK_SECONDS = 1.0  # for a loaded machine: the figure printed is what was measured


def test_workers_share_writes_and_see_each_others(tmp_path: Path) -> None:
    with server_process(tmp_path, "--workers", "2") as (url, _):
        owner = owner_headers()

        def add(batch: int) -> int:
            documents = [
                {"document_id": f"b{batch}-{n}", "title": f"Lamp {batch} {n}"} for n in range(25)
            ]
            with httpx.Client(base_url=url, timeout=30) as client:
                answer = client.post(
                    "/v1/collections/products/documents",
                    headers=owner,
                    json={"documents": documents},
                )
            return answer.status_code

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(add, range(8))) == [200] * 8

        with httpx.Client(base_url=url, timeout=30) as client:
            publish_local(client, "lamps", ["title", "description"])

            def found(word: str) -> int:
                # A new connection each time, so that either worker may answer.
                answer = httpx.post(
                    f"{url}/v1/public/retrievers/lamps/execute",
                    json={"inputs": {"query": word}},
                    timeout=30,
                )
                assert answer.status_code == 200, answer.text
                return int(answer.json()["pagination"]["total"])

            started = time.monotonic()
            while not all(found("lamp") == 200 for _ in range(4)):  # every batch, both workers
                assert time.monotonic() - started < VISIBLE_WITHIN_SECONDS + SLACK_SECONDS
                time.sleep(0.02)
            delays = []
            for round_ in range(6):
                word = f"zb{round_}x"  # four letters: no typo of it finds another round's
                client.post(
                    "/v1/collections/products/documents",
                    headers=owner,
                    json={"documents": [{"document_id": word, "title": f"Lamp {word}"}]},
                )
                started = time.monotonic()
                # Several reads in a row: the two workers answer at random.
                while not all(found(word) == 1 for _ in range(4)):
                    assert time.monotonic() - started < VISIBLE_WITHIN_SECONDS + SLACK_SECONDS
                    time.sleep(0.02)
                delays.append(time.monotonic() - started)
            print(f"a write was visible to both workers after at most {max(delays):.2f} s")


def test_workers_log_every_search_once(tmp_path: Path) -> None:
    """Each worker buffers its own searches and writes them to the one store: the log holds
    every search, once, whichever worker answered it."""
    searches = 30
    with server_process(tmp_path, "--workers", "2") as (url, _):
        owner = owner_headers()
        with httpx.Client(base_url=url, timeout=30) as client:
            client.post(
                "/v1/collections/products/documents",
                headers=owner,
                json={"documents": [{"document_id": "d1", "title": "Desk lamp"}]},
            ).raise_for_status()
            retriever_id = publish_local(client, "logged", ["title", "description"])

        def search(n: int) -> int:
            # A new connection each time, so that either worker may answer.
            answer = httpx.post(
                f"{url}/v1/public/retrievers/logged/execute",
                json={"inputs": {"query": f"lamp {n}"}},
                timeout=30,
            )
            return answer.status_code

        with ThreadPoolExecutor(4) as pool:
            assert list(pool.map(search, range(searches))) == [200] * searches

        started = time.monotonic()
        path = f"{url}/v1/analytics/retrievers/{retriever_id}/performance"
        while True:
            summary = httpx.get(path, headers=owner, timeout=30).json()["summary"]
            if summary["query_count"] >= searches:
                break
            assert time.monotonic() - started < 10, summary
            time.sleep(0.2)
        time.sleep(1.5)  # a second write from either worker would show now
        summary = httpx.get(path, headers=owner, timeout=30).json()["summary"]
        assert summary["query_count"] == searches
