"""The pages of tabs with a store down. PostgreSQL stopped: the owner API of pages, the page at
/p/{slug} and its embed, the public search of a page and the console's Tabbed pages screens
each answer a 503 that says the store is not answering, with when to ask again, and all is back
once it is. Redis stopped under `rate_limit_on_failure = "refuse"`: the page says its limits
cannot be checked (503), and the public search tells it in each limited tab's answer."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import OWNER_KEY, owner_headers
from tests.page_sites import build
from tests.servers import PostgresServer, RedisServer
from tests.web.test_console import csrf, sign_in

SEARCH = "/v1/public/pages/everything/search"
NOT_ANSWERING = "The store is not answering; try again shortly."
LIMITS_DOWN = "Rate limits cannot be checked right now; try again shortly."


def main_text(response: Any) -> str:
    """The words of a page's <main>, as a reader sees them."""
    found = re.search(r"<main.*?</main>", response.text, re.S)
    assert found, response.text[:300]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found[0]))).strip()


def api_calls(client: TestClient, ids: dict[str, str]) -> dict[str, Any]:
    """The owner API of pages and the public search, each once."""
    page, headers = ids["page"], owner_headers()
    tab = {"tab_id": "p", "label": "P", "retriever_id": ids["shop"]}
    return {
        "list": client.get("/v1/pages", headers=headers),
        "get": client.get(f"/v1/pages/{page}", headers=headers),
        "create": client.post(
            "/v1/pages",
            headers=headers,
            json={"slug": "more", "meta": {"title": "More"}, "tabs": [tab]},
        ),
        "change": client.patch(
            f"/v1/pages/{page}", headers=headers, json={"meta": {"title": "Changed"}}
        ),
        "delete": client.delete(f"/v1/pages/{page}", headers=headers),
        "search": client.post(SEARCH, json={"query": "lamp"}),
        "search one tab": client.post(SEARCH, json={"tab_id": "products", "query": "lamp"}),
    }


def page_calls(client: TestClient, ids: dict[str, str], token: str) -> dict[str, Any]:
    """The public page, a tab of it and its embed; the console's Tabbed pages screens."""
    page = ids["page"]
    return {
        "page": client.get("/p/everything", params={"query": "lamp"}),
        "tab": client.get("/p/everything", params={"tab": "help", "query": "lamp"}),
        "embed": client.get("/p/everything/embed", params={"query": "lamp"}),
        "console list": client.get("/console/pages"),
        "console new": client.get("/console/pages/new"),
        "console form": client.get(f"/console/pages/{page}"),
        "console save": client.post(
            "/console/pages/new", data={"csrf": token, "slug": "more", "title": "More"}
        ),
        "console delete": client.post(f"/console/pages/{page}/delete", data={"csrf": token}),
    }


def test_postgres_stopped_every_pages_surface_answers_503_then_all_is_back(
    make_settings: Callable[..., Settings], postgres_server: PostgresServer
) -> None:
    settings = make_settings(database_url=postgres_server.url, upstream_allow=["127.0.0.1"])
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        ids = build(client)
        sign_in(client, OWNER_KEY)
        token = csrf(client)
        postgres_server.stop()
        try:
            for name, answer in api_calls(client, ids).items():
                assert answer.status_code == 503, (name, answer.text[:300])
                assert int(answer.headers["retry-after"]) > 0, name
                error = answer.json()["error"]
                assert error["type"] == "store_unavailable", name
                assert error["message"] == NOT_ANSWERING, name
                assert error["details"] == {"reason": "not_answering"}, name
            for name, answer in page_calls(client, ids, token).items():
                assert answer.status_code == 503, (name, answer.text[:300])
                assert int(answer.headers["retry-after"]) > 0, name
                assert answer.headers["content-type"].startswith("text/html"), name
                assert NOT_ANSWERING in main_text(answer), name
                if name.startswith("console"):
                    assert "<h1>Not answering</h1>" in answer.text, name
        finally:
            postgres_server.start()
        # Back, with nothing the refused calls sent written.
        listed = client.get("/v1/pages", headers=owner_headers())
        assert listed.status_code == 200, listed.text
        assert [p["slug"] for p in listed.json()["results"]] == ["everything"]
        assert listed.json()["results"][0]["meta"]["title"] == "Everything we have"
        assert client.get("/p/everything", params={"query": "lamp"}).status_code == 200
        found = client.post(SEARCH, json={"query": "lamp"})
        assert found.status_code == 200, found.text
        assert "Everything we have" in client.get("/console/pages").text


def test_redis_stopped_under_refuse_the_page_says_its_limits_cannot_be_checked(
    make_settings: Callable[..., Settings], redis_server: RedisServer
) -> None:
    settings = make_settings(
        rate_limit_storage=redis_server.url,
        rate_limit_on_failure="refuse",
        upstream_allow=["127.0.0.1"],
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        ids = build(client)
        for name in ("shop", "help-centre"):  # counted, so Redis is asked
            limited = client.patch(
                f"/v1/retrievers/{ids[name]}/publish",
                headers=owner_headers(),
                json={"rate_limit_config": {"tier": "standard", "requests_per_minute": 100}},
            )
            assert limited.status_code == 200, limited.text
        assert client.get("/p/everything", params={"query": "lamp"}).status_code == 200
        redis_server.stop()
        for params in ({"query": "lamp"}, {"tab": "help", "query": "lamp"}):
            for path in ("/p/everything", "/p/everything/embed"):
                answer = client.get(path, params=params)
                assert answer.status_code == 503, (path, params, answer.text[:300])
                assert LIMITS_DOWN in main_text(answer)
        # The call answers each tab in its own terms: the counted ones say why they cannot.
        for body in ({"query": "lamp"}, {"tab_id": "products", "query": "lamp"}):
            answer = client.post(SEARCH, json=body)
            assert answer.status_code == 200, answer.text
            counted = [t for t in answer.json()["tabs"] if t["tab_id"] in ("products", "help")]
            assert counted
            for tab in counted:
                assert tab["status"] == "error"
                assert tab["documents"] == []
                assert tab["error"] == {
                    "status": 503,
                    "type": "rate_limits_unavailable",
                    "message": LIMITS_DOWN,
                }
            assert answer.json()["merged"] == []
        # The owner's side does not count requests: it goes on.
        assert client.get("/v1/pages", headers=owner_headers()).status_code == 200
