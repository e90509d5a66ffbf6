"""Faults with real processes: the server killed mid-write, a read-only store, an upstream
that resets mid-body, and a shutdown with a query in flight."""

from __future__ import annotations

import signal
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.helpers import browse_config, local_backend, owner_headers, publish_over_upstream
from tests.servers import server_process


def test_killed_mid_publishes_every_acknowledged_write_is_there(tmp_path: Path) -> None:
    acknowledged: list[str] = []
    with server_process(tmp_path) as (url, process):

        def publish(n: int) -> None:
            try:
                rid = httpx.post(
                    f"{url}/v1/retrievers",
                    headers=owner_headers(),
                    json={"retriever_name": f"r{n}", "backend": local_backend()},
                ).json()["retriever_id"]
                response = httpx.post(
                    f"{url}/v1/retrievers/{rid}/publish",
                    headers=owner_headers(),
                    json={"public_name": f"page-{n}", "display_config": browse_config()},
                )
                if response.status_code == 200:
                    acknowledged.append(f"page-{n}")
            except (httpx.TransportError, KeyError, ValueError):
                pass  # the server died under this one: not acknowledged

        killer = threading.Timer(1.5, lambda: process.send_signal(signal.SIGKILL))
        killer.start()
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(publish, range(400)))
        killer.join()
        process.wait(timeout=10)
    assert acknowledged, "nothing was published before the kill"
    with server_process(tmp_path) as (url, _):
        listing = httpx.get(f"{url}/v1/retrievers/published?limit=100", headers=owner_headers())
        names = set()
        offset = 0
        while True:
            page = httpx.get(
                f"{url}/v1/retrievers/published?limit=100&offset={offset}", headers=owner_headers()
            ).json()
            names |= {item["public_name"] for item in page["results"]}
            offset += 100
            if offset >= page["total"]:
                break
        assert listing.status_code == 200
        assert set(acknowledged) <= names
        # Nothing half-written: every published page has its retriever and answers.
        for name in list(names)[:20]:
            config = httpx.get(f"{url}/v1/public/retrievers/{name}/config")
            assert config.status_code == 200


def test_a_read_only_store_refuses_writes_clearly_and_keeps_serving(tmp_path: Path) -> None:
    with server_process(tmp_path) as (url, _):
        rid = httpx.post(
            f"{url}/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "ro", "backend": local_backend()},
        ).json()["retriever_id"]
        httpx.post(
            f"{url}/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={"public_name": "read-only", "display_config": browse_config()},
        )
    database = tmp_path / "retriever-pages.db"
    # The same file opened read-only, as from a read-only volume (root would write through
    # file permissions, and CI runs as root).
    read_only = f"sqlite:///file:{database}?mode=ro&uri=true"
    with server_process(tmp_path, RETRIEVER_PAGES_DATABASE_URL=read_only) as (url, _):
        published = httpx.get(f"{url}/v1/retrievers/{rid}/publish", headers=owner_headers())
        assert published.status_code == 200
        assert httpx.get(f"{url}/v1/public/retrievers/read-only/config").status_code == 200
        refused = httpx.patch(
            f"{url}/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"is_active": False}
        )
        assert refused.status_code == 503
        assert "read-only" in refused.json()["error"]["message"]
        assert httpx.get(f"{url}/readyz").status_code == 200  # reads still answer
    with server_process(tmp_path) as (url, _):
        after = httpx.get(f"{url}/v1/retrievers/{rid}/publish", headers=owner_headers()).json()
        assert after["is_active"] is True  # the refused write changed nothing


def test_an_upstream_that_resets_mid_body_is_a_502(tmp_path: Path) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def reset_mid_body() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b'Content-Length: 5000\r\n\r\n{"documents": ['
            )
            conn.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
            conn.close()  # RST with the body half sent

    thread = threading.Thread(target=reset_mid_body, daemon=True)
    thread.start()
    try:
        with server_process(tmp_path) as (url, _), httpx.Client(base_url=url) as client:
            base = f"http://127.0.0.1:{port}"
            publish_over_upstream(client, "reset", base, browse_config(), "sk_x")
            for _ in range(3):
                response = httpx.post(
                    f"{url}/v1/public/retrievers/reset/execute", json={"inputs": {}}
                )
                assert response.status_code == 502
                assert "sk_x" not in response.text
            assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_sigterm_lets_in_flight_queries_finish(tmp_path: Path) -> None:
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tests.conftest import LiveServer

    async def slow(request: object) -> JSONResponse:
        await asyncio.sleep(1.5)
        return JSONResponse({"documents": [{"document_id": "late", "title": "Late"}]})

    upstream = Starlette(routes=[Route("/v1/retrievers/{rid}/execute", slow, methods=["POST"])])
    with (
        LiveServer(upstream) as up,
        server_process(tmp_path) as (url, process),
        httpx.Client(base_url=url) as client,
    ):
        config = browse_config(exposed_fields=["title"], field_config={}, components={})
        publish_over_upstream(client, "slow", up.url, config, "sk_x")
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = pool.submit(
                httpx.post,
                f"{url}/v1/public/retrievers/slow/execute",
                json={"inputs": {}},
                timeout=10,
            )
            time.sleep(0.5)  # the query is now waiting on the upstream
            process.send_signal(signal.SIGTERM)
            answer = pending.result()
        assert answer.status_code == 200
        assert answer.json()["documents"][0]["document_id"] == "late"
        # Shut down once the query was answered; uvicorn re-raises the signal as it exits.
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)
