"""The search page drawn from a frame kept per config version (app/web/templates.py `kept`,
`framed`): with the store and engine down it is the 503 page that says so, and the frame kept
from before never outlives its config: a change published here, a rollback, or a change made
by another process shows on the next page (the other's within the catalog's refresh)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.services.catalog import CACHE_SECONDS
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, local_backend, owner_headers, publish_backend
from tests.servers import PostgresServer, RedisServer

DOCUMENTS = [
    {"document_id": f"d{n}", "title": f"Desk lamp {n}", "description": "A warm light to read by"}
    for n in range(6)
]
NOT_ANSWERING = "The store is not answering; try again shortly."
LIMITS_DOWN = "Rate limits cannot be checked right now; try again shortly."
# Another process's change is seen within the catalog's refresh: this is well past it.
FOLLOW_WITHIN_SECONDS = CACHE_SECONDS + 5


def _config(title: str, panel: str, colour: str) -> dict[str, Any]:
    config = browse_config(exposed_fields=["title", "description"], field_config={})
    return {
        **config,
        "title": title,
        "description": f"{title}, described",
        "markdowns": [{"title": panel, "content": f"All about **{panel}**."}],
        "theme": {"primary_color": colour},
        "components": {},
    }


OLD = _config("Lamps of old", "Old panel", "#112233")
NEW = _config("Lights anew", "New panel", "#445566")


def _stock(client: TestClient) -> str:
    upload = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": DOCUMENTS}
    )
    assert upload.status_code == 200, upload.text
    return publish_backend(client, "lamps", local_backend(), OLD)


def _change(client: TestClient, retriever_id: str, config: dict[str, Any]) -> None:
    changed = client.patch(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"display_config": config},
    )
    assert changed.status_code == 200, changed.text


def _shows(page: Any, config: dict[str, Any]) -> bool:
    """Whether a page is the one drawn from `config`, head, hero, panels and theme, and holds
    nothing of the other config's."""
    assert page.status_code == 200, page.text[:300]
    other = NEW if config is OLD else OLD
    text = page.text
    mine = [config["title"], config["markdowns"][0]["title"], config["theme"]["primary_color"]]
    theirs = [other["title"], other["markdowns"][0]["title"], other["theme"]["primary_color"]]
    return all(m in text for m in mine) and not any(t in text for t in theirs)


PATHS = ("/r/lamps", "/r/lamps/embed")


def _pages(client: TestClient, query: str = "lamp") -> list[Any]:
    return [client.get(path, params={"query": query}) for path in PATHS]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_a_published_change_shows_on_the_next_page(client: TestClient) -> None:
    rid = _stock(client)
    for _ in range(2):  # the second drawn from the kept frame
        assert all(_shows(page, OLD) for page in _pages(client))
    _change(client, rid, NEW)
    for query in ("lamp", "desk", ""):
        pages = _pages(client, query)
        assert all(_shows(page, NEW) for page in pages), query
    # The results in the frame's gap are this request's, whatever the frame.
    assert "Desk <mark>lamp</mark> <mark>3</mark>" in _pages(client, "lamp 3")[0].text


def test_a_rollback_shows_the_old_version_again(client: TestClient) -> None:
    rid = _stock(client)
    assert all(_shows(page, OLD) for page in _pages(client))
    _change(client, rid, NEW)
    assert all(_shows(page, NEW) for page in _pages(client))
    versions = client.get(f"/v1/retrievers/{rid}/versions", headers=owner_headers())
    assert versions.status_code == 200, versions.text
    numbers = sorted(v["number"] for v in versions.json()["results"])
    rolled = client.post(
        f"/v1/retrievers/{rid}/versions/{numbers[0]}/rollback", headers=owner_headers()
    )
    assert rolled.status_code == 200, rolled.text
    assert all(_shows(page, OLD) for page in _pages(client))


def test_a_page_turned_off_or_unpublished_is_gone_at_the_next_request(
    client: TestClient,
) -> None:
    rid = _stock(client)
    assert all(_shows(page, OLD) for page in _pages(client))
    off = client.patch(
        f"/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"is_active": False}
    )
    assert off.status_code == 200, off.text
    for page in _pages(client):
        assert page.status_code == 404, page.text[:300]
        assert OLD["title"] not in page.text
    on = client.patch(
        f"/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"is_active": True}
    )
    assert on.status_code == 200, on.text
    assert all(_shows(page, OLD) for page in _pages(client))
    gone = client.delete(f"/v1/retrievers/{rid}/publish", headers=owner_headers())
    assert gone.status_code == 200, gone.text
    for page in _pages(client):
        assert page.status_code == 404, page.text[:300]
        assert OLD["title"] not in page.text


def test_another_processs_change_shows_within_the_catalogs_refresh(
    settings: Settings, client: TestClient
) -> None:
    rid = _stock(client)
    assert all(_shows(page, OLD) for page in _pages(client))
    with TestClient(create_app(settings), raise_server_exceptions=False) as other:
        _change(other, rid, NEW)
    deadline = time.monotonic() + FOLLOW_WITHIN_SECONDS
    while not all(_shows(page, NEW) for page in _pages(client)):
        assert time.monotonic() < deadline, "the old frame outlived its config"
        time.sleep(0.1)


def test_the_store_and_engine_down_the_page_is_the_503_page(
    make_settings: Callable[..., Settings], postgres_server: PostgresServer
) -> None:
    settings = make_settings(database_url=postgres_server.url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        _stock(client)
        for _ in range(2):
            assert all(_shows(page, OLD) for page in _pages(client))
        postgres_server.stop()
        try:
            for _ in range(2):
                for query in ("lamp", ""):
                    for page in _pages(client, query):
                        assert page.status_code == 503, page.text[:300]
                        assert int(page.headers["retry-after"]) > 0
                        assert page.headers["content-type"].startswith("text/html")
                        assert NOT_ANSWERING in page.text
                        assert "Traceback" not in page.text
                        # No result from before: the store cannot say what there is.
                        assert not re.search(r"Desk (<mark>)?lamp", page.text)
        finally:
            postgres_server.start()
        pages = _pages(client)
        assert all(_shows(page, OLD) for page in pages)
        assert "Desk <mark>lamp</mark>" in pages[0].text


def test_rate_limits_that_cannot_be_checked_the_page_says_so_and_when_to_ask_again(
    make_settings: Callable[..., Settings], redis_server: RedisServer
) -> None:
    settings = make_settings(rate_limit_storage=redis_server.url, rate_limit_on_failure="refuse")
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        rid = _stock(client)
        limited = client.patch(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={"rate_limit_config": {"tier": "standard", "requests_per_minute": 1000}},
        )
        assert limited.status_code == 200, limited.text
        assert all(_shows(page, OLD) for page in _pages(client))
        redis_server.stop()
        try:
            for page in _pages(client):
                assert page.status_code == 503, page.text[:300]
                assert page.headers["content-type"].startswith("text/html")
                assert LIMITS_DOWN in page.text
                wait = int(page.headers["retry-after"])
                assert wait > 0
        finally:
            redis_server.start()
        time.sleep(wait)  # as told
        assert all(_shows(page, OLD) for page in _pages(client))
