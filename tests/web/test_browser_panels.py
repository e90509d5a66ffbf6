"""What opens over the search page, in Chromium on a desktop and a phone: the header's help
panel, the detail dialog (its URL, the back button, inside an embed), the filters sheet; and a
page without a logo or pictures, and the API docs, on a phone."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.services.demo import DEMO_DISPLAY_CONFIG
from tests.helpers import publish_backend
from tests.web import test_browser
from tests.web.test_browser_features import DESKTOP, PHONE, SHOP_BACKEND

browser = test_browser.browser
server = test_browser.server
open_page = test_browser.open_page
host_site = test_browser.host_site

PHONE_WIDTH, PHONE_HEIGHT = PHONE["viewport"]["width"], PHONE["viewport"]["height"]
# The centre of an element, and whether what the reader sees there belongs to it.
ON_TOP = """el => {
  const box = el.getBoundingClientRect();
  return el.contains(document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2));
}"""


@pytest.fixture(scope="module")
def plain(server: str) -> str:
    """The demo's page without a logo, site name, links, help panel or pictures."""
    config = copy.deepcopy(DEMO_DISPLAY_CONFIG)
    for key in ("logo_url", "external_links", "custom_cta"):
        config.pop(key)
    config["seo"].pop("site_name")
    config["exposed_fields"].remove("image_url")
    config["field_config"].pop("image_url")
    card = config["components"]["result_card"]
    card["show_thumbnail"] = False
    card.pop("thumbnail_field")
    with httpx.Client(base_url=server) as client:
        publish_backend(client, "plain", SHOP_BACKEND, config)
    return "plain"


def _in_view(box: dict[str, float] | None, width: int, height: int) -> bool:
    assert box is not None
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= width + 1
        and box["y"] + box["height"] <= height + 1
    )


def _settled(page: Any) -> None:
    page.wait_for_selector("#results:not([aria-busy]) .card")


