"""Bodies whose framing two parsers could read two ways (a length and chunks, two lengths)
never reach the execute past the body limit: the HTTP parser refuses them, or the limit does."""

from __future__ import annotations

from typing import Any

import pytest

from app.settings import Settings
from app.web.app import create_app
from tests.servers import LiveServer
from tests.web import test_direct_hostile as hostile
from tests.web.test_direct_hostile import BODY, MAX_BODY_BYTES, URL, _answer_of, _exchange, _http

clients = hostile.clients
settings = hostile.settings
BIG = b" " * (MAX_BODY_BYTES + 1) + BODY


def _chunks(body: bytes) -> bytes:
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)


@pytest.mark.parametrize(
    "request_",
    [
        _http(URL, _chunks(BIG), f"content-length: {len(BODY)}", "transfer-encoding: chunked"),
        _http(URL, _chunks(BIG), "transfer-encoding: chunked", f"content-length: {len(BODY)}"),
        _http(URL, BIG, f"content-length: {len(BODY)}", f"content-length: {len(BIG)}"),
        _http(URL, BIG, f"content-length: {len(BODY)}, {len(BIG)}"),
        _http(URL, _chunks(BIG), "transfer-encoding: gzip, chunked"),
    ],
)
def test_a_body_framed_two_ways_never_passes_the_limit(
    settings: Settings, clients: Any, request_: bytes
) -> None:
    with LiveServer(create_app(settings)) as server:
        try:
            status, _, _ = _answer_of(_exchange(server.port, request_))
        except ConnectionResetError:
            # Refused before the client had written it all: the parser answered and closed
            # while the rest was on its way, and the kernel reset the connection.
            return
    assert status.split(" ")[1] in ("400", "413", "501"), status
