"""The page editor in Chromium, as a publisher uses it: change the theme's colour, see the
preview change while the public page does not, publish, then roll back; axe-core on the
editor and the versions pages; the screenshots the docs show (phone and desktop)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS, owner_headers
from tests.servers import live_app
from tests.web import test_accessibility, test_browser
from tests.web.test_console_browser import (
    DESKTOP,
    OWNER,
    PHONE,
    ROWS,
    VIEWER_KEY,
    open_editor,
    signed_in,
)

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
KEY = OWNER.split(":", 1)[1]
PINK = "#C2185B"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server with a published retriever; its URL and the retriever's id."""
    keys = [OWNER, f"acme:{VIEWER_KEY}@viewer"]
    with live_app(tmp_path_factory.mktemp("editor"), api_keys=keys) as url:
        headers = owner_headers()
        rows = ROWS
        httpx.post(
            f"{url}/v1/collections/catalog/documents", headers=headers, json={"documents": rows}
        ).raise_for_status()
        created = httpx.post(
            f"{url}/v1/retrievers",
            headers=headers,
            json={
                "retriever_name": "catalog search",
                "backend": {"type": "local", "collection": "catalog", "search_fields": ["title"]},
            },
        )
        created.raise_for_status()
        retriever_id = created.json()["retriever_id"]
        httpx.post(
            f"{url}/v1/retrievers/{retriever_id}/publish",
            headers=headers,
            json={
                "public_name": "catalog",
                "display_config": {
                    "title": "Catalog",
                    "description": "Lamps, sofas and kettles from three makers.",
                    "exposed_fields": ["title", "brand", "price"],
                    "inputs": [
                        {
                            "field_name": "query",
                            "label": "Search",
                            "required": False,
                            "field_schema": {"type": "string"},
                        }
                    ],
                    "field_config": {
                        "price": {"format": "number", "format_options": {"prefix": "$"}}
                    },
                    "markdowns": [{"title": "About", "content": "Everything **in stock**."}],
                },
            },
        ).raise_for_status()
        yield url, retriever_id


def preview_primary(page: Any, title: str) -> str:
    """The main colour the preview frame of that title draws with."""
    frame = page.frame_locator(f'iframe[title="{title}"]')
    frame.locator("h1").first.wait_for()
    colour: str = frame.locator("html").evaluate(
        "el => getComputedStyle(el).getPropertyValue('--primary').trim()"
    )
    return colour


def public_primary(url: str) -> bool:
    return PINK in httpx.get(f"{url}/r/catalog").text


def test_a_publisher_changes_the_colour_previews_publishes_and_rolls_back(
    server: tuple[str, str], open_page: Callable[..., Any]
) -> None:
    url, retriever_id = server
    page = signed_in(open_page, url, KEY, **DESKTOP)
    page.click("nav.tabs a:text-is('Retrievers')")
    page.click("tbody th a:text-is('catalog search')")
    page.wait_for_url(f"{url}/console/retrievers/{retriever_id}")
    assert preview_primary(page, "Preview on a phone, light") == "#007AFF"

    page.click("#group-theme summary")
    page.fill("#f-theme-primary_color", PINK)
    page.click("text=Save the draft")
    page.locator("[role=status]", has_text="Draft saved").wait_for()
    assert page.locator("#group-theme").get_attribute("open") is not None  # still open
    assert preview_primary(page, "Preview on a phone, light") == PINK
    assert preview_primary(page, "Preview on a phone, dark") == PINK
    assert not public_primary(url), "the public page changed before publishing"

    page.click("text=Publish the draft")
    page.locator("[role=status]", has_text="Published").wait_for()
    assert public_primary(url)

    page.click("nav.subtabs a:text-is('Versions')")
    page.click("a:has-text('Compare with now')")
    page.locator("code", has_text="theme").first.wait_for()
    page.click("text=Roll back to version 1")
    page.locator("[role=status]", has_text="Rolled back").wait_for()
    assert not public_primary(url)
    assert page.locator("tbody tr").count() == 3


