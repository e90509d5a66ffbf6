"""The console in Chromium, as a publisher uses it: sign in, upload a file with a bad row,
create a retriever; axe-core on every console page in light and dark, and the screenshots
the docs show (phone and desktop)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS, owner_headers
from tests.servers import live_app
from tests.web import test_accessibility, test_browser

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations

OWNER = "acme:test-owner-key-0123456789"
VIEWER_KEY = "acme-viewer-key-0123456789"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
ROWS = [
    {"document_id": "p1", "title": "Brass desk lamp", "brand": "Lumen", "price": 89},
    {"document_id": "p2", "title": "Linen sofa, three seats", "brand": "Nordic", "price": 1290},
    {"document_id": "p3", "title": "Stoneware kettle", "brand": "Hearth", "price": 45},
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with a collection and a published retriever already in `acme`."""
    keys = [OWNER, f"acme:{VIEWER_KEY}@viewer"]
    with live_app(tmp_path_factory.mktemp("console"), api_keys=keys) as url:
        headers = owner_headers()
        httpx.post(
            f"{url}/v1/collections/catalog/documents", headers=headers, json={"documents": ROWS}
        ).raise_for_status()
        created = httpx.post(
            f"{url}/v1/retrievers",
            headers=headers,
            json={
                "retriever_name": "catalog search",
                "description": "The shop's catalog",
                "backend": {"type": "local", "collection": "catalog", "search_fields": ["title"]},
            },
        )
        created.raise_for_status()
        httpx.post(
            f"{url}/v1/retrievers/{created.json()['retriever_id']}/publish",
            headers=headers,
            json={
                "public_name": "catalog",
                "display_config": {
                    "title": "Catalog",
                    "exposed_fields": ["title", "brand", "price"],
                    "inputs": [
                        {
                            "field_name": "query",
                            "label": "Search",
                            "field_schema": {"type": "string"},
                        }
                    ],
                },
            },
        ).raise_for_status()
        yield url


def signed_in(open_page: Callable[..., Any], server: str, key: str, **options: Any) -> Any:
    page = open_page(**options)
    page.goto(f"{server}/console")
    page.fill("#key", key)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{server}/console/collections")
    return page


def open_editor(
    open_page: Callable[..., Any], server: str, retriever_id: str, **options: Any
) -> Any:
    """The retriever's editor, signed in with the owner's key."""
    page = signed_in(open_page, server, OWNER.split(":", 1)[1], **options)
    page.goto(f"{server}/console/retrievers/{retriever_id}")
    return page


def test_a_publisher_signs_in_uploads_and_creates_a_retriever(
    server: str, open_page: Callable[..., Any], tmp_path: Path
) -> None:
    page = open_page(**DESKTOP)
    page.goto(f"{server}/console")
    assert page.url == f"{server}/console/sign-in"
    page.fill("#key", "not-the-key-000000000")
    page.click("form button[type=submit]")
    page.locator("#key-error").wait_for()
    page.fill("#key", OWNER.split(":", 1)[1])
    page.click("form button[type=submit]")
    page.wait_for_url(f"{server}/console/collections")
    assert page.locator("tbody th a", has_text="catalog").count() == 1

    lines = [json.dumps(ROWS[0] | {"document_id": "n1"}), "{oops", json.dumps(ROWS[2])]
    file = tmp_path / "new.jsonl"
    file.write_text("\n".join(lines) + "\n")
    page.fill("#upload-collection", "kitchen")
    page.set_input_files("#upload-file", str(file))
    page.click("#upload-title ~ form button[type=submit]")
    report = page.locator("[role=status]", has_text="Imported 2 documents into kitchen")
    report.wait_for()
    assert "Row 2" in report.inner_text()

    # The next step is offered: a search page over what was just uploaded.
    page.click("text=Make a search page over kitchen →")
    assert page.locator("#pick-collection").input_value() == "kitchen"
    page.fill("#retriever_name", "kitchen search")
    page.check("input[name=mode][value=keyword]")
    page.click("text=Create retriever")
    # ...and on to the page's editor.
    page.locator("[role=status]", has_text="Created the retriever kitchen search").wait_for()
    assert page.locator("h1").inner_text() == "Page of kitchen search"
    page.click("nav.tabs a:text-is('Retrievers')")
    assert page.locator("tbody th", has_text="kitchen search").count() == 1
    page.click("nav.tabs a:text-is('Collections')")
    page.click("tbody a:text-is('kitchen')")
    assert page.locator("tbody tr").count() == 2
    page.click("text=Sign out")
    page.wait_for_url(f"{server}/console/sign-in")


PAGES = {
    "collections": "/console/collections",
    "a collection": "/console/collections/catalog?q=lamp",
    "delete a collection": "/console/collections/catalog/delete",
    "retrievers": "/console/retrievers",
    "new retriever": "/console/retrievers/new?collection=catalog",
}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_accessibility_violations_on_any_console_page(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    options = {"bypass_csp": True, "color_scheme": scheme, **DESKTOP}
    page = open_page(**options)
    page.goto(f"{server}/console/sign-in")
    assert violations(page, axe_source) == []
    page.fill("#key", "wrong-key-but-long-enough")
    page.click("form button[type=submit]")
    page.locator("#key-error").wait_for()
    assert violations(page, axe_source) == []
    page = signed_in(open_page, server, OWNER.split(":", 1)[1], **options)
    for name, path in PAGES.items():
        page.goto(server + path)
        assert violations(page, axe_source) == [], name
    page.goto(f"{server}/console/retrievers/new?collection=catalog")
    page.fill("#retriever_name", "bad/name")
    page.click("text=Create retriever")
    page.locator("#name-error").wait_for()
    assert violations(page, axe_source) == [], "the form with errors"
    phone = signed_in(open_page, server, VIEWER_KEY, **{**options, **PHONE})
    for path in ("/console/collections", "/console/retrievers"):
        phone.goto(server + path)
        assert violations(phone, axe_source) == [], path


def test_screenshots(server: str, open_page: Callable[..., Any]) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    key = OWNER.split(":", 1)[1]
    page = open_page(**DESKTOP)
    page.goto(f"{server}/console/sign-in")
    page.screenshot(path=str(SCREENSHOTS / "console-sign-in.png"))
    page = signed_in(open_page, server, key, **DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / "console-collections.png"), full_page=True)
    page.goto(f"{server}/console/retrievers")
    page.screenshot(path=str(SCREENSHOTS / "console-retrievers.png"), full_page=True)
    page.goto(f"{server}/console/retrievers/new?collection=catalog")
    page.screenshot(path=str(SCREENSHOTS / "console-new-retriever.png"), full_page=True)
    phone = open_page(**PHONE)
    phone.goto(f"{server}/console/sign-in")
    phone.screenshot(path=str(SCREENSHOTS / "console-sign-in-phone.png"), full_page=True)
    phone = signed_in(open_page, server, key, **PHONE)
    phone.screenshot(path=str(SCREENSHOTS / "console-collections-phone.png"), full_page=True)
    phone.goto(f"{server}/console/retrievers")
    phone.screenshot(path=str(SCREENSHOTS / "console-retrievers-phone.png"), full_page=True)
    dark = signed_in(open_page, server, key, color_scheme="dark", **DESKTOP)
    dark.goto(f"{server}/console/retrievers")
    dark.screenshot(path=str(SCREENSHOTS / "console-retrievers-dark.png"), full_page=True)
