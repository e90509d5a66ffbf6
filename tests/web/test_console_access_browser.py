"""The console's access and plugins pages in Chromium: a publisher sets a password and a
site that may embed the page, and the page then asks for the password; axe-core on both
pages, light and dark; the screenshots the docs show (phone and desktop)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS, owner_headers, publish_backend
from tests.servers import live_app
from tests.web import test_console_browser as console_browser

browser = console_browser.browser
open_page = console_browser.open_page
axe_source = console_browser.axe_source
violations = console_browser.violations
signed_in = console_browser.signed_in
DESKTOP, PHONE, ROWS = console_browser.DESKTOP, console_browser.PHONE, console_browser.ROWS
OWNER_KEY = console_browser.OWNER.split(":", 1)[1]
MAKER = "plugin-maker-key-0123456789"
PASSWORD = "tea for two"
CONFIG = {
    "title": "Catalog",
    "exposed_fields": ["title", "brand", "price"],
    "inputs": [{"field_name": "query", "label": "Search", "field_schema": {"type": "string"}}],
}
LISTINGS = [
    ("star-rating", "Star rating", "Stars out of five, to the half, with the number."),
    ("price-chart", "Price chart", "A small line of a product's prices over the last year."),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A published retriever in `acme`, and two plugins listed by another namespace."""
    keys = [console_browser.OWNER, f"makers:{MAKER}"]
    with (
        live_app(tmp_path_factory.mktemp("console-access"), api_keys=keys) as url,
        httpx.Client(base_url=url) as client,
    ):
        client.post(
            "/v1/collections/catalog/documents", headers=owner_headers(), json={"documents": ROWS}
        ).raise_for_status()
        backend = {"type": "local", "collection": "catalog", "search_fields": ["title"]}
        retriever_id = publish_backend(client, "catalog", backend, CONFIG)
        maker = owner_headers(MAKER, "makers")
        for tag, name, description in LISTINGS:
            body = {"tag": tag, "name": name, "blob": "<p>plugin</p>", "version": "1.2.0"}
            client.post("/v1/plugins", headers=maker, json=body).raise_for_status()
            listing = {"public_name": tag, "description": description, "category": "Numbers"}
            client.post(f"/v1/plugins/{tag}/publish", headers=maker, json=listing)
        yield {"url": url, "access": f"{url}/console/retrievers/{retriever_id}/access"}


def test_a_publisher_sets_a_password_and_a_framing_site(
    server: dict[str, str], open_page: Callable[..., Any]
) -> None:
    url = server["url"]
    page = signed_in(open_page, url, OWNER_KEY, **DESKTOP)
    page.click("nav.tabs a:text-is('Retrievers')")
    page.click("tbody a:has-text('Access')")
    assert page.url == server["access"]
    page.fill("#password", PASSWORD)
    page.fill("#new_secret_name", "catalog-password")
    page.click("text=Set the password")
    page.locator("[role=status]", has_text="asks for the new password").wait_for()
    assert PASSWORD not in page.content()
    page.fill("#origins", "https://shop.example\nnot an origin")
    page.click("text=Save the sites")
    page.locator("#frame_ancestors-error", has_text="is not an origin").wait_for()
    page.fill("#origins", "https://shop.example")
    page.click("text=Save the sites")
    page.locator("[role=status]", has_text="Saved the sites").wait_for()
    snippet = page.input_value("#snippet-script")
    assert snippet == f'<script src="{url}/embed.js" data-retriever="catalog" async></script>'

    visitor = open_page(**DESKTOP)
    answer = visitor.goto(f"{url}/r/catalog")
    assert "https://shop.example" in answer.headers["content-security-policy"]
    visitor.locator("input[type=password]").wait_for()
    visitor.fill("input[type=password]", PASSWORD)
    visitor.click("form button[type=submit]")
    visitor.locator("#query, input[name=query]").first.wait_for()

    page.click("text=Remove the password")
    page.locator("[role=status]", has_text="no longer asks").wait_for()


def test_the_plugins_page_installs_with_one_click(
    server: dict[str, str], open_page: Callable[..., Any]
) -> None:
    page = signed_in(open_page, server["url"], OWNER_KEY, **DESKTOP)
    page.click("nav.tabs a:text-is('Plugins')")
    page.click("text=Install Price chart")
    page.locator("[role=status]", has_text="Installed the plugin price-chart").wait_for()
    assert page.locator("tbody th", has_text="Price chart").count() == 1


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_accessibility_violations(
    server: dict[str, str], open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    options = {"bypass_csp": True, "color_scheme": scheme}
    for viewport in (DESKTOP, PHONE):
        page = signed_in(open_page, server["url"], OWNER_KEY, **options, **viewport)
        for path in (server["access"], server["access"] + "/rotate-key"):
            page.goto(path)
            assert violations(page, axe_source) == [], path
        page.goto(server["access"])
        page.fill("#requests_per_minute", "ten")
        page.click("text=Save the limits")
        page.locator("#requests_per_minute-error").wait_for()
        assert violations(page, axe_source) == [], "the limits with an error"
        page.goto(f"{server['url']}/console/plugins")
        assert violations(page, axe_source) == [], "plugins"


def test_screenshots(server: dict[str, str], open_page: Callable[..., Any]) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    plugins = f"{server['url']}/console/plugins"
    page = signed_in(open_page, server["url"], OWNER_KEY, **DESKTOP)
    page.goto(server["access"])
    page.screenshot(path=str(SCREENSHOTS / "console-access.png"), full_page=True)
    page.goto(plugins)
    page.screenshot(path=str(SCREENSHOTS / "console-plugins.png"), full_page=True)
    phone = signed_in(open_page, server["url"], OWNER_KEY, **PHONE)
    phone.goto(server["access"])
    phone.screenshot(path=str(SCREENSHOTS / "console-access-phone.png"), full_page=True)
    phone.goto(plugins)
    phone.screenshot(path=str(SCREENSHOTS / "console-plugins-phone.png"), full_page=True)
