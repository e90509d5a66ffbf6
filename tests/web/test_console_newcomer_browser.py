"""The console in Chromium as a newcomer uses it, from a CSV to a published page: the fields
shown ticked with their formats beside them, a price with its decimals, the colours the page
uses when none is set, the public address, the page opened in a new tab, and the retrievers
list on a phone with every word whole; axe-core on each step, and their screenshots."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS, owner_headers
from tests.servers import live_app
from tests.web import test_accessibility, test_browser
from tests.web.console_steps import fill_upload, send_upload
from tests.web.test_console_browser import DESKTOP, OWNER, PHONE, signed_in

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
KEY = OWNER.split(":", 1)[1]
CSV = "title,author,year,price\nDune,Frank Herbert,1965,18.5\nEmma,Jane Austen,1815,9\n"
# Each word of the table's cells on one line: a word broken mid-word spans two.
BROKEN_WORDS = """() => {
  const broken = [];
  const walker = document.createTreeWalker(document.querySelector('table'), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest('.visually-hidden')) continue;
    for (const match of node.data.matchAll(/[^\\s·,:]+/g)) {
      if (match[0].startsWith('/')) continue;  // a link may break anywhere
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with a published retriever of long names and many fields in `acme`."""
    with live_app(tmp_path_factory.mktemp("newcomer"), api_keys=[OWNER]) as url:
        headers = owner_headers()
        documents = [
            {"title": "Lamp", "description": "Brass", "category": "lighting", "brand": "Lumen"}
        ]
        httpx.post(
            f"{url}/v1/collections/catalog/documents",
            headers=headers,
            json={"documents": documents},
        ).raise_for_status()
        created = httpx.post(
            f"{url}/v1/retrievers",
            headers=headers,
            json={
                "retriever_name": "enterprise catalog",
                "description": "Everything the shop sells, searched by words and by meaning",
                "backend": {
                    "type": "local",
                    "collection": "catalog",
                    "search_fields": ["title", "description", "category", "brand"],
                },
            },
        )
        created.raise_for_status()
        published = httpx.post(
            f"{url}/v1/retrievers/{created.json()['retriever_id']}/publish",
            headers=headers,
            json={
                "public_name": "enterprise-catalog",
                "rate_limit_config": {"tier": "enterprise"},
                "display_config": {
                    "title": "Catalog",
                    "exposed_fields": ["title", "description", "category", "brand"],
                    "inputs": [
                        {
                            "field_name": "query",
                            "label": "Search",
                            "field_schema": {"type": "string"},
                        }
                    ],
                },
            },
        )
        assert published.status_code == 200, published.text
        yield url


def test_from_a_csv_to_a_published_page(
    server: str, open_page: Callable[..., Any], axe_source: str, tmp_path: Path
) -> None:
    page = signed_in(open_page, server, KEY, bypass_csp=True, **DESKTOP)
    file = tmp_path / "books.csv"
    file.write_text(CSV)
    fill_upload(page, "My Books", file)
    send_upload(page)
    error = page.locator("#collection-error")
    error.wait_for()
    assert "my-books, for example" in error.inner_text()
    assert page.locator("#upload-collection").input_value() == "My Books"
    assert violations(page, axe_source) == [], "an upload refused"
    fill_upload(page, "my-books", file)
    send_upload(page)
    page.click("text=Make a search page over my-books →")
    page.fill("#retriever_name", "books")
    page.click("text=Create retriever")
    page.locator("[role=status]", has_text="Created the retriever books").wait_for()

    # Every field is offered and shown; a field unticked hides its format, ticked shows it.
    page.click("#group-fields summary")
    boxes = page.locator(".field-shown")
    assert boxes.count() == 4
    assert all(boxes.nth(n).is_checked() for n in range(4))
    year = page.locator(".row-item", has=page.locator("legend", has_text="year"))
    year.locator(".field-shown").uncheck()
    assert not year.locator("select[name$='.format']").is_visible()
    year.locator(".field-shown").check()
    assert year.locator("select[name$='.format']").is_visible()
    price = page.locator(".row-item", has=page.locator("legend", has_text="price"))
    price.locator("select[name$='.format']").select_option("number")
    price.get_by_label("Decimals (0 to 10)").fill("2")
    price.get_by_label("Before the value").fill("$")
    year.get_by_label("Label").fill("Published")
    assert violations(page, axe_source) == [], "the fields and formats"

    # The colours the page uses when none is set, as the swatch and the placeholder.
    page.click("#group-theme summary")
    text = page.locator("#f-theme-text_color")
    assert text.get_attribute("placeholder") == "#1F2937"
    swatch = page.locator('.colour-pick[data-for="f-theme-text_color"]')
    assert swatch.input_value() == "#1f2937"
    assert "colour-pick--unset" not in (swatch.get_attribute("class") or "")
    page.screenshot(path=str(SCREENSHOTS / "console-editor-fields.png"), full_page=True)

    page.click("button:text-is('Save the draft')")
    page.locator("[role=status]", has_text="Draft saved").wait_for()
    preview = page.frame_locator('iframe[title="Preview on a desktop, light"]')
    preview.locator("text=$18.50").first.wait_for()
    # The label on the cards (the sort menu, hidden until opened, names it too).
    preview.locator(".card").get_by_text("Published").first.wait_for()

    page.fill("#public_name", "Great Books")
    page.click("button:text-is('Publish the page')")
    page.locator("#public_name-error").wait_for()
    assert page.locator("#public_name").input_value() == "Great Books"
    assert violations(page, axe_source) == [], "an address refused"
    page.fill("#public_name", "great-books")
    page.click("button:text-is('Publish the page')")
    page.locator("[role=status]", has_text="Published").wait_for()
    with page.context.expect_page() as opened:
        page.click("text=Open the page ↗")
    public = opened.value
    public.wait_for_load_state()
    assert public.url == f"{server}/r/great-books"
    assert "$18.50" in public.content()


@pytest.mark.parametrize("width", [320, 390, 700, 1024])
def test_the_retrievers_list_keeps_words_whole(
    server: str, open_page: Callable[..., Any], width: int
) -> None:
    options = PHONE if width < 640 else DESKTOP
    page = signed_in(open_page, server, KEY, **options)
    page.set_viewport_size({"width": width, "height": 844})
    page.goto(f"{server}/console/retrievers")
    assert page.evaluate(BROKEN_WORDS) == []
    if width == 390:
        page.screenshot(path=str(SCREENSHOTS / "console-retrievers-long-phone.png"), full_page=True)


def test_phone_screenshots(server: str, open_page: Callable[..., Any]) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    phone = signed_in(open_page, server, KEY, **PHONE)
    phone.click("nav.tabs a:text-is('Retrievers')")
    phone.click("tbody th a")
    phone.click("#group-fields summary")
    phone.screenshot(path=str(SCREENSHOTS / "console-editor-fields-phone.png"), full_page=True)
