"""The "All" tab of a page: one query to every tab's retriever at once, merged by reciprocal
rank or shown in groups, counts on the tab labels, each tab counted in its own limits and its
failure kept to its own group."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import owner_headers
from tests.page_sites import SECRET, build
from tests.web.test_tab_pages import tabs_of, titles


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def counts(html: str) -> dict[str, str]:
    found = re.findall(
        r'<a role="tab" id="tab-([^"]+)"[^>]*>[^<]*<span class="tab-count">([\d,]+)<', html
    )
    return dict(found)


def test_the_merged_tab_comes_first_and_merges_every_open_tab(client: TestClient) -> None:
    build(client, all_tab={"enabled": True})
    page = client.get("/p/everything?tab=all&query=lamp")
    assert page.status_code == 200, page.text
    tabs = tabs_of(page.text)
    assert tabs[0] == ("All", "/p/everything?tab=all&query=lamp", "true")
    assert [t[0] for t in tabs[1:]] == ["Products", "Help", "Staff", "Partners"]
    # Ranks 1 of the shop and the help centre first (tied: the page's order), then ranks 2.
    assert titles(page.text) == ["Desk lamp", "Fixing a lamp", "Floor lamp", "Returns"]
    assert counts(page.text) == {"all": "4", "products": "2", "help": "2"}
    # The tabs that could not answer say why, and blank nothing.
    problems = re.search(r'<ul class="tab-problems">(.*?)</ul>', page.text, re.S)
    assert problems is not None
    assert "<strong>Staff:</strong>" in problems.group(1)
    assert "password" in problems.group(1).lower()
    assert "<strong>Partners:</strong>" in problems.group(1)
    # The first visit to the page shows the tabs, and the first tab.
    first = client.get("/p/everything")
    assert tabs_of(first.text)[1][2] == "true"


def test_groups_show_each_tab_with_a_link_to_see_all(client: TestClient) -> None:
    build(client, all_tab={"enabled": True, "mode": "grouped", "per_tab": 1, "label": "Both"})
    page = client.get("/p/everything?tab=all&query=lamp")
    assert page.status_code == 200
    assert tabs_of(page.text)[0][0] == "Both"
    groups = re.findall(r'<h2 id="group-([^"]+)">', page.text)
    assert groups == ["products", "help", "staff", "partners"]
    assert titles(page.text) == ["Desk lamp", "Fixing a lamp"]
    see_all = re.findall(r'<a class="see-all" href="([^"]+)">([^<]+)</a>', page.text)
    assert see_all == [
        ("/p/everything?tab=products&amp;query=lamp", "See all 2 in Products"),
        ("/p/everything?tab=help&amp;query=lamp", "See all 2 in Help"),
    ]
    staff = page.text.split('id="group-staff"')[1].split("</section>")[0]
    assert 'class="error"' in staff


def test_each_tab_of_the_merged_search_counts_in_its_own_limits(client: TestClient) -> None:
    ids = build(client, all_tab={"enabled": True})
    limited = client.patch(
        f"/v1/retrievers/{ids['shop']}/publish",
        headers=owner_headers(),
        json={"rate_limit_config": {"tier": "standard", "requests_per_minute": 1}},
    )
    assert limited.status_code == 200
    assert "Desk lamp" in titles(client.get("/p/everything?tab=all&query=lamp").text)
    again = client.get("/p/everything?tab=all&query=lamp")
    assert again.status_code == 200
    assert titles(again.text) == ["Fixing a lamp", "Returns"]  # the help centre still answers
    assert "<strong>Products:</strong>" in again.text
    assert "Too many searches" in again.text
    # The shop's own page is over its limit too: one window for every surface.
    assert client.get("/r/shop?query=lamp").status_code == 429


def test_the_merged_tab_shows_no_hidden_field(client: TestClient) -> None:
    build(client, all_tab={"enabled": True})
    for mode in ("merged", "grouped"):
        client.patch(
            "/v1/pages/everything",
            headers=owner_headers(),
            json={"all_tab": {"enabled": True, "mode": mode}},
        )
        page = client.get("/p/everything?tab=all&query=lamp")
        assert "Desk lamp" in titles(page.text)
        assert SECRET not in page.text
        assert "supplier" not in page.text


def test_the_merged_tab_answers_its_script_with_results_alone(client: TestClient) -> None:
    build(client, all_tab={"enabled": True})
    partial = client.get("/p/everything?tab=all&query=returns", headers={"X-Partial": "results"})
    assert partial.status_code == 200
    assert "<html" not in partial.text
    assert titles(partial.text) == ["Returns"]
    empty = client.get("/p/everything?tab=all")
    assert "Enter a search to look in every tab at once." in empty.text


def test_without_an_all_tab_its_key_is_no_tab(client: TestClient) -> None:
    build(client)
    assert client.get("/p/everything?tab=all&query=lamp").status_code == 404
