"""A retriever's insights in the console over HTTP: the figures of a known search log with
their charts and tables, the date range and its errors by field, paging, the CSV export,
roles, another namespace, and hostile queries shown inert."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.adapters.clock import stamp
from app.adapters.store import searchlog
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    NAMESPACE,
    OTHER_KEY,
    OTHER_NAMESPACE,
    OWNER_KEY,
    FakeClock,
    local_backend,
    owner_headers,
)
from tests.web.test_console import VIEWER_KEY, sign_in
from tests.web.test_console_pages import HOSTILE, inert

NOW = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)
POPULAR = "desk lamp"


def _row(retriever_id: str, n: int, query: str, **values: Any) -> dict[str, Any]:
    return {
        "retriever_id": retriever_id,
        "namespace": NAMESPACE,
        "surface": "page",
        "outcome": "ok",
        "query": query,
        "filters": [{"field": "brand", "operator": "eq", "value": "Lumen"}] if n % 2 else None,
        "facets": None,
        "sort": None,
        "page_number": 1,
        "page_size": 10,
        "results": 3,
        "latency_ms": 10.0 + n,
        "mode": "keyword",
        "cached": False,
        "execution_id": f"exe_{n}",
        "session_id": None,
        "created_at": stamp(NOW - timedelta(hours=1, minutes=n % 50)),
        **values,
    }


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[tuple[TestClient, str]]:
    settings = make_settings(
        api_keys=[
            f"{NAMESPACE}:{OWNER_KEY}",
            f"{NAMESPACE}:{VIEWER_KEY}@viewer",
            f"{OTHER_NAMESPACE}:{OTHER_KEY}",
        ]
    )
    app = create_app(settings, clock=FakeClock(NOW))
    with TestClient(app, raise_server_exceptions=False) as client:
        retriever_id = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "shop", "backend": {**local_backend(), "mode": "keyword"}},
        ).json()["retriever_id"]
        rows = [_row(retriever_id, n, POPULAR) for n in range(12)]
        rows += [_row(retriever_id, 100 + n, f"rare {n:02}") for n in range(11)]
        rows += [_row(retriever_id, 200, "unicorn", results=0)]
        rows += [_row(retriever_id, 300 + n, text) for n, text in enumerate(HOSTILE[:2])]
        rows += [_row(retriever_id, 400, None, outcome="refused", execution_id=None)]
        store = client.app.state.services.store  # type: ignore[attr-defined]
        with store.write() as tx:
            searchlog.insert(tx.conn, rows)
            for n in (0, 1, 2):  # three of the twelve searches of the popular query clicked
                tx.insert_interaction(
                    {
                        "interaction_id": f"int_{n}",
                        "retriever_id": retriever_id,
                        "namespace": NAMESPACE,
                        "document_id": "lamp-1",
                        "interaction_types": ["click"],
                        "position": n,
                        "execution_id": f"exe_{n}",
                        "session_id": None,
                        "details": None,
                        "created_at": stamp(NOW - timedelta(minutes=30)),
                    }
                )
        sign_in(client, OWNER_KEY)
        yield client, retriever_id


def _path(retriever_id: str, tail: str = "insights") -> str:
    return f"/console/retrievers/{retriever_id}/{tail}"


def test_the_figures_of_the_log_with_charts_and_their_tables(
    console: tuple[TestClient, str],
) -> None:
    client, retriever_id = console
    page = client.get(_path(retriever_id))
    assert page.status_code == 200
    html = page.text
    assert "26 searches from Feb 24, 2026 to Mar 2, 2026, by day." in html
    # One bar per day of the week, drawn for the eye only, the same counts in a table.
    assert html.count('<svg class="chart"') == 2
    assert html.count('aria-hidden="true" focusable="false"') == 2
    assert html.count('class="chart-bar chart-bar--count"') == 7
    assert '<th scope="row">Mar 2</th><td>26</td><td>1</td><td>1</td>' in html
    assert html.count("chart-dot--p99") == 1  # one day searched: a dot, not a line to zero
    assert re.search(r"<dt>Refused by the rate limit</dt><dd>1</dd>", html)
    # The popular query: 12 searches, 3 clicked (25%), at positions 1, 2 and 3 (mean 2).
    row = re.search(rf"<th scope=\"row\">{POPULAR}</th>(.*?)</tr>", html, re.S)
    assert row, html
    cells = re.findall(r">([^<>]+)</td>", row[1])
    assert cells == ["12", "0", "0", "25%", "2.0"]
    assert re.search(r"rare 00<span class=\"badge badge--few\">few</span>|rare 00 <span", html)
    empty = html.split('id="no-results"')[1].split("</section>")[0]
    assert "unicorn" in empty
    start = f"/console/retrievers/{retriever_id}/relevance?synonym=unicorn#synonyms"
    assert f'href="{start}"' in empty
    assert ">unicorn</textarea>" in client.get(start).text
    assert "<code>lamp-1</code>" in html
    assert '<code>brand</code></th><td data-label="Value">Lumen</td>' in html
    assert "Insights" in client.get("/console/retrievers").text


def test_a_range_by_hour_and_an_empty_one(console: tuple[TestClient, str]) -> None:
    client, retriever_id = console
    html = client.get(_path(retriever_id), params={"from": "2026-03-02", "to": "2026-03-02"}).text
    assert "by hour" in html
    assert html.count('class="chart-bar chart-bar--count"') == 24
    empty = client.get(_path(retriever_id), params={"from": "2025-01-01", "to": "2025-01-31"})
    assert empty.status_code == 200
    assert "No searches in this range yet." in empty.text
    assert "<svg" not in empty.text
    assert "Fewer than 10 searches" in empty.text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2024-01-01", "to": "2026-03-01"}, "from"),
        ({"from": "0001-01-01"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "x" * 5000}, "from"),
        ({"from": "\uff12\uff10\uff12\uff16-\uff10\uff13-\uff10\uff11"}, "from"),  # wide digits
        ({"from": HOSTILE[0]}, "from"),
    ],
)
def test_a_bad_range_is_told_beside_its_field(
    console: tuple[TestClient, str], params: dict[str, str], field: str
) -> None:
    client, retriever_id = console
    page = client.get(_path(retriever_id), params=params)
    assert page.status_code == 422
    assert f'id="{field}-error"' in page.text
    assert "the last 7 days" in page.text
    inert(page.text)


def test_each_report_pages_keeping_the_others(console: tuple[TestClient, str]) -> None:
    client, retriever_id = console
    first = client.get(_path(retriever_id)).text
    assert "Page 1 of 2 · 15 in all" in first
    link = re.search(r'href="([^"]*queries_page=2[^"]*)" rel="next"', first)
    assert link
    second = client.get(link[1].replace("&amp;", "&")).text
    assert "Page 2 of 2 · 15 in all" in second
    assert 'rel="prev"' in second
    assert second.count("<tr>") < first.count("<tr>")
    for bad in ("0", "abc", "9" * 5000):
        assert client.get(_path(retriever_id), params={"queries_page": bad}).status_code == 422


def test_each_report_downloads_as_the_api_csv(console: tuple[TestClient, str]) -> None:
    client, retriever_id = console
    page = client.get(_path(retriever_id)).text
    link = re.search(r'href="([^"]*insights.csv\?report=queries[^"]*)"', page)
    assert link
    response = client.get(link[1].replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 15  # every query, not a page of them
    assert rows[0]["query"] == POPULAR
    assert rows[0]["click_through_rate"] == "0.25"
    for report in ("no_results", "documents", "filters"):
        path = _path(retriever_id, "insights.csv")
        assert client.get(path, params={"report": report}).status_code == 200
    for params in ({"report": "x"}, {"to": "soon"}):
        assert client.get(_path(retriever_id, "insights.csv"), params=params).status_code == 422


def test_a_viewer_reads_and_another_namespace_sees_nothing(
    console: tuple[TestClient, str],
) -> None:
    client, retriever_id = console
    sign_in(client, VIEWER_KEY)
    page = client.get(_path(retriever_id))
    assert page.status_code == 200
    assert "unicorn" in page.text
    assert "Add a synonym" not in page.text
    assert client.get(_path(retriever_id, "insights.csv")).status_code == 200
    sign_in(client, OTHER_KEY)
    assert client.get(_path(retriever_id)).status_code == 404
    assert client.get(_path(retriever_id, "insights.csv")).status_code == 404
    assert client.get(_path("ret_nothing")).status_code == 404
    client.cookies.clear()
    signed_out = client.get(_path(retriever_id), follow_redirects=False)
    assert signed_out.status_code == 303


def test_hostile_queries_are_shown_inert(console: tuple[TestClient, str]) -> None:
    client, retriever_id = console
    html = client.get(_path(retriever_id)).text
    assert "&lt;script&gt;alert(" in html
    inert(html)
