"""The search log: every public surface writes a row (typeahead kept apart), on both stores;
a row holds what was searched and nothing about who; a publisher can turn it off; old rows
are swept; a full buffer drops and counts instead of waiting."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from app.adapters.store import Store
from app.metrics import Metrics
from app.services.searchlog import Searched, SearchLog
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    FakeClock,
    browse_config,
    local_backend,
    owner_headers,
    protect,
    publish_backend,
)

DOCUMENTS = [
    {"document_id": "lamp", "title": "Desk lamp", "category": "light", "price": 20, "cost": 9},
    {"document_id": "lamp2", "title": "Floor lamp", "category": "light", "price": 35, "cost": 31},
    {"document_id": "sofa", "title": "Sofa", "category": "seating", "price": 250, "cost": 400},
]
PASSWORD = "open-sesame-42"
ADDRESS = "198.51.100.77"


def _config(**extensions: Any) -> dict[str, Any]:
    config = browse_config(
        exposed_fields=["title", "category", "price"],
        field_config={},
        components={"show_filters": True, "result_card": {"show_find_similar": True}},
    )
    config["extensions"] = {"filters": ["category"], **extensions}
    return config


@pytest.fixture
def app_client(make_settings: Any, database_url: str) -> Iterator[TestClient]:
    settings: Settings = make_settings(database_url=database_url)
    with TestClient(create_app(settings, clock=FakeClock()), raise_server_exceptions=False) as c:
        response = c.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        assert response.status_code == 200, response.text
        yield c


def _publish(client: TestClient, name: str, **extensions: Any) -> str:
    return publish_backend(
        client, name, {**local_backend(), "search_fields": ["title"]}, _config(**extensions)
    )


def _rows(client: TestClient) -> list[dict[str, Any]]:
    services = client.app.state.services  # type: ignore[attr-defined]
    client.portal.call(services.query.log.flush)  # type: ignore[union-attr]
    store: Store = services.store
    with store.read() as tx:
        result = tx.conn.execute(sa.text("SELECT * FROM search_log ORDER BY created_at"))
        return [dict(row._mapping) for row in result]


def test_every_surface_writes_one_row_and_typeahead_is_kept_apart(app_client: TestClient) -> None:
    _publish(app_client, "shop")
    executed = app_client.post(
        "/v1/public/retrievers/shop/execute",
        json={"inputs": {"query": "  Desk   LAMP "}, "facets": ["category"]},
        headers={"X-Session-ID": "visit-1"},
    )
    assert executed.status_code == 200, executed.text
    assert app_client.get("/r/shop", params={"query": "lamp", "f.category": "light"}).is_success
    assert app_client.get("/r/shop/embed", params={"query": "sofa"}).is_success
    assert app_client.get("/r/shop", params={"similar_to": "lamp"}).is_success
    typed = app_client.get("/v1/public/retrievers/shop/typeahead", params={"q": "la"})
    assert typed.status_code == 200, typed.text

    rows = _rows(app_client)
    by_surface = {row["surface"]: row for row in rows}
    # One row each: the page's filter counts are further reads of one search, not searches.
    assert sorted(row["surface"] for row in rows) == sorted(
        ["execute", "page", "embed", "similar", "typeahead"]
    )
    execute = by_surface["execute"]
    assert execute["query"] == "desk lamp"
    assert execute["session_id"] == "visit-1"
    assert execute["execution_id"] == executed.json()["execution_id"]
    assert execute["results"] == executed.json()["pagination"]["total"]
    assert json.loads(execute["facets"]) == ["category"]
    assert (execute["outcome"], execute["mode"]) == ("ok", "hybrid")
    assert execute["latency_ms"] > 0
    page = by_surface["page"]
    assert (page["query"], page["results"]) == ("lamp", 2)
    assert json.loads(page["filters"]) == [
        {"field": "category", "operator": "in", "value": ["light"]}
    ]
    assert by_surface["embed"]["query"] == "sofa"
    assert by_surface["similar"]["query"] is None
    assert by_surface["typeahead"]["query"] == "la"


def test_a_row_holds_nothing_about_who_searched_or_what_is_hidden(
    app_client: TestClient,
) -> None:
    retriever_id = _publish(app_client, "private-shop")
    protect(app_client, retriever_id, PASSWORD)
    key = app_client.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers()).json()[
        "public_api_key"
    ]
    headers = {
        "X-Retriever-Password": PASSWORD,
        "X-Public-API-Key": key,
        "X-Forwarded-For": ADDRESS,
        "Cookie": "tracking=cookie-value-123",
    }
    searches = [
        {"inputs": {"query": "lamp"}},
        {
            "inputs": {"query": "lamp"},
            "filters": {"field": "category", "operator": "eq", "value": "light"},
        },
        {"inputs": {"query": "lamp"}, "sort": [{"field": "price", "direction": "asc"}]},
    ]
    for body in searches:
        response = app_client.post(
            "/v1/public/retrievers/private-shop/execute", json=body, headers=headers
        )
        assert response.status_code == 200, response.text
    # A field the page hides is refused by name, so it is never searched, nor logged.
    hidden = app_client.post(
        "/v1/public/retrievers/private-shop/execute",
        json={"inputs": {"query": "lamp"}, "sort": [{"field": "cost", "direction": "asc"}]},
        headers=headers,
    )
    assert hidden.status_code == 422

    rows = _rows(app_client)
    assert len(rows) == 3
    # (less the time, the latency and the execution id, whose digits may hold anything)
    noise = ("created_at", "latency_ms", "execution_id")
    every_value = json.dumps(
        [{k: v for k, v in row.items() if k not in noise} for row in rows], default=str
    )
    for secret in (PASSWORD, key, ADDRESS, "cookie-value-123", "cost", "testclient"):
        assert secret not in every_value
    # The hidden price, as a number of its own (random hex ids may hold its digits).
    assert re.search(r"(?<![0-9a-f])400(?![0-9a-f])", every_value) is None, every_value
    assert {row["sort"] for row in rows} == {None, "price:asc"}


def test_a_publisher_turns_the_log_off_and_a_bad_switch_is_refused_by_name(
    app_client: TestClient,
) -> None:
    _publish(app_client, "quiet", search_log=False)
    assert app_client.post(
        "/v1/public/retrievers/quiet/execute", json={"inputs": {"query": "lamp"}}
    ).is_success
    assert _rows(app_client) == []

    retriever_id = app_client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "bad", "backend": local_backend()},
    ).json()["retriever_id"]
    refused = app_client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"public_name": "bad", "display_config": _config(search_log="no")},
    )
    assert refused.status_code == 422
    assert "extensions.search_log" in refused.text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("lamp\x00 shade", "lamp shade"),
        ("🛋️ Sofa", "🛋️ sofa"),
        ("lamp " * 2000, ("lamp " * 100)[:500].strip()),
    ],
)
def test_hostile_queries_are_stored_safely(app_client: TestClient, typed: str, stored: str) -> None:
    _publish(app_client, "shop")
    response = app_client.post(
        "/v1/public/retrievers/shop/execute", json={"inputs": {"query": typed}}
    )
    assert response.status_code in (200, 422), response.text
    rows = _rows(app_client)
    if response.status_code == 422:  # refused by name: not a search, not logged
        assert rows == []
        assert "query" in response.text
        return
    assert [row["query"] for row in rows] == [stored[:500]]


def test_rows_older_than_the_retention_are_swept(app_client: TestClient) -> None:
    _publish(app_client, "shop")
    services = app_client.app.state.services  # type: ignore[attr-defined]
    clock: FakeClock = services.clock

    def search(text: str) -> None:
        assert app_client.post(
            "/v1/public/retrievers/shop/execute", json={"inputs": {"query": text}}
        ).is_success

    search("old")
    clock.advance(60 * 86400)
    search("recent")
    clock.advance(31 * 86400)  # "old" is 91 days old, "recent" 31
    assert [row["query"] for row in _rows(app_client)] == ["old", "recent"]
    assert app_client.portal.call(services.query.log.sweep) == 1  # type: ignore[union-attr]
    assert [row["query"] for row in _rows(app_client)] == ["recent"]


@pytest.mark.anyio
async def test_a_full_buffer_drops_and_counts_and_never_waits(tmp_path: Any) -> None:
    store = Store(f"sqlite:///{tmp_path}/log.db")
    store.migrate()
    metrics = Metrics()
    log = SearchLog(store, FakeClock(), metrics, 90, "s" * 40, buffer_size=2)
    retriever = _retriever()
    for _ in range(5):
        log.record(Searched(retriever, "execute", "ok", 1.0))
    assert metrics.searches_dropped._value.get() == 3
    assert await log.flush() == 2
    assert metrics.searches_logged._value.get() == 2
    store.close()
    # The store gone: the rows are dropped and counted, the caller never sees an error.
    log.record(Searched(retriever, "execute", "ok", 1.0))
    (tmp_path / "log.db").unlink()
    (tmp_path / "log.db").mkdir()
    assert await log.flush() == 0
    assert metrics.searches_dropped._value.get() == 4
    await log.aclose()


@pytest.mark.anyio
async def test_a_visitor_is_one_pseudonym_a_day_in_utc_whatever_the_clock_s_zone(
    tmp_path: Any,
) -> None:
    store = Store(f"sqlite:///{tmp_path}/log.db")
    store.migrate()
    # 08:30 on the 3rd in UTC+10 is 22:30 on the 2nd in UTC; an hour and a half later, the 3rd.
    clock = FakeClock(datetime(2026, 3, 3, 8, 30, tzinfo=timezone(timedelta(hours=10))))
    log = SearchLog(store, clock, Metrics(), 90, "s" * 40)
    retriever = _retriever()
    for address in (ADDRESS, ADDRESS, "198.51.100.78"):
        log.record(Searched(retriever, "execute", "ok", 1.0, address=address))
    clock.advance(90 * 60)
    log.record(Searched(retriever, "execute", "ok", 1.0, address=ADDRESS))
    assert await log.flush() == 4
    with store.read() as tx:
        rows = tx.conn.execute(
            sa.text("SELECT session_id, created_at, mode FROM search_log ORDER BY rowid")
        ).all()
    await log.aclose()
    store.close()
    sessions = [row[0] for row in rows]
    assert [row[1][:10] for row in rows] == ["2026-03-02"] * 3 + ["2026-03-03"]
    assert sessions[0] == sessions[1]  # one address, one day
    assert len(set(sessions)) == 3  # another address; the same one the next day
    assert all(session.startswith("v-") and ADDRESS not in session for session in sessions)
    assert {row[2] for row in rows} == {"upstream"}  # a config with no mode searches upstream


def _retriever() -> Any:
    from app.adapters.store.records import PublishedRecord
    from app.schemas.display import DisplayConfig
    from app.services.catalog import PublicRetriever

    fields: dict[str, Any] = dict.fromkeys(PublishedRecord.__dataclass_fields__)
    fields.update(retriever_id="ret_1", namespace="acme")
    return PublicRetriever(
        record=PublishedRecord(**fields),
        backend=None,
        display=DisplayConfig.model_validate_json(json.dumps(browse_config())),
        rate_limit=None,  # type: ignore[arg-type]
        frames={},
    )
