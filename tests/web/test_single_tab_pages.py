"""Publishing a retriever makes its single-tab page at /p/{public_name} (a setting, on by
default), so that a link to either address keeps working; a page of that slug replaces it."""

from __future__ import annotations

from collections.abc import Callable

from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import owner_headers
from tests.page_sites import build, shop_page
from tests.web.test_tab_pages import tabs_of, titles


def test_a_published_retriever_is_also_its_single_tab_page(client: TestClient) -> None:
    ids = build(client)
    page = client.get("/p/shop?query=lamp")
    assert page.status_code == 200, page.text
    assert tabs_of(page.text) == []  # one tab: no tab list
    assert 'aria-label="Search"' in page.text
    assert sorted(titles(page.text)) == ["Desk lamp", "Floor lamp"]
    assert sorted(titles(client.get("/r/shop?query=lamp").text)) == ["Desk lamp", "Floor lamp"]
    # The public call answers for it too.
    found = client.post("/v1/public/pages/shop/search", json={"query": "mug"}).json()
    assert [m["document"]["document_id"] for m in found["merged"]] == ["p3"]
    # Unpublished, both addresses go.
    client.delete(f"/v1/retrievers/{ids['shop']}/publish", headers=owner_headers())
    assert client.get("/p/shop").status_code == 404
    assert client.get("/r/shop").status_code == 404


def test_a_page_of_that_slug_takes_its_place(client: TestClient) -> None:
    ids = build(client)
    shop_page(client, ids["shop"], tab_id="all-products")
    page = client.get("/p/shop?query=lamp")
    assert '<h1 id="page-title">Our shop</h1>' in page.text
    assert '<input type="hidden" name="tab" value="all-products">' in page.text


def test_the_setting_turns_them_off(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(single_tab_pages=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        build(client)
        assert client.get("/p/shop").status_code == 404
        assert client.get("/p/everything").status_code == 200
