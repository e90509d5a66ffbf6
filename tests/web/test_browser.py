"""The pages in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.paths import SAMPLE_CATALOG
from app.services.demo import DEMO_DISPLAY_CONFIG
from app.services.importing import import_file
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import IN_CI, local_backend, owner_headers
from tests.servers import LiveServer, free_port

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
# Without the networking flags Chromium keeps trying hosts this closed machine cannot reach.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
PASSWORD = "open sesame"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail("Chromium is not installed; scripts/test installs it")
        pytest.skip("Chromium is not installed (scripts/test installs it)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo's catalog and config, plus a password-protected twin, on a live server."""
    port = free_port()
    url = f"http://localhost:{port}"
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("browser"),
        public_url=url,
        api_keys=["acme:test-owner-key-0123456789"],
    )
    app = create_app(settings)
    import_file(app.state.services.engine, "acme", "products", SAMPLE_CATALOG)
    with LiveServer(app, port=port, host="localhost"):
        for name, password in (("products", None), ("locked", PASSWORD)):
            headers = owner_headers()
            if password:
                httpx.post(
                    f"{url}/v1/organizations/secrets",
                    headers=headers,
                    json={"secret_name": "pw", "secret_value": password},
                )
            rid = httpx.post(
                f"{url}/v1/retrievers",
                headers=headers,
                json={
                    "retriever_name": name,
                    "backend": {
                        **local_backend(),
                        "search_fields": ["title", "description", "brand", "category", "tags"],
                    },
                },
            ).json()["retriever_id"]
            published = httpx.post(
                f"{url}/v1/retrievers/{rid}/publish",
                headers=headers,
                json={
                    "public_name": name,
                    "display_config": DEMO_DISPLAY_CONFIG,
                    "rate_limit_config": {"tier": "unlimited"},
                    "password_secret_name": "pw" if password else None,
                },
            )
            assert published.status_code == 200, published.text
        yield url


class Page:
    """A Playwright page that fails the test on any console error or page error."""

    def __init__(self, browser: Any, **options: Any) -> None:
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def close(self) -> None:
        self.context.close()
        assert self.errors == []


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[..., Any]]:
    pages: list[Page] = []

    def make(**options: Any) -> Any:
        page = Page(browser, **options)
        pages.append(page)
        return page.page

    yield make
    for page in pages:
        page.close()


def card_titles(page: Any) -> list[str]:
    titles: list[str] = page.locator(".card .title").all_inner_texts()
    return titles


