"""The console's Pages screens in Chromium: an editor makes a page of two tabs from the form
(a refusal shown beside its field first) and opens it at /p/{slug}; axe in light and dark on
the list and the form; screenshots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS
from tests.page_sites import build
from tests.servers import live_app
from tests.web import test_accessibility, test_browser
from tests.web.test_console_browser import DESKTOP, OWNER, signed_in

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The retrievers shop, help-centre, locked and broken, and the page "everything"."""
    data_dir = tmp_path_factory.mktemp("console-pages")
    with live_app(data_dir, api_keys=[OWNER], upstream_allow=["127.0.0.1"]) as url:
        with httpx.Client(base_url=url) as client:
            build(client)
        yield url


def tick(page: Any, name: str, label: str, key: str, order: str) -> None:
    row = page.locator("tbody tr", has=page.locator(f"span:text-is('{name}')"))
    row.locator("input[type=checkbox]").check()
    row.locator("input[name$='-label']").fill(label)
    row.locator("input[name$='-tab_id']").fill(key)
    row.locator("input[name$='-order']").fill(order)


def test_an_editor_makes_a_two_tab_page_and_opens_it(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = signed_in(open_page, server, OWNER.split(":", 1)[1], **DESKTOP)
    page.click("nav.tabs a:text-is('Tabbed pages')")
    page.wait_for_url(f"{server}/console/pages")
    page.click("a.button:text-is('New tabbed page')")
    page.fill("#slug", "shop")  # a retriever's public name: refused beside the field
    page.fill("#title", "Shop and help")
    tick(page, "shop", "Products", "products", "1")
    tick(page, "help-centre", "Help", "help", "2")
    page.check("input[name=all_enabled]")
    page.check("input[name=all_mode][value=grouped]")
    page.fill("#hero_headline", "Find it")
    page.fill("#stats", "Products: tab:products")
    page.fill("#markdown", "Ask us **anything**.")
    page.click("button:text-is('Create page')")
    assert "published retriever" in page.locator("#slug-error").inner_text()
    assert page.locator("#slug").get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(SCREENSHOTS / "console-page-refused.png"), full_page=True)
    page.fill("#slug", "shop-and-help")
    page.click("button:text-is('Create page')")
    page.wait_for_url(f"{server}/console/pages?done=*")
    assert page.locator("[role=status]").inner_text() == "Made the page shop-and-help."
    page.screenshot(path=str(SCREENSHOTS / "console-pages.png"), full_page=True)
    page.click("a:text-is('/p/shop-and-help')")
    page.wait_for_url(f"{server}/p/shop-and-help")
    tabs = page.locator("[role=tab]").all_inner_texts()
    assert [t.strip() for t in tabs] == ["All", "Products", "Help"]
    assert page.locator("h1").inner_text() == "Find it"
    page.click("[role=tab]:has-text('All')")
    page.wait_for_url("**tab=all**")
    page.fill("#in-query", "lamp")
    page.press("#in-query", "Enter")
    page.wait_for_url("**query=lamp**")
    page.locator("#group-help").wait_for()
    assert page.locator("#group-products").count() == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("screen", ["/console/pages", "/console/pages/new", "form-refused"])
def test_no_accessibility_violations(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str, screen: str
) -> None:
    page = signed_in(
        open_page, server, OWNER.split(":", 1)[1], bypass_csp=True, color_scheme=scheme, **DESKTOP
    )
    if screen == "form-refused":
        page.goto(f"{server}/console/pages/new")
        page.fill("#slug", "No Spaces")
        tick(page, "shop", "x" * 40, "all", "soon")
        page.click("button:text-is('Create page')")
        page.locator("#slug-error").wait_for()
    else:
        page.goto(f"{server}{screen}")
    assert violations(page, axe_source) == []
    if screen == "/console/pages/new" and scheme == "dark":
        page.screenshot(path=str(SCREENSHOTS / "console-page-form-dark.png"), full_page=True)
