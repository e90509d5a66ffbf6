"""A publisher's whole way through the console in Chromium, from an empty namespace to a
themed public page: sign in, upload a JSONL file with one bad row, create a retriever, change
its colour and see the preview change before anything is public, publish, search the public
page, see that search in the insights, then roll a later version back. Screenshots of each
step land in .screenshots/ (publisher-*.png)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS
from tests.servers import live_app
from tests.web import test_browser, test_console_browser, test_console_editor_browser
from tests.web.console_steps import fill_upload, send_upload

browser = test_browser.browser
open_page = test_browser.open_page
signed_in = test_console_browser.signed_in
preview_primary = test_console_editor_browser.preview_primary
OWNER, DESKTOP = test_console_browser.OWNER, test_console_browser.DESKTOP
KEY = OWNER.split(":", 1)[1]
PINK = test_console_editor_browser.PINK
ROWS = [
    {"document_id": "k1", "title": "Brass desk lamp", "brand": "Lumen", "price": 89},
    {"document_id": "k2", "title": "Stoneware kettle", "brand": "Hearth", "price": 45},
    {"document_id": "k3", "title": "Linen tea towel", "brand": "Nordic", "price": 12},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose namespace holds nothing yet, and its owner's key."""
    with live_app(tmp_path_factory.mktemp("publisher"), api_keys=[OWNER]) as url:
        yield url


def test_from_a_file_to_a_themed_public_page_and_back_a_version(
    server: str, open_page: Callable[..., Any], tmp_path: Path
) -> None:
    started = time.monotonic()
    SCREENSHOTS.mkdir(exist_ok=True)
    page = signed_in(open_page, server, KEY, **DESKTOP)

    # Upload: the good rows go in, the bad one is told by its number.
    lines = [json.dumps(ROWS[0]), '{"document_id": "k9", "title": ', json.dumps(ROWS[1])]
    lines.append(json.dumps(ROWS[2]))
    file = tmp_path / "kitchen.jsonl"
    file.write_text("\n".join(lines) + "\n")
    fill_upload(page, "kitchen", file)
    send_upload(page)
    report = page.locator("[role=status]", has_text="Imported 3 documents into kitchen")
    report.wait_for()
    assert "Row 2" in report.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "publisher-upload.png"), full_page=True)

    # A retriever over it, searched by its words: the upload's answer leads there.
    page.click("text=Make a search page over kitchen →")
    page.fill("#retriever_name", "kitchen search")
    page.check("input[name=mode][value=keyword]")
    page.click("text=Create retriever")
    page.locator("[role=status]", has_text="Created the retriever kitchen search").wait_for()

    # Its editor, straight away: a new colour, seen in the preview while nothing is public.
    editor = page.url.split("?", 1)[0]
    assert editor.startswith(f"{server}/console/retrievers/ret_")
    page.click("#group-theme summary")
    page.fill("#f-theme-primary_color", PINK)
    page.click("button:text-is('Save the draft')")
    page.locator("[role=status]", has_text="Draft saved").wait_for()
    assert preview_primary(page, "Preview on a desktop, light") == PINK
    public = page.locator("text=Not published yet")
    assert public.count() == 1
    page.screenshot(path=str(SCREENSHOTS / "publisher-preview.png"), full_page=True)

    page.click("button:text-is('Publish the page')")
    page.locator("[role=status]", has_text="Published").wait_for()
    link = page.locator("a[href^='/r/']").first.get_attribute("href")
    assert link is not None
    assert PINK in httpx.get(server + link).text

    # A shopper searches the page.
    shopper = open_page(**DESKTOP)
    shopper.goto(server + link)
    shopper.fill("input[name=query]", "kettle")
    shopper.press("input[name=query]", "Enter")
    shopper.locator(".card", has_text="Stoneware kettle").wait_for()
    shopper.screenshot(path=str(SCREENSHOTS / "publisher-public-page.png"), full_page=True)

    # The publisher sees that search in the insights (the log is written once a second).
    page.goto(editor + "/insights")
    queries = page.locator("table", has_text="kettle")
    for _ in range(20):
        if queries.count():
            break
        time.sleep(0.5)
        page.reload()
    assert queries.count() == 1, "the search is not in the insights"
    page.screenshot(path=str(SCREENSHOTS / "publisher-insights.png"), full_page=True)

    # A second version with a new title, rolled back to the first.
    page.goto(editor)
    page.fill("#f-title", "Everything for the kitchen")
    page.click("button:text-is('Save the draft')")
    page.locator("[role=status]", has_text="Draft saved").wait_for()
    page.click("text=Publish the draft")
    page.locator("[role=status]", has_text="Published").wait_for()
    assert "Everything for the kitchen" in httpx.get(server + link).text
    page.goto(editor + "/versions/1")
    page.click("text=Roll back to version 1")
    page.locator("[role=status]", has_text="Rolled back").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "publisher-rolled-back.png"), full_page=True)
    shown = httpx.get(server + link).text
    assert "Everything for the kitchen" not in shown
    assert PINK in shown
    print(f"the whole way, scripted: {time.monotonic() - started:.1f} s")