@pytest.mark.parametrize("device", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_help_button_opens_its_panel_in_view(
    server: str, open_page: Callable[..., Any], device: dict[str, Any]
) -> None:
    page = open_page(**device)
    page.goto(f"{server}/r/shop")
    page.click(".cta summary")
    panel = page.locator(".cta .md")
    assert panel.is_visible()
    size = device["viewport"]
    assert _in_view(panel.bounding_box(), size["width"], size["height"])
    assert panel.evaluate(ON_TOP) is True  # not clipped by the header, not under the page
    assert "Search tips" in panel.inner_text()
    page.keyboard.press("Escape")
    assert not panel.is_visible()


def test_the_detail_dialog_has_its_own_url_and_closes_on_back(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(**PHONE)
    search = f"{server}/r/shop?query=kettle"
    page.goto(search)
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if r.headers.get("x-partial") else None)
    link = page.locator(".card .title a").first
    document_id = link.evaluate("a => a.closest('.card').dataset.documentId")
    title = link.inner_text()
    link.click()
    dialog = page.locator("dialog.detail-dialog[open]")
    dialog.wait_for()
    assert urlsplit(page.url).path == f"/r/shop/d/{document_id}"
    # The phone's back gesture closes the dialog and leaves the reader on the search.
    page.evaluate("history.back()")
    page.wait_for_url(search)
    dialog.wait_for(state="hidden")
    assert [url for url in searches if "/d/" not in url] == []  # the results were still there
    # Escape closes it the same way.
    link.click()
    dialog.wait_for()
    page.keyboard.press("Escape")
    page.wait_for_url(search)
    # Its URL is a page of its own.
    link.click()
    dialog.wait_for()
    page.reload()
    assert urlsplit(page.url).path == f"/r/shop/d/{document_id}"
    assert page.locator("main h1").inner_text() == title
    assert page.locator("dialog").count() == 0


def test_a_detail_in_an_embed_opens_where_the_frame_is_seen(
    host_site: Callable[[str], str], open_page: Callable[..., Any]
) -> None:
    width, height = 1000, 700
    page = open_page(viewport={"width": width, "height": height})
    page.goto(host_site("shop"))
    frame = page.wait_for_selector("iframe").content_frame()
    frame.wait_for_selector(".card")
    # The host sizes the frame to its whole page, far taller than the window.
    for _ in range(100):
        if page.evaluate("document.querySelector('iframe').offsetHeight") > 2 * height:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("document.querySelector('iframe').offsetHeight") > 2 * height
    cards = frame.locator(".card .title a")
    cards.nth(cards.count() - 1).click()  # the host page scrolls down to it
    dialog = frame.locator("dialog.detail-dialog[open]")
    dialog.wait_for()
    assert page.evaluate("scrollY") > height
    assert _in_view(dialog.bounding_box(), width, height)
    dialog.locator("h1").wait_for()
    assert _in_view(dialog.locator("h1").bounding_box(), width, height)


def test_filters_open_as_a_sheet_over_the_results_on_a_phone(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(**PHONE)
    page.goto(f"{server}/r/shop?query=lamp")
    page.evaluate("window.notReloaded = true")
    assert not page.locator("#filters").is_visible()  # not a long list above or below
    button = page.get_by_role("button", name=re.compile("^Filters"))
    assert button.is_visible()
    button.click()
    sheet = page.locator("dialog[open]")
    sheet.wait_for()
    assert sheet.locator("#filters").is_visible()
    assert _in_view(sheet.bounding_box(), PHONE_WIDTH, PHONE_HEIGHT)
    box = page.locator("input[name='f.brand']").first
    picked = box.get_attribute("value")
    box.check()
    page.wait_for_timeout(300)
    assert "f.brand" not in page.url  # a tick waits for Apply
    apply = sheet.get_by_role("button", name="Apply filters")
    assert _in_view(apply.bounding_box(), PHONE_WIDTH, PHONE_HEIGHT)
    apply.click()
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("f.brand") == [picked])
    _settled(page)
    assert page.locator("dialog[open]").count() == 0
    count = page.locator("#results .status")
    assert re.match(r"\d+ results?", count.inner_text())
    assert _in_view(count.bounding_box(), PHONE_WIDTH, PHONE_HEIGHT)
    first = page.locator(".card").first.bounding_box()
    assert first is not None
    assert 0 <= first["y"] < PHONE_HEIGHT / 2
    brands = page.locator(".card .f-brand").all_text_contents()
    assert brands == [f"Brand: {picked}"] * len(brands)
    assert page.evaluate("window.notReloaded") is True
    assert button.inner_text() == "Filters (1)"


def test_filters_on_a_phone_without_javascript(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(java_script_enabled=False, **PHONE)
    page.goto(f"{server}/r/shop?query=lamp")
    assert not page.locator(".filters-button").is_visible()
    page.click(".filters-link")
    box = page.locator("input[name='f.brand']").first
    picked = box.get_attribute("value")
    box.check()
    page.click(".apply")
    page.wait_for_url(lambda url: parse_qs(urlsplit(url).query).get("f.brand") == [picked])
    assert page.locator(".card").count() > 0


def test_a_page_without_a_logo_has_no_empty_bar(
    server: str, plain: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(**PHONE)
    page.goto(f"{server}/r/{plain}")
    for bar in page.locator("header").all():
        assert bar.inner_text().strip() or bar.locator("img").count()
    title = page.locator("h1")
    assert title.inner_text() == DEMO_DISPLAY_CONFIG["title"]
    box = title.bounding_box()
    assert box is not None
    assert box["y"] < 40  # nothing blank above the title


def test_a_detail_without_a_picture_takes_the_whole_dialog(
    server: str, plain: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(**DESKTOP)
    page.goto(f"{server}/r/{plain}?query=kettle")
    page.locator(".card .title a").first.click()
    dialog = page.locator("dialog.detail-dialog[open]")
    dialog.wait_for()
    assert dialog.locator(".detail-thumb").count() == 0
    whole = dialog.locator(".detail").bounding_box()
    text = dialog.locator(".detail-text").bounding_box()
    assert whole is not None
    assert text is not None
    assert text["width"] >= whole["width"] - 1  # one column, no empty half


def test_the_api_docs_fit_a_phone(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(**PHONE)
    page.goto(f"{server}/docs")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert page.evaluate("innerWidth") == PHONE_WIDTH  # not zoomed out to fit something wide
    assert width <= PHONE_WIDTH
