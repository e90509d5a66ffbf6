"""A page of three tabs in Chromium: the tabs in the URL with and without JavaScript, the
keyboard of the WAI-ARIA tabs pattern, axe on a phone and a desktop, and screenshots."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import SCREENSHOTS, owner_headers
from tests.page_sites import build
from tests.servers import LiveServer, free_port
from tests.web import test_accessibility, test_browser

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
_clean_cache = test_browser._clean_cache

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page "everything": three tabs (a shop, a help centre, staff notes behind a
    password), the All tab, and a hero, stats and a markdown panel around them."""
    port = free_port()
    url = f"http://localhost:{port}"
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("tab-pages"),
        public_url=url,
        api_keys=["acme:test-owner-key-0123456789"],
        upstream_allow=["127.0.0.1"],
    )
    with LiveServer(create_app(settings), port=port, host="localhost"):
        with httpx.Client(base_url=url) as client:
            ids = build(client)
            three = client.patch(
                f"/v1/pages/{ids['page']}",
                headers=owner_headers(),
                json={
                    "tabs": [
                        {"tab_id": "products", "label": "Products", "retriever_id": ids["shop"]},
                        {"tab_id": "help", "label": "Help", "retriever_id": ids["help-centre"]},
                        {"tab_id": "staff", "label": "Staff", "retriever_id": ids["locked"]},
                    ],
                    "all_tab": {"enabled": True},
                    "hero": {"headline": "Everything we have", "subheadline": "One search box"},
                    "stats": [
                        {"label": "Products", "tab_id": "products"},
                        {"label": "Answers", "value": "2"},
                    ],
                    "sections": [
                        {"type": "hero"},
                        {"type": "stats-bar"},
                        {"type": "search-tabs"},
                        {
                            "type": "markdown-content",
                            "props": {"title": "About", "markdown": "Ask us **anything**."},
                        },
                    ],
                },
            )
            assert three.status_code == 200, three.text
        yield url


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_the_tabs_are_links_without_javascript(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(java_script_enabled=False, viewport=DESKTOP)
    page.goto(f"{server}/p/everything?query=lamp")
    assert page.locator("[role=tab][aria-selected=true]").inner_text() == "Products"
    page.click("[role=tab]:has-text('Help')")
    page.wait_for_url("**tab=help**")
    assert query_of(page.url) == {"tab": ["help"], "query": ["lamp"]}
    assert sorted(page.locator(".card .title").all_inner_texts()) == ["Fixing a lamp", "Returns"]
    page.fill("#in-query", "returns")
    page.press("#in-query", "Enter")
    page.wait_for_url("**query=returns**")
    assert query_of(page.url) == {"tab": ["help"], "query": ["returns"]}
    assert page.locator(".card .title").all_inner_texts() == ["Returns"]
    page.screenshot(path=str(SCREENSHOTS / "tab-page-no-script.png"))


def test_the_tabs_with_the_script_keep_the_typed_query(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport=DESKTOP)
    page.goto(f"{server}/p/everything?tab=products")
    page.fill("#in-query", "mug")
    page.wait_for_url("**query=mug**")  # search as one types, the URL kept up to date
    assert query_of(page.url) == {"tab": ["products"], "query": ["mug"]}
    assert page.locator(".card .title").all_inner_texts() == ["Travel mug"]
    # The keyboard of the tabs pattern: arrows move between tabs, Enter opens one.
    page.focus("[role=tab][aria-selected=true]")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.textContent") == "Help"
    page.keyboard.press("End")
    assert page.evaluate("document.activeElement.textContent") == "Staff"
    page.keyboard.press("Home")
    assert page.evaluate("document.activeElement.textContent").startswith("All")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_url("**tab=help**")
    assert query_of(page.url) == {"tab": ["help"], "query": ["mug"]}
    page.click("[role=tab]:has-text('All')")
    page.wait_for_url("**tab=all**")
    assert query_of(page.url) == {"tab": ["all"], "query": ["mug"]}
    assert page.locator(".card .title").all_inner_texts() == ["Travel mug"]


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("state", ["products", "all", "staff"])
def test_no_accessibility_violations(
    server: str, open_page: Callable[..., Any], axe_source: str, device: str, state: str
) -> None:
    options = {"viewport": DESKTOP} if device == "desktop" else PHONE
    page = open_page(bypass_csp=True, **options)
    page.goto(f"{server}/p/everything?tab={state}&query=lamp")
    page.wait_for_load_state("networkidle")
    assert violations(page, axe_source) == []


def test_screenshots_of_a_three_tab_page(server: str, open_page: Callable[..., Any]) -> None:
    desktop = open_page(viewport=DESKTOP)
    desktop.goto(f"{server}/p/everything?tab=all&query=lamp")
    desktop.wait_for_load_state("networkidle")
    desktop.screenshot(path=str(SCREENSHOTS / "tab-page-desktop.png"), full_page=True)
    phone = open_page(**PHONE)
    phone.goto(f"{server}/p/everything?tab=products&query=lamp")
    phone.wait_for_load_state("networkidle")
    phone.screenshot(path=str(SCREENSHOTS / "tab-page-phone.png"), full_page=True)
    assert Path(SCREENSHOTS / "tab-page-phone.png").stat().st_size > 0


def test_embed_js_frames_a_page_and_follows_its_height(
    server: str, tmp_path: Path, open_page: Callable[..., Any]
) -> None:
    port = free_port()
    (tmp_path / "host.html").write_text(
        '<!doctype html><html><head><title>Host</title><link rel="icon" href="data:,">'
        "</head><body><h1>Host site</h1>"
        f'<script src="{server}/embed.js" data-page="everything" data-height="300"></script>'
        "</body></html>"
    )
    with ThreadingHTTPServer(
        ("127.0.0.1", port),
        partial(test_browser._QuietHandler, directory=str(tmp_path)),
    ) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            page = open_page(viewport=DESKTOP)
            page.goto(f"http://localhost:{port}/host.html")
            frame = page.wait_for_selector("iframe").content_frame()
            assert frame is not None
            frame.wait_for_selector("[role=tablist]")
            assert "/p/everything/embed" in frame.url
            assert frame.locator(".bar").count() == 0  # no site chrome in the embed
            page.wait_for_function("document.querySelector('iframe').offsetHeight > 400")
        finally:
            httpd.shutdown()