def test_search_as_you_type_updates_results_and_url_without_reloading(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/r/products")
    page.evaluate("window.notReloaded = true")
    page.fill("#in-query", "headph")
    page.wait_for_url("**query=headph")
    page.wait_for_selector("#results:not([aria-busy]) .card")
    assert all("Headphones" in title for title in card_titles(page))
    assert page.evaluate("window.notReloaded") is True
    assert "results" in page.locator("[role=status]").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desktop.png"))


def test_paging_and_the_back_button(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page()
    page.goto(f"{server}/r/products?query=a")
    first = card_titles(page)
    page.click("a[rel=next]")
    page.wait_for_url("**page=2")
    page.wait_for_selector("#results:not([aria-busy])")
    second = card_titles(page)
    assert second
    assert second != first
    page.go_back()
    page.wait_for_url(lambda url: "page=2" not in url)
    page.wait_for_selector("#results:not([aria-busy])")
    assert card_titles(page) == first
    # Keyboard use: the paging link is reachable and works with Enter.
    page.focus("a[rel=next]")
    page.keyboard.press("Enter")
    page.wait_for_url("**page=2")


def test_suggestion_chips(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page()
    page.goto(f"{server}/r/products")
    page.click("a.chip[data-value='espresso']")
    page.wait_for_url("**query=espresso")
    assert page.input_value("#in-query") == "espresso"
    page.wait_for_selector("#results:not([aria-busy])")
    assert all("Espresso" in title for title in card_titles(page))


def test_the_page_works_with_javascript_off(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(java_script_enabled=False)
    page.goto(f"{server}/r/products")
    page.fill("#in-query", "kettle")
    page.select_option("#in-category", "Kitchen")
    page.click("form.search button[type=submit]")
    page.wait_for_url("**query=kettle**")
    assert "category=Kitchen" in page.url
    assert all("Kettle" in title for title in card_titles(page))
    page.click("a.chip[data-value='hiking']")
    page.wait_for_url("**query=hiking")
    assert card_titles(page)


def test_a_phone_sized_viewport(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(f"{server}/r/products")
    columns = page.evaluate(
        "getComputedStyle(document.querySelector('.results')).gridTemplateColumns"
    )
    assert len(columns.split()) == 1
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False
    page.screenshot(path=str(SCREENSHOTS / "phone.png"))


def test_the_password_flow(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page()
    page.goto(f"{server}/r/locked?query=lamp")
    page.fill("#password", "wrong")
    page.click("form.unlock button")
    assert "not right" in page.locator("#password-error").inner_text()
    page.fill("#password", PASSWORD)
    page.click("form.unlock button")
    page.wait_for_url("**/r/locked?query=lamp")
    assert any("Lamp" in title for title in card_titles(page))


def test_views_are_recorded_as_interactions(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page()
    page.goto(f"{server}/r/products?query=tent")
    page.wait_for_timeout(1600)  # a card must stay in view for a second to count
    page.close()
    headers = owner_headers()
    listing = httpx.get(f"{server}/v1/retrievers", headers=headers).json()
    rid = next(r["retriever_id"] for r in listing["results"] if r["retriever_name"] == "products")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        recorded = httpx.get(f"{server}/v1/retrievers/{rid}/interactions", headers=headers).json()
        if recorded["total"]:
            break
        time.sleep(0.1)
    assert recorded["total"] > 0
    assert recorded["results"][0]["interaction_types"] == ["view"]


@pytest.fixture
def host_site(tmp_path: Path, server: str) -> Iterator[Callable[[str], str]]:
    """Another origin (same host, another port) with a page that embeds a retriever."""
    port = free_port()

    def page_for(name: str) -> str:
        (tmp_path / f"{name}.html").write_text(
            '<!doctype html><html><head><title>Host</title><link rel="icon" href="data:,">'
            "</head><body><h1>Host site</h1>"
            f'<script src="{server}/embed.js" data-retriever="{name}" data-height="300"></script>'
            "</body></html>"
        )
        return f"http://localhost:{port}/{name}.html"

    handler = partial(_QuietHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield page_for
    httpd.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_the_embed_resizes_in_a_page_from_another_origin(
    host_site: Callable[[str], str], open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport={"width": 1000, "height": 800})
    page.goto(host_site("products"))
    frame_element = page.wait_for_selector("iframe")
    frame = frame_element.content_frame()
    frame.wait_for_selector(".card")
    height = 0
    deadline = time.monotonic() + 10
    while height <= 1000 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        height = page.evaluate("document.querySelector('iframe').offsetHeight")
    content = frame.evaluate("document.documentElement.scrollHeight")
    assert abs(height - content) <= 2
    assert frame.locator(".bar").count() == 0  # no site chrome in the embed
    page.screenshot(path=str(SCREENSHOTS / "embed.png"))


def test_the_password_form_works_inside_the_iframe(
    host_site: Callable[[str], str], open_page: Callable[..., Any]
) -> None:
    page = open_page()
    page.goto(host_site("locked"))
    frame = page.wait_for_selector("iframe").content_frame()
    frame.wait_for_selector("#password")
    frame.fill("#password", PASSWORD)
    frame.click("form.unlock button")
    frame.wait_for_selector(".card")
    assert "/r/locked/embed" in frame.url


@pytest.fixture(autouse=True, scope="module")
def _clean_cache() -> Iterator[None]:
    yield
    # Playwright leaves its driver's temporary files behind when Chromium is the system's.
    for leftover in Path(os.environ.get("TMPDIR", "/tmp")).glob("playwright-artifacts-*"):
        shutil.rmtree(leftover, ignore_errors=True)
