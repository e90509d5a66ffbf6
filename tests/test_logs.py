"""The server's log: one line per thing worth knowing, not one per request its clients make."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from app import logs


@pytest.fixture
def restored() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    root.handlers[:], root.level = handlers, level
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def test_the_http_clients_requests_stay_out_of_an_info_log(restored: None) -> None:
    """At INFO, the server's own lines come but not a line for each request to Typesense or an
    embedder; their warnings still do, and DEBUG or WARNING set by the operator hold."""
    logs.configure("info", "text")
    assert logging.getLogger("app.services").isEnabledFor(logging.INFO)
    for name in ("httpx", "httpcore"):
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
        assert logging.getLogger(name).isEnabledFor(logging.WARNING)
    logs.configure("error", "json")
    assert not logging.getLogger("httpx").isEnabledFor(logging.WARNING)
