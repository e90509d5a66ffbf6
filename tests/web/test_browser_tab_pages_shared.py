"""The All tab's shared inputs in Chromium, with and without JavaScript: one Kind list for both
tabs, the shop's own box saying it applies there only, the state in the URL, and axe."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS
from tests.page_shared_sites import build
from tests.servers import live_app
from tests.web import test_accessibility, test_browser
from tests.web.test_browser_tab_pages import DESKTOP, query_of

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
_clean_cache = test_browser._clean_cache


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("shared-inputs")
    with live_app(data_dir, api_keys=["acme:test-owner-key-0123456789"]) as url:
        with httpx.Client(base_url=url) as client:
            build(client)
        yield url


def groups(page: Any) -> dict[str, list[str]]:
    found = {}
    for key in ("products", "help"):
        found[key] = page.locator(f"#group-{key} ~ ol .title").all_inner_texts()
    return found


def test_shared_inputs_without_javascript(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(java_script_enabled=False, viewport=DESKTOP)
    page.goto(f"{server}/p/shared?tab=all")
    assert page.locator("#in-in_stock-help").inner_text() == "In stock: Applies to Products only."
    page.fill("#in-query", "lamp")
    page.select_option("#in-kind", "lamp")
    page.press("#in-query", "Enter")
    page.wait_for_url("**kind=lamp**")
    assert query_of(page.url) == {"tab": ["all"], "query": ["lamp"], "kind": ["lamp"]}
    assert groups(page) == {"products": ["Desk lamp", "Floor lamp"], "help": ["Fixing a lamp"]}
    page.click("[role=tab]:has-text('Help')")
    page.wait_for_url("**tab=help**")
    assert query_of(page.url) == {"tab": ["help"], "query": ["lamp"], "kind": ["lamp"]}
    assert page.locator(".card .title").all_inner_texts() == ["Fixing a lamp"]


def test_shared_inputs_with_javascript(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(viewport=DESKTOP)
    page.goto(f"{server}/p/shared?tab=all&query=lamp")
    page.select_option("#in-kind", "lamp")  # a list searches at once, in place
    page.wait_for_url("**kind=lamp**")
    page.check("#in-in_stock")
    page.wait_for_url("**in_stock=true**")
    page.wait_for_function("document.querySelectorAll('#group-products ~ ol .title').length == 1")
    assert groups(page) == {"products": ["Desk lamp"], "help": ["Fixing a lamp"]}
    # The tabs' counts follow the search made in place.
    counts = "[...document.querySelectorAll('[role=tab] .tab-count')].map(s => s.firstChild.data)"
    assert page.evaluate(counts) == ["2", "1", "1"]
    page.screenshot(path=str(SCREENSHOTS / "tab-page-shared-inputs.png"))
    # A tab opens with the inputs it takes from the state on screen.
    page.click("[role=tab]:has-text('Products')")
    page.wait_for_url("**tab=products**")
    assert query_of(page.url) == {
        "tab": ["products"],
        "query": ["lamp"],
        "kind": ["lamp"],
        "in_stock": ["true"],
    }
    assert page.locator(".card .title").all_inner_texts() == ["Desk lamp"]
    page.go_back()
    page.click("[role=tab]:has-text('Help')")
    page.wait_for_url("**tab=help**")
    assert query_of(page.url) == {"tab": ["help"], "query": ["lamp"], "kind": ["lamp"]}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_accessibility_violations(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    page = open_page(bypass_csp=True, viewport=DESKTOP, color_scheme=scheme)
    page.goto(f"{server}/p/shared?tab=all&query=lamp&kind=lamp&in_stock=true")
    page.wait_for_load_state("networkidle")
    assert violations(page, axe_source) == []
