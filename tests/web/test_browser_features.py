"""The shopper features in Chromium, with the script and without: the filters panel, sorting,
the detail dialog and page, similar items, the dark variant, the hint on results found by
meaning; and the screenshots the docs show."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from app.paths import SAMPLE_CATALOG
from app.services.demo import DEMO_DISPLAY_CONFIG
from tests.helpers import SCREENSHOTS, local_backend, owner_headers, publish_backend
from tests.web import test_accessibility, test_browser
from tests.web.test_accessibility import violations
from tests.web.test_browser import card_titles

# The same Chromium, demo server and page maker as the other browser tests, and axe-core.
browser = test_browser.browser
server = test_browser.server
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source

DESKTOP = {"viewport": {"width": 1280, "height": 900}}
SHOP_BACKEND = {
    **local_backend(),
    "search_fields": ["title", "description", "brand", "category", "tags"],
}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def _settled(page: Any) -> None:
    page.wait_for_selector("#results:not([aria-busy]) .card")


def _seen(title: str) -> str:
    """A card's title as it shows (without the label read out to screen readers)."""
    return title.split("\n")[-1]


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_filters_and_sorting_update_the_results_and_the_url(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(**DESKTOP)
    page.goto(f"{server}/r/shop?query=headphones")
    page.evaluate("window.notReloaded = true")
    assert not page.locator(".apply").is_visible()  # the script applies each change itself
    brand = page.locator("input[name='f.brand']").first
    picked = brand.get_attribute("value")
    brand.check()
    page.wait_for_url(lambda url: picked in parse_qs(urlsplit(url).query).get("f.brand", []))
    _settled(page)
    brands = page.locator(".card .f-brand").all_text_contents()
    assert brands == [f"Brand: {picked}"] * page.locator(".card").count()  # label, colon heard
    assert page.locator(f"input[name='f.brand'][value='{picked}']").is_checked()
    page.select_option("#sort", "price")
    page.wait_for_url("**sort=price**")
    _settled(page)
    prices = [
        float(text.split("$")[1].replace(",", ""))
        for text in page.locator(".card .f-price").all_inner_texts()
    ]
    assert prices == sorted(prices)
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(SCREENSHOTS / "filters.png"))
    # The chip of a filter removes it; the page forgets the box it ticked.
    page.click(".active a.chip")
    page.wait_for_url(lambda url: "f.brand" not in url)
    _settled(page)
    assert not page.locator("input[name='f.brand']:checked").count()
    assert _query(page)["sort"] == ["price"]


def test_filters_work_with_javascript_off(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(java_script_enabled=False, **DESKTOP)
    page.goto(f"{server}/r/shop")
    page.fill("input[name='f.price.max']", "50")
    page.click(".apply")
    page.wait_for_url("**f.price.max=50**")
    prices = [
        float(text.split("$")[1].replace(",", ""))
        for text in page.locator(".card .f-price").all_inner_texts()
    ]
    assert prices
    assert max(prices) <= 50
    page.locator("input[name='f.rating.min']").fill("4.5")
    page.click(".apply")
    page.wait_for_url("**f.rating.min=4.5**")
    assert _query(page)["f.price.max"] == ["50"]  # shareable: the whole state is in the URL
    page.click("text=Clear all")
    page.wait_for_url(lambda url: "f." not in url)
    assert len(card_titles(page)) == 20


def test_a_card_opens_its_details_in_a_dialog(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(**DESKTOP)
    page.goto(f"{server}/r/shop?query=kettle")
    title = _seen(card_titles(page)[0])
    page.locator(".card .title a").first.click()
    dialog = page.locator("dialog.detail-dialog[open]")
    dialog.wait_for()
    assert dialog.locator("h1").inner_text() == title
    assert "Specs" in dialog.locator("dl.spec").inner_text()
    assert "/r/shop/d/" in page.url  # the dialog's own URL...
    assert "query=kettle" in page.url  # ...with the way back to the search
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENSHOTS / "detail.png"))
    page.keyboard.press("Escape")
    assert page.locator("dialog.detail-dialog[open]").count() == 0
    assert page.evaluate("document.activeElement.closest('.card') !== null")  # focus returned
    # From the dialog, "Find similar" leads to the similar items' page.
    page.locator(".card .title a").first.click()
    dialog.wait_for()
    dialog.locator("text=Find similar").click()
    page.wait_for_url("**similar_to=**")
    assert f"Similar to {title}" in page.locator("[role=status]").inner_text()


