"""The server's limits on connections, against `retriever-pages serve` on loopback, with raw
sockets: every loop is bounded in count and time."""

from __future__ import annotations

import contextlib
import select
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import owner_headers
from tests.servers import server_process

LIMITS = {
    "RETRIEVER_PAGES_MAX_HEADER_BYTES": "8192",
    "RETRIEVER_PAGES_HEADER_TIMEOUT_SECONDS": "1",
    "RETRIEVER_PAGES_BODY_TIMEOUT_SECONDS": "1",
    "RETRIEVER_PAGES_MIN_BODY_BYTES_PER_SECOND": "1000",
    "RETRIEVER_PAGES_MAX_CONNECTIONS": "20",
}


OTHER_CLIENT = "127.0.0.2"  # a second loopback address: another client of the same server


def _connect(url: str, source: str | None = None) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    bind = (source, 0) if source else None
    sock = socket.create_connection((host, int(port)), timeout=5, source_address=bind)
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


def _answered(sock: socket.socket) -> bool:
    """Whether the server has said anything on this connection yet (without waiting)."""
    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def _send(url: str, request: bytes, writes: int) -> bytes:
    """Send `request` in `writes` parts, a little apart, and return the answer."""
    with _connect(url) as sock:
        step = -(-len(request) // writes)
        try:
            for start in range(0, len(request), step):
                sock.sendall(request[start : start + step])
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the end, as it may be
        return _answer(sock)


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
    limits = {
        **LIMITS,
        "RETRIEVER_PAGES_HEADER_TIMEOUT_SECONDS": "30",
        "RETRIEVER_PAGES_MAX_CONNECTIONS_PER_CLIENT": "5",
    }
    with server_process(tmp_path, **limits) as (url, _):
        # Four clients, each with its share: the server is full.
        held = [_connect(url, f"127.0.0.{n}") for n in range(1, 5) for _ in range(5)]
        try:
            time.sleep(0.3)
            with _connect(url, "127.0.0.5") as extra:
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


def _get(target: bytes, *headers: bytes) -> bytes:
    lines = [b"GET " + target + b" HTTP/1.1", b"Host: x", b"Connection: close", *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


@pytest.mark.parametrize("writes", [1, 3])
def test_the_request_line_counts_in_the_header_limit(tmp_path: Path, writes: int) -> None:
    limit = int(LIMITS["RETRIEVER_PAGES_MAX_HEADER_BYTES"])
    with server_process(tmp_path, **LIMITS) as (url, _):
        long_line = _send(url, _get(b"/healthz?q=" + b"a" * limit), writes)
        assert long_line.startswith(b"HTTP/1.1 414 ")
        assert f"The request line is over {limit} bytes".encode() in long_line

        # Neither the line nor the headers alone are over; together they are, by one byte.
        request = _get(b"/healthz?q=" + b"a" * (limit // 2), b"X-Pad: ")
        padded = _get(
            b"/healthz?q=" + b"a" * (limit // 2), b"X-Pad: " + b"b" * (limit - len(request) + 1)
        )
        assert len(padded) == limit + 1
        over = _send(url, padded, writes)
        assert over.startswith(b"HTTP/1.1 431 ")
        assert f"The request line and headers are over {limit} bytes".encode() in over

        exact = _get(
            b"/healthz?q=" + b"a" * (limit // 2), b"X-Pad: " + b"b" * (limit - len(request))
        )
        assert len(exact) == limit
        assert _send(url, exact, writes).startswith(b"HTTP/1.1 200 ")


def test_one_address_cannot_hold_every_connection(tmp_path: Path) -> None:
    """A slowloris from one address: connections that never finish their headers, reopened as
    they are turned away, more than the whole cap in each wave. It keeps its share; another
    address is still served."""
    limits = {
        **LIMITS,
        "RETRIEVER_PAGES_HEADER_TIMEOUT_SECONDS": "30",
        "RETRIEVER_PAGES_MAX_CONNECTIONS_PER_CLIENT": "5",
    }
    cap = int(limits["RETRIEVER_PAGES_MAX_CONNECTIONS"])
    with server_process(tmp_path, **limits) as (url, _):
        held: list[socket.socket] = []
        turned_away: list[bytes] = []
        other = httpx.Client(
            base_url=url, transport=httpx.HTTPTransport(local_address=OTHER_CLIENT)
        )
        try:
            for _ in range(3):
                wave = [_connect(url) for _ in range(cap + 5)]
                time.sleep(0.5)  # an answer to a connection turned away is written at once
                for sock in wave:
                    if _answered(sock):
                        turned_away.append(_answer(sock, wait=2))
                        sock.close()
                    else:
                        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and no more
                        held.append(sock)
                for _ in range(3):
                    assert other.get("/healthz").status_code == 200
            assert len([sock for sock in held if not _answered(sock)]) == 5
            assert turned_away
            assert all(answer.startswith(b"HTTP/1.1 429 ") for answer in turned_away)
            assert b"connections open, its share of the server" in turned_away[0]
            assert b"retry-after: 5" in turned_away[0].lower()
        finally:
            other.close()
            for sock in held:
                sock.close()
        time.sleep(0.3)  # closed, the address's share is free again
        assert httpx.get(f"{url}/healthz").status_code == 200


def _request_in_progress(client: str) -> bytes:
    """An owner's POST through the proxy for `client`, its body begun and never finished."""
    headers = "".join(f"{name}: {value}\r\n" for name, value in owner_headers().items())
    return (
        f"POST /v1/retrievers HTTP/1.1\r\nHost: x\r\n{headers}X-Forwarded-For: {client}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    ).encode()


def test_a_trusted_proxy_is_held_to_each_forwarded_address_share(tmp_path: Path) -> None:
    limits = {
        **LIMITS,
        "RETRIEVER_PAGES_HEADER_TIMEOUT_SECONDS": "30",
        "RETRIEVER_PAGES_BODY_TIMEOUT_SECONDS": "30",
        "RETRIEVER_PAGES_MAX_CONNECTIONS_PER_CLIENT": "3",
        "RETRIEVER_PAGES_TRUSTED_PROXIES": "127.0.0.1",
    }
    with server_process(tmp_path, **limits) as (url, _):
        # The proxy's connections are many clients': more than one's share are all taken on.
        proxy = [_connect(url) for _ in range(6)]
        try:
            for sock in proxy[:3]:  # one client's share of requests in progress
                sock.sendall(_request_in_progress("2001:db8::1"))
            time.sleep(0.5)
            assert not any(_answered(sock) for sock in proxy)

            same_network = httpx.get(f"{url}/healthz", headers={"X-Forwarded-For": "2001:db8::9"})
            assert same_network.status_code == 429
            assert same_network.headers["retry-after"] == "5"
            assert "3 requests in progress" in same_network.json()["error"]["message"]
            elsewhere = httpx.get(f"{url}/healthz", headers={"X-Forwarded-For": "2001:db8:0:1::1"})
            assert elsewhere.status_code == 200
            # From an address that is no proxy, the header is not believed: that address counts.
            with httpx.Client(transport=httpx.HTTPTransport(local_address=OTHER_CLIENT)) as other:
                spoofed = other.get(f"{url}/healthz", headers={"X-Forwarded-For": "2001:db8::1"})
                assert spoofed.status_code == 200
        finally:
            for sock in proxy:
                sock.close()


def test_the_header_limit_holds_for_each_request_on_a_connection(tmp_path: Path) -> None:
    limit = int(LIMITS["RETRIEVER_PAGES_MAX_HEADER_BYTES"])
    with server_process(tmp_path, **LIMITS) as (url, _), _connect(url) as sock:
        for _ in range(2):  # ordinary requests on a kept-alive connection
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while not answer.endswith(b'{"status":"ok"}'):
                chunk = sock.recv(65536)
                assert chunk, answer
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200 ")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(_get(b"/healthz?q=" + b"a" * limit))
        assert _answer(sock).startswith(b"HTTP/1.1 414 ")
