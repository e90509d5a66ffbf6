"""Search-as-you-type against the rate limit, in Chromium: a search a pause rather than a
keystroke, never the same search twice, what is in flight cancelled when the words change; a
429 met while typing keeps the page, its query and its results, counting down politely; and the
429 page itself is the publisher's, with the script and without."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import FakeClock, browse_config, owner_headers, publish_over_upstream
from tests.servers import LiveServer, free_port
from tests.web import test_browser

browser = test_browser.browser
open_page = test_browser.open_page

# Long enough that a search is still on its way when the shopper types on after a pause.
UPSTREAM_SECONDS = 0.8
# A shopper's keystrokes (ms apart: never a pause) and the pauses between words (ms).
KEYS = [140, 90, 200, 160, 110, 180, 130, 150]
SHORT_PAUSE = 700  # long enough to search, short enough to type on while it runs
LONG_PAUSE = 1800
THEME = {"primary_color": "#7C3AED"}
PER_MINUTE = 2
BUTTON_COLOUR = "getComputedStyle(document.querySelector('#search button')).backgroundColor"


def _upstream() -> Starlette:
    """A Mixpeek-compatible search that takes its time and names its results after the query."""

    async def execute(request: Request) -> Response:
        query = str((await request.json()).get("inputs", {}).get("query") or "everything")
        await asyncio.sleep(UPSTREAM_SECONDS)
        documents = [{"document_id": f"d{n}", "title": f"{query} {n}"} for n in range(3)]
        return JSONResponse({"documents": documents, "pagination": {"total": 3}})

    return Starlette(routes=[Route("/v1/retrievers/{rid}/execute", execute, methods=["POST"])])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FakeClock]]:
    """A live server on a clock the test moves, over the slow upstream: "typing" has no limit,
    "limited" allows two searches a minute and "refused" one."""
    clock = FakeClock()
    port = free_port()
    url = f"http://localhost:{port}"
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("typing"),
        public_url=url,
        api_keys=["acme:test-owner-key-0123456789"],
        upstream_allow=["127.0.0.1"],
    )
    with (
        LiveServer(_upstream()) as upstream,
        LiveServer(create_app(settings, clock=clock), port=port, host="localhost"),
        httpx.Client(base_url=url) as client,
    ):
        # (No logo: this closed machine cannot fetch the seed's.)
        plain = {
            "exposed_fields": ["title"],
            "field_config": {},
            "components": {},
            "logo_url": None,
        }
        config = browse_config(**plain)
        publish_over_upstream(client, "typing", upstream.url, config, "sk_typing")
        limited = browse_config(**plain, theme=THEME)
        rid = publish_over_upstream(client, "limited", upstream.url, limited, "sk_typing")
        _limit(client, rid, PER_MINUTE)
        rid = publish_over_upstream(client, "refused", upstream.url, limited, "sk_typing")
        _limit(client, rid, 1)
        yield url, clock


def _limit(client: httpx.Client, retriever_id: str, per_minute: int) -> None:
    client.patch(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"rate_limit_config": {"tier": "standard", "requests_per_minute": per_minute}},
    ).raise_for_status()


def _type(page: Any, text: str) -> None:
    for n, key in enumerate(text):
        page.keyboard.type(key)
        page.wait_for_timeout(KEYS[n % len(KEYS)])


def _titles(page: Any) -> list[str]:
    titles: list[str] = page.locator(".card .title").all_inner_texts()
    return titles


def _query(url: str) -> str:
    return parse_qs(urlsplit(url).query).get("query", [""])[0]


def test_typing_searches_once_a_pause_and_cancels_what_the_words_outran(
    site: tuple[str, FakeClock], open_page: Callable[..., Any]
) -> None:
    url, _ = site
    page = open_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{url}/r/typing")
    asked: list[str] = []
    aborted: list[str] = []

    def sent(request: Any) -> None:
        if request.headers.get("x-partial") == "results":
            asked.append(_query(request.url))

    page.on("request", sent)
    page.on("requestfailed", lambda request: aborted.append(_query(request.url)))
    page.focus("#in-query")
    _type(page, "desk")
    page.wait_for_timeout(SHORT_PAUSE)  # "desk" is asked for and still on its way...
    _type(page, " lamp")  # ...when the words change
    page.wait_for_timeout(LONG_PAUSE)
    page.wait_for_url("**query=desk+lamp")
    page.wait_for_selector("#results:not([aria-busy]) .card")
    # A slip put right before a pause, and Enter on words already searched: nothing new.
    _type(page, "s")
    page.keyboard.press("Backspace")
    page.wait_for_timeout(LONG_PAUSE)
    page.keyboard.press("Enter")
    page.wait_for_timeout(LONG_PAUSE)
    assert asked == ["desk", "desk lamp"]  # three pauses and an Enter: two searches
    assert aborted == ["desk"]
    assert _query(page.url) == "desk lamp"
    assert _titles(page) == ["desk lamp 0", "desk lamp 1", "desk lamp 2"]


def test_a_429_while_typing_keeps_the_page_and_counts_down(
    site: tuple[str, FakeClock], open_page: Callable[..., Any]
) -> None:
    url, clock = site
    page = open_page(viewport={"width": 1280, "height": 800})
    page.clock.install()  # the page's timers, moved on by the test like the server's clock
    page.goto(f"{url}/r/limited")  # the first search of the minute
    page.evaluate("window.notReloaded = true")
    accent = page.evaluate(BUTTON_COLOUR)
    page.fill("#in-query", "lamp")  # the second (typed at once: one pause, however busy)
    page.wait_for_url("**query=lamp")
    page.wait_for_selector("#results:not([aria-busy]) .card")
    assert _titles(page)[0] == "lamp 0"
    page.fill("#in-query", "lamp desk")  # one too many
    notice = page.get_by_role("status").filter(has_text="Too many searches")
    notice.wait_for()
    assert notice.get_attribute("aria-live") in (None, "polite")  # a status is polite
    seconds = int(notice.locator(".seconds").inner_text())
    assert 0 < seconds <= 60
    # The same page: its theme, the words typed, the results it had.
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate(BUTTON_COLOUR) == accent
    assert page.input_value("#in-query") == "lamp desk"
    assert _titles(page)[0] == "lamp 0"
    assert _query(page.url) == "lamp"
    # The minute ends: the wait is over and the words typed meanwhile are searched.
    clock.advance(60)
    page.clock.run_for(seconds * 1000 + 1000)
    page.wait_for_url("**query=lamp+desk**")
    page.wait_for_selector("#results:not([aria-busy]) .card")
    assert _titles(page)[0] == "lamp desk 0"
    assert notice.count() == 0


def test_the_429_page_is_the_publishers_and_searches_again_after_the_wait(
    site: tuple[str, FakeClock], open_page: Callable[..., Any]
) -> None:
    url, clock = site
    clock.advance(60)  # a minute of its own
    httpx.get(f"{url}/r/refused").raise_for_status()  # the minute's one search
    # Without the script: the publisher's page, its box searching it, and how long to wait.
    plain = open_page(java_script_enabled=False, viewport={"width": 1280, "height": 800})
    refused = plain.goto(f"{url}/r/refused?query=lamp")
    assert refused.status == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert plain.get_attribute("form[role=search]", "action") == "/r/refused"
    assert plain.input_value("#in-query") == "lamp"
    assert plain.evaluate(BUTTON_COLOUR) == "rgb(124, 58, 237)"  # the publisher's colour
    assert "Too many searches" in plain.get_by_role("status").inner_text()
    plain.click("form[role=search] button[type=submit]")  # still a working box: a new search
    assert "/r/refused?query=lamp" in plain.url
    # With it: the same page counts down, then searches by itself.
    page = open_page(viewport={"width": 1280, "height": 800})
    page.clock.install()
    page.goto(f"{url}/r/refused?query=lamp")
    page.evaluate("window.notReloaded = true")
    seconds = page.locator("[data-retry-after] .seconds")
    first = int(seconds.inner_text())
    page.clock.run_for(2000)
    # The installed clock also runs on in real time, so a loaded machine may add a second.
    assert first - 3 <= int(seconds.inner_text()) <= first - 2
    clock.advance(60)
    page.clock.run_for(first * 1000)
    page.wait_for_selector("#results:not([aria-busy]) .card")
    assert _titles(page)[0] == "lamp 0"
    assert page.evaluate("window.notReloaded") is True