def test_the_detail_page_and_similar_items_without_javascript(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(java_script_enabled=False, **DESKTOP)
    page.goto(f"{server}/r/shop?query=tent")
    title = _seen(card_titles(page)[0])
    page.locator(".card .title a").first.click()
    page.wait_for_url("**/r/shop/d/**")
    assert page.locator("h1").inner_text() == title
    page.click("text=Find similar")
    page.wait_for_url("**similar_to=**")
    assert f"Similar to {title}" in page.locator("[role=status]").inner_text()
    assert title not in [_seen(t) for t in card_titles(page)]
    page.go_back()
    page.click("text=← Back to results")
    page.wait_for_url("**/r/shop?query=tent")


def test_the_phone_and_dark_pages(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(**PHONE)
    page.goto(f"{server}/r/shop?query=lamp")
    first = page.locator(".card").first.bounding_box()
    assert first is not None
    assert first["y"] + 80 < 844
    assert page.evaluate("document.documentElement.scrollWidth > window.innerWidth") is False
    page.screenshot(path=str(SCREENSHOTS / "phone.png"))
    light = open_page(**DESKTOP)
    light.goto(f"{server}/r/shop?query=lamp")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    light.screenshot(path=str(SCREENSHOTS / "desktop.png"))
    dark = open_page(color_scheme="dark", **DESKTOP)
    dark.goto(f"{server}/r/shop?query=lamp")
    background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 23, 42)"
    dark.screenshot(path=str(SCREENSHOTS / "dark.png"))


def test_sorting_and_marks_without_and_with_javascript(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(java_script_enabled=False, **DESKTOP)
    page.goto(f"{server}/r/shop?query=kettle")
    assert page.locator(".card .title mark").count() > 0  # matches marked by the server
    page.select_option("#sort", "-price")
    page.click(".sort button")  # the menu's own button, shown only without the script
    page.wait_for_url("**sort=-price**")
    prices = [
        float(text.split("$")[1].replace(",", ""))
        for text in page.locator(".card .f-price").all_inner_texts()
    ]
    assert prices == sorted(prices, reverse=True)
    scripted = open_page(**DESKTOP)
    scripted.goto(f"{server}/r/shop")
    assert not scripted.locator(".sort button").count()
    scripted.fill("#in-query", "espress")
    scripted.wait_for_url("**query=espress**")
    _settled(scripted)
    marks = scripted.locator(".card .title mark").all_inner_texts()
    assert marks
    assert all(mark.lower().startswith("espress") for mark in marks)


def test_page_kinds_in_the_browser(server: str, open_page: Callable[..., Any]) -> None:
    for name, kind in (("docs-kind", "document-search"), ("gallery-kind", "portrait-gallery")):
        config = {**DEMO_DISPLAY_CONFIG, "template_type": kind, "layout": None}
        # No layout named: the kind's own (a list of documents, columns of tall pictures).
        config["components"] = {
            k: v for k, v in DEMO_DISPLAY_CONFIG["components"].items() if k != "result_layout"
        }
        card = config["components"]["result_card"]
        config["components"]["result_card"] = {
            k: v for k, v in card.items() if k != "thumbnail_aspect_ratio"
        }
        with httpx.Client(base_url=server) as client:
            publish_backend(client, name, SHOP_BACKEND, config)
    page = open_page(**DESKTOP)
    page.goto(f"{server}/r/docs-kind?query=lamp")
    boxes = [page.locator(".card").nth(i).bounding_box() for i in range(2)]
    assert boxes[0] is not None
    assert boxes[1] is not None
    assert boxes[1]["y"] > boxes[0]["y"] + boxes[0]["height"] - 1  # one result a row: a list
    gallery = open_page(**DESKTOP)
    gallery.goto(f"{server}/r/gallery-kind?query=lamp")
    picture = gallery.locator(".card .thumb img").first.bounding_box()
    assert picture is not None
    assert picture["height"] > picture["width"]  # tall pictures


def test_a_result_found_by_meaning_alone_says_so(
    server: str, open_page: Callable[..., Any], axe_source: str
) -> None:
    # The demo's catalog again, in a collection of its own that the built-in model embeds.
    rows = [json.loads(line) for line in SAMPLE_CATALOG.read_text().splitlines()]
    with httpx.Client(base_url=server, headers=owner_headers(), timeout=30) as client:
        base = "/v1/collections/catalog"
        assert client.post(f"{base}/documents", json={"documents": rows}).status_code == 200
        client.put(f"{base}/embedding", json={"fields": ["title", "description"]})
        deadline = time.monotonic() + 30
        while not client.get(base).json()["embedding"]["ready"]:
            assert time.monotonic() < deadline, "the catalog was not embedded in 30 s"
            time.sleep(0.05)
        config = copy.deepcopy(DEMO_DISPLAY_CONFIG)
        config["components"]["result_card"]["show_meaning_hint"] = True
        publish_backend(client, "by-meaning", {**SHOP_BACKEND, "collection": "catalog"}, config)
    for scheme in ("dark", "light"):  # (axe's script is let past the page's CSP)
        page = open_page(bypass_csp=True, color_scheme=scheme, **DESKTOP)
        page.goto(f"{server}/r/by-meaning?query=thermos")  # no product says thermos: kettles do
        card = page.locator(".card").first
        assert "Kettle" in card.locator(".title").inner_text()
        hint = card.locator(".by-meaning")
        assert hint.is_visible()
        assert hint.inner_text().startswith("≈ Matched by meaning")
        assert card.locator("mark").count() == 0
        assert violations(page, axe_source) == []
    card.screenshot(path=str(SCREENSHOTS / "meaning-hint.png"))
    page.goto(f"{server}/r/by-meaning?query=kettle")  # its words: marked, and no hint
    assert page.locator(".card .title mark").count() > 0
    assert page.locator(".card .by-meaning").count() == 0
