"""The server's limits on connections, against `retriever-pages serve` on loopback, with raw
sockets: every loop is bounded in count and time."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from tests.servers import server_process

LIMITS = {
    "RETRIEVER_PAGES_MAX_HEADER_BYTES": "8192",
    "RETRIEVER_PAGES_HEADER_TIMEOUT_SECONDS": "1",
    "RETRIEVER_PAGES_BODY_TIMEOUT_SECONDS": "1",
    "RETRIEVER_PAGES_MIN_BODY_BYTES_PER_SECOND": "1000",
    "RETRIEVER_PAGES_MAX_CONNECTIONS": "20",
}


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    return sock


def _answer(sock: socket.socket, wait: float = 5) -> bytes:
    """What the server sends until it closes the connection (or `wait` runs out)."""
    sock.settimeout(wait)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_oversized_headers_get_431_and_cost_no_memory(tmp_path: Path) -> None:
    with server_process(tmp_path, **LIMITS) as (url, process):
        before = _rss_kib(process.pid)
        for _ in range(8):  # 8 connections, each offering 16 MiB of one header
            with _connect(url) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
                try:
                    for _ in range(256):
                        sock.sendall(b"a" * 65536)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # refused early, as it should be
                assert _answer(sock).startswith(b"HTTP/1.1 431 ")
        grown = _rss_kib(process.pid) - before
        assert grown < 20 * 1024, f"RSS grew by {grown} KiB"
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_headers_that_trickle_get_408(tmp_path: Path) -> None:
    with server_process(tmp_path, **LIMITS) as (url, _):
        started = time.monotonic()
        with _connect(url) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            for _ in range(3):  # a header line every 0.4 s: never done
                time.sleep(0.4)
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    break
            answer = _answer(sock)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert time.monotonic() - started < 4


def test_a_connection_that_says_nothing_is_closed(tmp_path: Path) -> None:
    with server_process(tmp_path, **LIMITS) as (url, _), _connect(url) as sock:
        started = time.monotonic()
        _answer(sock, wait=5)
        assert time.monotonic() - started < 4


def test_a_body_that_trickles_is_cut_off(tmp_path: Path) -> None:
    with server_process(tmp_path, **LIMITS) as (url, _):
        started = time.monotonic()
        with _connect(url) as sock:
            sock.sendall(
                b"POST /v1/public/retrievers/none/execute HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            )
            closed = False
            for _ in range(40):  # 10 bytes every 0.1 s: 100 B/s, under the 1000 B/s floor
                try:
                    sock.sendall(b" " * 10)
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                time.sleep(0.1)
            if not closed:
                _answer(sock, wait=2)
        assert time.monotonic() - started < 6
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_past_the_connection_cap_a_clear_503(tmp_path: Path) -> None:
    limits = {**LIMITS, "RETRIEVER_PAGES_HEADER_TIMEOUT_SECONDS": "30"}
    with server_process(tmp_path, **limits) as (url, _):
        held = [_connect(url) for _ in range(20)]
        try:
            time.sleep(0.3)
            with _connect(url) as extra:
                answer = _answer(extra, wait=3)
            assert answer.startswith(b"HTTP/1.1 503 ")
            assert b"retry-after: 5" in answer.lower()
            assert b"connection limit" in answer
        finally:
            for sock in held:
                sock.close()
        time.sleep(0.3)
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_ordinary_requests_and_keep_alive_still_work(tmp_path: Path) -> None:
    with server_process(tmp_path, **LIMITS) as (url, _), httpx.Client(base_url=url) as client:
        for _ in range(5):
            assert client.get("/healthz").status_code == 200
        big = client.post(
            "/v1/public/retrievers/none/execute", json={"inputs": {"q": "x" * 50_000}}
        )
        assert big.status_code == 404
