"""The pages in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import base64
import copy
import json
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

from app.paths import SAMPLE_CATALOG, STATIC_DIR
from app.services.demo import DEMO_DISPLAY_CONFIG, DEMO_PLUGIN_DIR, DEMO_PLUGIN_RATING
from app.services.importing import import_file
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import IN_CI, SCREENSHOTS, local_backend, owner_headers
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
# The demo's page, with its rating drawn by the example renderer plugin.
PLUGIN_CONFIG = copy.deepcopy(DEMO_DISPLAY_CONFIG)
PLUGIN_CONFIG["field_config"]["rating"] = DEMO_PLUGIN_RATING
PASSWORD = "open sesame"
# A renderer plugin that tries everything it must not be able to do, and writes down what
# happened in its own document (where the test reads it).
HOSTILE_PLUGIN = """<!doctype html><pre id=out>starting</pre><form id=f method=post
action="/v1/plugins"><input name=tag value=stolen></form><script>
var report = {};
function done() { document.getElementById("out").textContent = JSON.stringify(report); }
try { report.cookie = document.cookie; } catch (e) { report.cookie = "blocked"; }
try { report.parent = parent.document.title; } catch (e) { report.parent = "blocked"; }
try { report.storage = String(localStorage.length); } catch (e) { report.storage = "blocked"; }
try { top.location.href = "https://evil.example/"; report.top = "tried"; }
catch (e) { report.top = "blocked"; }
try { document.getElementById("f").submit(); report.form = "tried"; }
catch (e) { report.form = "blocked"; }
fetch("/v1/retrievers", {credentials: "include"}).then(
  function () { report.fetch = "reached"; done(); },
  function () { report.fetch = "blocked"; done(); });
