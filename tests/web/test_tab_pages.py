"""`/p/{slug}` without JavaScript: the tabs are links (the WAI-ARIA tabs pattern), the tab and
the query are in the URL, each tab is its retriever's own page (its limits, its password), and
a tab that cannot answer says why while the others answer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import owner_headers
from tests.page_sites import PASSWORD, SECRET, build, config


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def ids(client: TestClient) -> dict[str, str]:
    return build(client)


def tabs_of(html: str) -> list[tuple[str, str, str]]:
    """(label, href, aria-selected) of each tab."""
    found = re.findall(
        r'<a role="tab" id="tab-[^"]+" href="([^"]+)" aria-selected="(true|false)"[^>]*>([^<]+)',
        html,
    )
    return [
        (label.strip(), href.replace("&amp;", "&"), selected) for href, selected, label in found
    ]


def titles(html: str) -> list[str]:
    found = re.findall(r'<h2 class="title">(.*?)</h2>', html)
    return [re.sub(r"<[^>]+>", "", title) for title in found]


def test_the_first_tab_opens_and_every_tab_is_a_link(
    client: TestClient, ids: dict[str, str]
) -> None:
    page = client.get("/p/everything?query=lamp")
    assert page.status_code == 200, page.text
    assert tabs_of(page.text) == [
        ("Products", "/p/everything?tab=products&query=lamp", "true"),
        ("Help", "/p/everything?tab=help&query=lamp", "false"),
        ("Staff", "/p/everything?tab=staff&query=lamp", "false"),
        ("Partners", "/p/everything?tab=partners&query=lamp", "false"),
    ]
    assert 'role="tabpanel" aria-labelledby="tab-products"' in page.text
    assert '<input type="hidden" name="tab" value="products">' in page.text
    assert sorted(titles(page.text)) == ["Desk lamp", "Floor lamp"]
    assert "<title>Everything we have: Products</title>" in page.text


def test_the_tab_and_query_in_the_url_open_that_tab(
    client: TestClient, ids: dict[str, str]
) -> None:
    page = client.get("/p/everything?tab=help&query=lamp")
    assert page.status_code == 200
    assert [t[2] for t in tabs_of(page.text)] == ["false", "true", "false", "false"]
    assert sorted(titles(page.text)) == ["Fixing a lamp", "Returns"]
    # The results alone, for the page's script.
    partial = client.get("/p/everything?tab=help&query=returns", headers={"X-Partial": "results"})
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert titles(partial.text) == ["Returns"]
    assert client.get("/p/everything?tab=nope").status_code == 404
    assert client.get("/p/nowhere").status_code == 404


def test_a_protected_tab_asks_for_its_password_in_the_page(
    client: TestClient, ids: dict[str, str]
) -> None:
    page = client.get("/p/everything?tab=staff&query=lamp")
    assert page.status_code == 200
    assert len(tabs_of(page.text)) == 4  # the other tabs stay there, and open
    assert 'action="/r/locked/unlock"' in page.text
    assert "Staff is protected by a password. The other tabs are open." in page.text
    assert "Fixing a lamp" not in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    target = re.search(r'name="next" value="([^"]+)"', page.text)
    assert token
    assert target
    assert target.group(1).replace("&amp;", "&") == "/p/everything?tab=staff&query=lamp"
    unlocked = client.post(
        "/r/locked/unlock",
        data={
            "token": token.group(1),
            "next": "/p/everything?tab=staff&query=lamp",
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert unlocked.status_code == 303
    assert unlocked.headers["location"] == "/p/everything?tab=staff&query=lamp"
    cookie = unlocked.headers["set-cookie"].split(";")[0]  # Secure: the test client is http
    opened = client.get(unlocked.headers["location"], headers={"Cookie": cookie})
    assert sorted(titles(opened.text)) == ["Fixing a lamp", "Returns"]
    # Open tabs never needed it.
    assert client.get("/p/everything?tab=help&query=lamp").status_code == 200


def test_a_tab_whose_upstream_is_down_says_why_and_the_others_answer(
    client: TestClient, ids: dict[str, str]
) -> None:
    page = client.get("/p/everything?tab=partners&query=lamp")
    assert page.status_code in (502, 503, 504)
    assert len(tabs_of(page.text)) == 4
    assert re.search(r'<span class="error">[^<]+</span>', page.text)
    assert client.get("/p/everything?tab=products&query=lamp").status_code == 200


def test_an_unpublished_tab_says_so_and_the_others_answer(
    client: TestClient, ids: dict[str, str]
) -> None:
    gone = client.delete(f"/v1/retrievers/{ids['help-centre']}/publish", headers=owner_headers())
    assert gone.status_code == 200
    page = client.get("/p/everything?tab=help&query=lamp")
    assert page.status_code == 200
    assert "not published" in page.text
    assert "The other tabs still answer." in page.text
    assert len(tabs_of(page.text)) == 4
    other = client.get("/p/everything?tab=products&query=lamp")
    assert sorted(titles(other.text)) == ["Desk lamp", "Floor lamp"]
    # The page's script, asking for results alone, is sent to the whole page.
    partial = client.get("/p/everything?tab=help&query=x", headers={"X-Partial": "results"})
    assert partial.status_code == 404


def test_each_tab_counts_in_its_own_retrievers_limits(
    client: TestClient, ids: dict[str, str]
) -> None:
    limited = client.patch(
        f"/v1/retrievers/{ids['shop']}/publish",
        headers=owner_headers(),
        json={"rate_limit_config": {"tier": "standard", "requests_per_minute": 2}},
    )
    assert limited.status_code == 200
    for n in range(2):
        assert client.get(f"/p/everything?tab=products&query=lamp{n}").status_code == 200
    refused = client.get("/p/everything?tab=products&query=lamp")
    assert refused.status_code == 429
    assert "Too many searches just now." in refused.text
    assert len(tabs_of(refused.text)) == 4
    # The help centre's limits are its own.
    assert client.get("/p/everything?tab=help&query=lamp").status_code == 200
    # And the shop's own page shares the shop's.
    assert client.get("/r/shop?query=lamp").status_code == 429


def test_paging_and_suggestions_keep_the_tab(client: TestClient, ids: dict[str, str]) -> None:
    page = client.get("/p/everything?tab=help&query=lamp&page=1")
    for href in re.findall(r'href="(\?[^"]*)"', page.text):
        assert "tab=help" in href.replace("&amp;", "&")


def test_a_hidden_field_never_reaches_any_tab(client: TestClient, ids: dict[str, str]) -> None:
    for tab in ("products", "help", "staff", "partners"):
        page = client.get(f"/p/everything?tab={tab}&query=lamp")
        assert SECRET not in page.text
        assert "supplier" not in page.text


def test_the_embed_has_no_site_chrome_and_keeps_its_tabs(
    client: TestClient, ids: dict[str, str]
) -> None:
    embed = client.get("/p/everything/embed?tab=help&query=lamp")
    assert embed.status_code == 200
    assert '<header class="bar">' not in embed.text
    assert tabs_of(embed.text)[0][1] == "/p/everything/embed?tab=products&query=lamp"
    assert "frame-ancestors 'self'" in embed.headers["content-security-policy"]


def test_the_embed_is_framed_only_where_every_tab_may_be(client: TestClient) -> None:
    ids = build(client, all_tab={"enabled": True})
    # The shop allows a site of its own and localhost; the other tabs, localhost and 127.0.0.1.
    shop = config("Shop")
    shop["extensions"] = {"frame_ancestors": ["https://shop.example", "http://localhost:*"]}
    changed = client.patch(
        f"/v1/retrievers/{ids['shop']}/publish",
        headers=owner_headers(),
        json={"display_config": shop},
    )
    assert changed.status_code == 200, changed.text
    for tab in ("products", "help", "staff", "all"):
        for origin in ("http://localhost:8000", "http://127.0.0.1:8000", "https://shop.example"):
            embed = client.get(f"/p/everything/embed?tab={tab}&query=lamp&origin={origin}")
            policy = embed.headers["content-security-policy"]
            # Whichever tab is open: only where every tab's retriever allows it.
            assert policy.endswith("frame-ancestors 'self' http://localhost:*"), (tab, policy)
            if tab != "staff":  # (its password form has no results to post about)
                posts_to = f'data-parent-origin="{origin}"' in embed.text
                assert posts_to == (origin == "http://localhost:8000"), (tab, origin)
    # The shop's own page keeps its own list.
    own = client.get("/r/shop/embed?query=lamp").headers["content-security-policy"]
    assert own.endswith("frame-ancestors 'self' https://shop.example http://localhost:*")


def test_an_inactive_page_is_gone(client: TestClient, ids: dict[str, str]) -> None:
    off = client.patch(
        f"/v1/pages/{ids['page']}", headers=owner_headers(), json={"is_active": False}
    )
    assert off.status_code == 200
    assert client.get("/p/everything").status_code == 404
    assert client.get(f"/p/everything?query={quote('lamp')}").status_code == 404
