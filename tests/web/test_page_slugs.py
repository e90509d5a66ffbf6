"""A retriever published under a page's slug: refused (409) saying that a page of tabs is
there and what to do, in the availability call too; except the retriever whose own
single-tab page is there, which takes its name back when published again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, owner_headers
from tests.page_sites import build, shop_page
from tests.web.test_console_editor import new_retriever


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def publish(client: TestClient, retriever_id: str, name: str) -> tuple[int, str]:
    answer = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"public_name": name, "display_config": browse_config(field_config={})},
    )
    return answer.status_code, answer.json().get("error", {}).get("message", "")


def available(client: TestClient, retriever_id: str, name: str) -> dict[str, object]:
    answer = client.get(
        f"/v1/retrievers/{retriever_id}/publish/availability?name={name}",
        headers=owner_headers(),
    )
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


def test_publishing_under_a_pages_slug_is_refused_saying_why(client: TestClient) -> None:
    build(client)  # the page "everything"
    third = new_retriever(client, "third")
    status, message = publish(client, third, "everything")
    assert status == 409
    assert "'everything' is the slug of a page of tabs (/p/everything)" in message
    assert "change the page's slug" in message
    told = available(client, third, "everything")
    assert told["available"] is False
    assert "slug of a page of tabs" in str(told["reason"])
    # The page is untouched, and a name a retriever holds still says so as before.
    assert client.get("/p/everything").status_code == 200
    status, message = publish(client, third, "shop")
    assert status == 409
    assert "'shop' is taken" in message


def test_a_retriever_takes_back_the_slug_of_its_own_single_tab_page(client: TestClient) -> None:
    ids = build(client)
    shop_page(client, ids["shop"])
    client.delete(f"/v1/retrievers/{ids['shop']}/publish", headers=owner_headers())
    # Unpublished, its page says why in the tab; another retriever may not take the slug.
    assert "not published" in client.get("/p/shop").text
    third = new_retriever(client, "third")
    assert publish(client, third, "shop")[0] == 409
    assert available(client, ids["shop"], "shop")["available"] is True
    status, message = publish(client, ids["shop"], "shop")
    assert status == 200, message
    assert client.get("/r/shop?query=lamp").status_code == 200
    page = client.get("/p/shop?query=lamp")
    assert '<h1 id="page-title">Our shop</h1>' in page.text  # the stored page stays in front
    assert "Desk <mark>lamp</mark>" in page.text