def test_a_bad_colour_is_told_beside_its_field(
    server: tuple[str, str], open_page: Callable[..., Any]
) -> None:
    url, retriever_id = server
    page = open_editor(open_page, url, retriever_id, **DESKTOP)
    page.click("#group-theme summary")
    page.fill("#f-theme-primary_color", "pink; background: url(x)")
    page.click("text=Save the draft")
    error = page.locator("#f-theme-primary_color-error")
    error.wait_for()
    assert "hex colour" in error.inner_text()
    assert page.locator("#f-theme-primary_color").get_attribute("aria-invalid") == "true"


def test_an_empty_second_colour_shows_the_main_colour(
    server: tuple[str, str], open_page: Callable[..., Any]
) -> None:
    url, retriever_id = server
    page = open_editor(open_page, url, retriever_id, **DESKTOP)
    page.click("#group-theme summary")
    second = page.locator(".colour-pick[data-for='f-theme-secondary_color']")
    assert page.locator("#f-theme-secondary_color").input_value() == ""
    assert second.input_value().upper() == "#007AFF"  # the main colour, itself not set
    page.fill("#f-theme-primary_color", PINK)
    assert second.input_value().upper() == PINK.upper()  # not a blue of its own
    page.fill("#f-theme-secondary_color", "#00AA00")
    assert second.input_value().upper() == "#00AA00"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_accessibility_violations_on_the_editor(
    server: tuple[str, str], open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    url, retriever_id = server
    options = {"bypass_csp": True, "color_scheme": scheme, **DESKTOP}
    page = signed_in(open_page, url, KEY, **options)
    base = f"{url}/console/retrievers/{retriever_id}"
    for path in ("", "/versions"):
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        assert violations(page, axe_source) == [], path or "the editor"
    page.goto(base)
    page.click("#group-theme summary")
    page.fill("#f-theme-primary_color", "red")
    page.click("text=Save the draft")
    page.locator("#f-theme-primary_color-error").wait_for()
    assert violations(page, axe_source) == [], "the editor with an error"
    viewer = signed_in(open_page, url, VIEWER_KEY, **{**options, **PHONE})
    viewer.goto(base)
    assert violations(viewer, axe_source) == [], "read-only, on a phone"


def test_screenshots(server: tuple[str, str], open_page: Callable[..., Any]) -> None:
    url, retriever_id = server
    SCREENSHOTS.mkdir(exist_ok=True)
    base = f"{url}/console/retrievers/{retriever_id}"
    # A later version from the API, and a draft not published yet.
    published = httpx.get(f"{url}/v1/retrievers/{retriever_id}/publish", headers=owner_headers())
    config = published.json()["display_config"]
    config.update(title="Catalog of the shop", theme={"primary_color": PINK, "card_style": "flat"})
    httpx.patch(
        f"{url}/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"display_config": config},
    ).raise_for_status()
    page = signed_in(open_page, url, KEY, **DESKTOP)
    page.goto(base)
    page.fill("#f-title", "The shop's catalog")
    page.click("text=Save the draft")
    page.locator("[role=status]", has_text="Draft saved").wait_for()
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SCREENSHOTS / "console-editor.png"), full_page=True)
    page.goto(base + "/versions")
    page.screenshot(path=str(SCREENSHOTS / "console-versions.png"), full_page=True)
    page.goto(base + "/versions/1")
    page.screenshot(path=str(SCREENSHOTS / "console-version-diff.png"), full_page=True)
    phone = signed_in(open_page, url, KEY, **PHONE)
    phone.goto(base)
    phone.wait_for_load_state("networkidle")
    phone.screenshot(path=str(SCREENSHOTS / "console-editor-phone.png"), full_page=True)
    phone.goto(base + "/versions")
    phone.screenshot(path=str(SCREENSHOTS / "console-versions-phone.png"), full_page=True)
    dark = signed_in(open_page, url, KEY, color_scheme="dark", **DESKTOP)
    dark.goto(base)
    dark.wait_for_load_state("networkidle")
    dark.screenshot(path=str(SCREENSHOTS / "console-editor-dark.png"))
