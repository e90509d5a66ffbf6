"""Learned suggestions: the typeahead offers a past query once enough distinct sessions
searched it and it found something, most popular first; never a rare query, never one that
found nothing. "Did you mean" on a page whose query found nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.web.app import create_app
from tests.helpers import browse_config, local_backend, owner_headers, publish_backend

DOCUMENTS = [
    {"document_id": "d1", "title": "Desk lamp"},
    {"document_id": "d2", "title": "Floor lamp"},
    {"document_id": "d3", "title": "Desk chair"},
]


@pytest.fixture
def client(make_settings: Any, database_url: str) -> Iterator[TestClient]:
    settings = make_settings(
        database_url=database_url, suggest_after_sessions=3, trusted_proxies=["127.0.0.1/32"]
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False, client=("127.0.0.1", 50000)) as c:
        c.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        ).raise_for_status()
        config = browse_config(exposed_fields=["title"], field_config={}, components={})
        backend = {**local_backend(), "search_fields": ["title"], "mode": "keyword"}
        c.shop_id = publish_backend(c, "shop", backend, config)  # type: ignore[attr-defined]
        quiet = {**config, "extensions": {"search_log": False}}
        publish_backend(c, "quiet", backend, quiet)
        yield c


def _search(client: TestClient, text: str, visitor: str, name: str = "shop") -> None:
    """A search from the address named `visitor` (through the trusted proxy)."""
    address = f"203.0.113.{sum(map(ord, visitor)) % 250}"
    response = client.post(
        f"/v1/public/retrievers/{name}/execute",
        json={"inputs": {"query": text}},
        headers={"X-Forwarded-For": address, "X-Session-ID": f"session-of-{visitor}"},
    )
    assert response.status_code == 200, response.text


def _suggested(client: TestClient, prefix: str, name: str = "shop") -> list[str]:
    client.portal.call(client.app.state.services.query.log.flush)  # type: ignore[attr-defined]
    response = client.get(f"/v1/public/retrievers/{name}/typeahead", params={"q": prefix})
    assert response.status_code == 200, response.text
    suggestions: list[str] = response.json()["suggestions"]
    return suggestions


def test_a_query_is_suggested_once_enough_visitors_searched_it(client: TestClient) -> None:
    for _ in range(4):
        _search(client, "Desk  Lamp", "s1")  # one visitor, however often
    _search(client, "desk lamp", "s2")
    assert "desk lamp" not in _suggested(client, "de")
    _search(client, "DESK LAMP", "s3")
    assert _suggested(client, "de")[0] == "desk lamp"
    assert _suggested(client, "desk l")[0] == "desk lamp"
    assert "desk lamp" not in _suggested(client, "fl")

    # More sessions, more popular: first.
    for session in ("a", "b", "c", "d"):
        _search(client, "desk chair", session)
    assert _suggested(client, "desk")[:2] == ["desk chair", "desk lamp"]


def test_a_query_that_found_nothing_is_never_suggested(client: TestClient) -> None:
    for session in ("s1", "s2", "s3", "s4", "s5"):
        _search(client, "unicornz zebraq", session)
    assert not any("unicornz" in s for s in _suggested(client, "uni"))


def test_nothing_is_learned_where_the_log_is_off(client: TestClient) -> None:
    for session in ("s1", "s2", "s3"):
        _search(client, "floor lamp", session, "quiet")
    assert "floor lamp" not in _suggested(client, "fl", "quiet")


def test_one_address_cannot_plant_a_suggestion_with_session_ids_of_its_own(
    client: TestClient,
) -> None:
    for session in range(10):
        response = client.post(
            "/v1/public/retrievers/shop/execute",
            json={"inputs": {"query": "desk lamp spam"}},
            headers={"X-Forwarded-For": "198.51.100.9", "X-Session-ID": f"fake-{session}"},
        )
        assert response.status_code == 200, response.text
    assert "desk lamp spam" not in _suggested(client, "desk")


def test_page_visitors_count_once_a_day_each(client: TestClient) -> None:
    for _ in range(3):  # one address, no session id: one visitor
        assert client.get("/r/shop", params={"query": "floor lamp"}).is_success
    assert "floor lamp" not in _suggested(client, "fl")


@pytest.mark.parametrize("typed", ["de\x00sk", "🛋️", "x" * 200])
def test_hostile_prefixes_are_answered_or_refused_by_name(client: TestClient, typed: str) -> None:
    response = client.get("/v1/public/retrievers/shop/typeahead", params={"q": typed})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["error"]["details"]["errors"][0]["field"] == "q"


def test_did_you_mean_offers_a_popular_query_or_the_collection_s_own_words(
    client: TestClient,
) -> None:
    for session in ("s1", "s2", "s3"):
        _search(client, "floor lamp", session)
    client.portal.call(client.app.state.services.query.log.flush)  # type: ignore[attr-defined]

    page = client.get("/r/shop", params={"query": "flor lanp"})
    assert "No results" in page.text
    assert 'class="did-you-mean">floor lamp</a>' in page.text
    assert "query=floor+lamp" in page.text

    typo = client.get("/r/shop", params={"query": "lanp"})  # too short for the engine's typos
    assert 'class="did-you-mean">lamp</a>' in typo.text

    nothing_near = client.get("/r/shop", params={"query": "zzzz qqqq"})
    assert "No results" in nothing_near.text
    assert "did-you-mean" not in nothing_near.text

    found = client.get("/r/shop", params={"query": "lamp"})
    assert "did-you-mean" not in found.text


def test_suggestions_have_a_window_of_their_own_beside_the_tier(client: TestClient) -> None:
    """Typing never spends the searches a retriever's tier allows: suggestions count in a
    window of their own, per address."""
    retriever_id = client.shop_id  # type: ignore[attr-defined]
    patched = client.patch(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"rate_limit_config": {"requests_per_minute": 2}},
    )
    assert patched.status_code == 200, patched.text
    for _ in range(5):
        typed = client.get("/v1/public/retrievers/shop/typeahead", params={"q": "de"})
        assert typed.status_code == 200, typed.text
    assert "r=115" in typed.headers["RateLimit"]  # 120 a minute, 5 spent
    for _ in range(2):
        _search(client, "desk", "one")
    refused = client.post("/v1/public/retrievers/shop/execute", json={"inputs": {"query": "x"}})
    assert refused.status_code == 429
    for _ in range(115):
        assert client.get("/v1/public/retrievers/shop/typeahead", params={"q": "de"}).is_success
    over = client.get("/v1/public/retrievers/shop/typeahead", params={"q": "de"})
    assert over.status_code == 429
    assert "Too many suggestions" in over.text
