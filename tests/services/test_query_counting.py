"""`PublicQuery.counting`, the one place an answer and its errors get their RateLimit headers,
called directly (the search, the document lookup and the typeahead all go through it)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from app.errors import AppError, invalid
from app.services.access import Caller
from app.services.query import PublicQuery

CALLER = Caller(ip="203.0.113.9")


def _query(client: TestClient) -> PublicQuery:
    query: PublicQuery = client.app.state.services.query  # type: ignore[attr-defined]
    return query


def _counted(client: TestClient, *, counted: bool = True, fail: bool = False) -> dict[str, str]:
    query = _query(client)

    async def run() -> dict[str, str]:
        retriever = await query.open("product-search", CALLER)
        async with query.counting(retriever, CALLER, counted=counted) as headers:
            if fail:
                raise invalid("q", "1 to 100 characters")
            return headers

    assert client.portal is not None
    return client.portal.call(run)


def test_an_answer_gets_the_headers_of_its_count(
    client: TestClient, published: dict[str, Any]
) -> None:
    headers = _counted(client)
    assert headers["RateLimit-Policy"].startswith('"minute";q=')
    assert ";r=" in headers["RateLimit"]


def test_an_error_inside_carries_the_headers_and_the_count_stands(
    client: TestClient, published: dict[str, Any]
) -> None:
    first = _counted(client)
    with pytest.raises(AppError) as raised:
        _counted(client, fail=True)
    assert raised.value.status == 422
    after = _counted(client)
    left = [int(h["RateLimit"].split(";r=")[1].split(";")[0]) for h in (first, after)]
    assert raised.value.headers["RateLimit-Policy"] == first["RateLimit-Policy"]
    assert left[1] == left[0] - 2  # the failed call was counted too


def test_an_uncounted_read_neither_counts_nor_carries_headers(
    client: TestClient, published: dict[str, Any]
) -> None:
    first = _counted(client)
    assert _counted(client, counted=False) == {}
    with pytest.raises(AppError) as raised:
        _counted(client, counted=False, fail=True)
    assert "RateLimit" not in raised.value.headers
    after = _counted(client)
    left = [int(h["RateLimit"].split(";r=")[1].split(";")[0]) for h in (first, after)]
    assert left[1] == left[0] - 1