window.addEventListener("message", function (event) {
  if (event.data && event.data.type === "retriever-pages:plugin-render") {
    report.message = event.data;
    parent.postMessage({type: "retriever-pages:plugin-height", height: 100000}, "*");
    done();
  }
});
parent.postMessage({type: "retriever-pages:plugin-ready"}, "*");
</script>"""


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
        for plugin in (
            {"tag": "star-rating", "blob": (DEMO_PLUGIN_DIR / "plugin.html").read_text()},
            {"tag": "hostile", "blob": HOSTILE_PLUGIN, "permissions": ["read_document"]},
        ):
            created = httpx.post(
                f"{url}/v1/plugins",
                headers=owner_headers(),
                json={"name": plugin["tag"].title(), **plugin},
            )
            assert created.status_code == 201, created.text
        listed = httpx.post(
            f"{url}/v1/plugins/star-rating/publish",
            headers=owner_headers(),
            json={
                "public_name": "star-rating",
                "category": "Ratings",
                "readme_markdown": (DEMO_PLUGIN_DIR / "README.md").read_text(),
                "sample_values": [4.5, 3.2, 1],
                "icon_base64": base64.b64encode((STATIC_DIR / "favicon.svg").read_bytes()).decode(),
            },
        )
        assert listed.status_code == 201, listed.text
        hostile_config = copy.deepcopy(PLUGIN_CONFIG)
        hostile_config["field_config"]["rating"]["format_options"]["plugin"] = "hostile"
        for name, password, config in (
            ("products", None, PLUGIN_CONFIG),
            ("shop", None, DEMO_DISPLAY_CONFIG),  # the demo's own page, as the docs show it
            ("locked", PASSWORD, PLUGIN_CONFIG),
            ("hostile", None, hostile_config),
        ):
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
                    "display_config": config,
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
        # A plugin's own document may log what its sandbox refused; the host page may not.
        self.frame_errors: list[str] = []
        self.page.plugin_errors = self.frame_errors  # read by the plugin tests
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and (
            where == self.page.url or "status of 429" in message.text
        ):
            return  # the page's own status (a 404 page), or a refused search: tests assert them
        frame = "/plugins/frame/" in where or "evil.example" in message.text
        (self.frame_errors if frame else self.errors).append(f"{message.text} ({where})")

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
    # A plugin's field shows its text: no script runs to draw it.
    rating = page.locator(".card .plugin-text").first
    assert rating.is_visible()
    assert float(rating.inner_text()) <= 5


def _plugin_frames(page: Any) -> list[Any]:
    return [frame for frame in page.frames if "/plugins/frame/" in frame.url]


def test_a_plugin_draws_a_field_and_sizes_its_frame(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/r/products?query=headphones")
    page.wait_for_selector(".plugin--ready")
    box = page.locator(".plugin--ready").first
    value = box.locator(".plugin-text").text_content()
    assert not box.locator(".plugin-text").is_visible()  # the frame took the text's place
    frame_element = box.locator("iframe")
    height = frame_element.evaluate("f => f.getBoundingClientRect().height")
    assert 16 <= height <= 40  # what the plugin reported, from 0 before
    frame = frame_element.element_handle().content_frame()
    assert frame.get_attribute("#row", "aria-label") == f"{float(value):.1f} out of 5 stars"
    assert frame.text_content("#num") == f"{float(value):.1f}"

    # Results that come with search-as-you-type get drawn too.
    page.fill("#in-query", "espresso")
    page.wait_for_url("**query=espresso")
    page.wait_for_selector("#results:not([aria-busy]) .plugin--ready")
    # A height message from anything but a plugin's own frame is ignored.
    page.evaluate("window.postMessage({type: 'retriever-pages:plugin-height', height: 300}, '*')")
    page.wait_for_timeout(300)
    heights = page.eval_on_selector_all(
        "iframe.plugin-frame", "fs => fs.map(f => f.getBoundingClientRect().height)"
    )
    assert max(heights) < 300
    assert page.plugin_errors == []
    page.locator(".card").first.screenshot(path=str(SCREENSHOTS / "plugin-card.png"))


def test_the_marketplace_previews_a_plugin_live(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{server}/plugins")
    assert page.locator(".plugin-card .title").all_inner_texts() == ["Star-Rating"]
    assert page.locator(".plugin-card img.plugin-icon").evaluate("i => i.naturalWidth") > 0
    page.screenshot(path=str(SCREENSHOTS / "plugins.png"))
    page.click(".plugin-card .title a")
    page.wait_for_url("**/plugins/star-rating")
    # (Polled from here: the page's CSP rightly refuses the eval that wait_for_function needs.)
    deadline = time.monotonic() + 10
    while page.locator(".plugin--ready").count() < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert page.locator(".plugin--ready").count() == 3
    labels = [frame.get_attribute("#row", "aria-label") for frame in _plugin_frames(page)]
    assert sorted(labels) == sorted(
        ["4.5 out of 5 stars", "3.2 out of 5 stars", "1.0 out of 5 stars"]
    )
    assert page.locator(".readme h1").inner_text() == "Star rating"
    page.screenshot(path=str(SCREENSHOTS / "plugin-page.png"), full_page=True)


def test_a_hostile_plugin_gets_nothing_and_moves_nothing(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page()
    page.context.add_cookies([{"name": "host_secret", "value": "s3cret", "url": server}])
    start = f"{server}/r/hostile?query=headphones"
    page.goto(start)
    page.wait_for_selector(".plugin--ready")
    frame = _plugin_frames(page)[0]
    report: dict[str, Any] = {}
    deadline = time.monotonic() + 10
    while not ("fetch" in report and "message" in report) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        text = frame.text_content("#out") or ""
        report = json.loads(text) if text.startswith("{") else {}
    assert "s3cret" not in json.dumps(report)
    assert report["cookie"] in ("", "blocked")
    assert report["parent"] == "blocked"
    assert report["storage"] == "blocked"
    assert report["fetch"] == "blocked"
    # It was told only the card's exposed fields.
    assert set(report["message"]["document"]) <= set(DEMO_DISPLAY_CONFIG["exposed_fields"])
    page.wait_for_timeout(500)
    assert page.url == start  # top.location did not move
    assert page.evaluate("document.cookie") == "host_secret=s3cret"
    listed = httpx.get(f"{server}/v1/plugins?include_drafts=true", headers=owner_headers())
    assert sorted(p["tag"] for p in listed.json()["plugins"]) == ["hostile", "star-rating"]
    # The absurd height it asked for is capped.
    heights = page.eval_on_selector_all(
        ".plugin--ready iframe", "fs => fs.map(f => f.getBoundingClientRect().height)"
    )
    assert max(heights) == 600


def test_a_phone_sized_viewport(server: str, open_page: Callable[..., Any]) -> None:
    page = open_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.goto(f"{server}/r/products")
    columns = page.evaluate(
        "getComputedStyle(document.querySelector('.results')).gridTemplateColumns"
    )
    assert len(columns.split()) == 1
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert overflow is False


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
    height, content = 0, -10
    deadline = time.monotonic() + 10
    # The frame follows its content as it settles (images and fonts arrive after the cards):
    # wait for the two to agree, within the deadline.
    while (height <= 1000 or abs(height - content) > 2) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        height = page.evaluate("document.querySelector('iframe').offsetHeight")
        content = frame.evaluate("document.documentElement.scrollHeight")
    assert height > 1000
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


def test_the_themes_font_stack_reaches_the_browser_whole(
    server: str, open_page: Callable[..., Any]
) -> None:
    page = open_page()
    page.goto(f"{server}/r/products")
    body = page.evaluate("getComputedStyle(document.body).fontFamily")
    # Chromium reports the stack as parsed: had the quotes been HTML-escaped inside <style>,
    # the declaration would have been dropped and this would be the browser's default serif.
    assert body.replace('"', "'") == DEMO_DISPLAY_CONFIG["theme"]["font_family"]
    heading = page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert heading == body  # no heading font of its own: one family for the whole page
