"""A bounded soak: queries, pages and owner updates at a steady rate for about a minute,
against a real server process; zero unexpected errors and a flat memory curve."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from app.adapters.engine import ENGINE_FILE, Engine
from app.paths import SAMPLE_CATALOG
from app.services.importing import import_file
from tests.helpers import NAMESPACE, browse_config, local_backend, owner_headers
from tests.servers import server_process

SECONDS = 60 if os.environ.get("CI") == "true" else 20
RATES = {"execute": 40, "page": 15, "patch": 2}  # requests a second, each from its own thread


def rss_mb(pid: int) -> float:
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def test_a_steady_mixed_load_for_a_minute(tmp_path: Path) -> None:
    engine = Engine(tmp_path / ENGINE_FILE)
    import_file(engine, NAMESPACE, "products", SAMPLE_CATALOG)
    engine.close()
    statuses: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    memory: list[float] = []
    with server_process(tmp_path) as (url, process):
        rid = httpx.post(
            f"{url}/v1/retrievers",
            headers=owner_headers(),
            json={
                "retriever_name": "soak",
                "backend": {**local_backend(), "search_fields": ["title", "description"]},
            },
        ).json()["retriever_id"]
        httpx.post(
            f"{url}/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={
                "public_name": "soak",
                "display_config": browse_config(),
                "rate_limit_config": {"tier": "unlimited"},
            },
        ).raise_for_status()
        words = ["lamp", "tent", "kettle", "head", "espresso", "mat", "zebra", ""]
        deadline = time.monotonic() + SECONDS

        def drive(kind: str, rate: int) -> None:
            with httpx.Client(base_url=url, timeout=10) as client:
                n = 0
                while time.monotonic() < deadline:
                    started = time.monotonic()
                    word = words[n % len(words)]
                    try:
                        if kind == "execute":
                            response = client.post(
                                "/v1/public/retrievers/soak/execute",
                                json={"inputs": {"query": word}, "limit": 20},
                            )
                        elif kind == "page":
                            response = client.get(f"/r/soak?query={word}&page={1 + n % 3}")
                        else:
                            response = client.patch(
                                f"/v1/retrievers/{rid}/publish",
                                headers=owner_headers(),
                                json={
                                    "tags": [f"t{n}"],
                                    "rate_limit_config": {"max_results_per_query": 20 + n % 5},
                                },
                            )
                        statuses[(kind, response.status_code)] += 1
                    except httpx.HTTPError as error:
                        failures.append(f"{kind}: {type(error).__name__}")
                    n += 1
                    time.sleep(max(0.0, 1 / rate - (time.monotonic() - started)))

        threads = [threading.Thread(target=drive, args=item) for item in RATES.items()]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            memory.append(rss_mb(process.pid))
            time.sleep(2)
        for thread in threads:
            thread.join()
        final = httpx.get(f"{url}/v1/retrievers/{rid}/publish", headers=owner_headers())
    assert failures == []
    unexpected = {key: count for key, count in statuses.items() if key[1] != 200}
    assert unexpected == {}
    total = sum(statuses.values())
    assert total > SECONDS * sum(RATES.values()) * 0.6, statuses  # the load was really applied
    assert final.json()["tags"] is not None
    # Flat: after the first quarter (imports, caches, pools warming), growth stays small.
    settled = memory[len(memory) // 4 :]
    assert max(settled) - settled[0] < 25, memory
    print(
        f"\nsoak: {total:,} requests in {SECONDS} s, {dict(statuses)}, "
        f"RSS {memory[0]:.0f} -> {memory[-1]:.0f} MB (max {max(memory):.0f})"
    )
