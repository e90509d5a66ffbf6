"""A response's head and body leave the server in one write (app/web/server.py, `OneWrite`):
seen on the wire, as the TCP segments a client receives, counted by the kernel (TCP_INFO)."""

from __future__ import annotations

import asyncio
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from app.web.server import ConnectionLimits, GuardedProtocol
from tests.servers import free_port, server_process

DATA_SEGMENTS_IN = 152  # struct tcp_info: tcpi_data_segs_in (Linux 4.6+)


def _data_segments(sock: socket.socket) -> int:
    """How many TCP segments with data this socket has received."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int(struct.unpack_from("I", info, DATA_SEGMENTS_IN)[0])


def _connect(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=5)


def _read(sock: socket.socket, until: bytes, count: int = 1) -> bytes:
    got = b""
    while got.count(until) < count:
        chunk = sock.recv(65536)
        assert chunk, got
        got += chunk
    return got


def _get(path: str, *, close: bool = False) -> bytes:
    extra = "Connection: close\r\n" if close else ""
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n{extra}\r\n".encode()


def test_a_small_answer_arrives_in_one_segment_and_keep_alive_holds(tmp_path: Path) -> None:
    with server_process(tmp_path) as (url, _), _connect(url) as sock:
        for number in range(1, 4):  # on one kept-alive connection, one segment an answer
            sock.sendall(_get("/healthz"))
            answer = _read(sock, b"HTTP/1.1 200 OK")
            time.sleep(0.1)  # anything more the server sent for it has arrived by now
            assert _data_segments(sock) == number, answer
        # Pipelined: three requests in one write, three answers, in order.
        sock.sendall(_get("/healthz") + _get("/nothing-here") + _get("/healthz", close=True))
        answers = _read(sock, b"HTTP/1.1 ", 3)
        sock.settimeout(5)
        while chunk := sock.recv(65536):
            answers += chunk
        statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", answers)
        assert statuses == [b"200", b"404", b"200"], answers


# A streaming answer and a HEAD, from a small ASGI app on the same protocol.


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"first;", "more_body": True})
        await asyncio.sleep(1)  # the last part is a second away
        await send({"type": "http.response.body", "body": b"last;", "more_body": False})
        return
    headers = [(b"content-length", b"3")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok\n"})


@contextmanager
def _served() -> Iterator[str]:
    GuardedProtocol.configured = ConnectionLimits(
        max_header_bytes=8192,
        header_timeout=5,
        body_timeout=5,
        min_body_rate=1000,
        max_connections=20,
        max_connections_per_client=20,
        trusted_proxies=(),
    )
    port = free_port()
    config = uvicorn.Config(
        _app, host="127.0.0.1", port=port, http=GuardedProtocol, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        GuardedProtocol.configured = None


def test_a_stream_still_streams_and_a_head_still_answers() -> None:
    with _served() as url, _connect(url) as sock:
        started = time.monotonic()
        sock.sendall(_get("/stream"))
        first = _read(sock, b"first;")
        assert time.monotonic() - started < 0.8  # before the last part is made
        assert b"last;" not in first
        rest = _read(sock, b"0\r\n\r\n")
        assert b"last;" in rest
        # HEAD: a head with no body after it still leaves (at the end of the loop's turn).
        sock.sendall(b"HEAD /small HTTP/1.1\r\nHost: x\r\n\r\n")
        head = _read(sock, b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert b"content-length: 3" in head
        # And a small answer after it: head and body in one segment.
        before = _data_segments(sock)
        sock.sendall(_get("/small"))
        assert _read(sock, b"ok\n").endswith(b"\r\n\r\nok\n")
        time.sleep(0.1)
        assert _data_segments(sock) == before + 1
