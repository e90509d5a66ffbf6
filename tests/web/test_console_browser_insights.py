"""A retriever's insights and relevance rules in Chromium, as a publisher uses them: a search
on the public page shows in the insights, a synonym added in the console finds what the
search did not; axe-core on both pages, and the screenshots the docs show."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from tests.helpers import SCREENSHOTS
from tests.web import test_console_browser
from tests.web.test_console_browser import DESKTOP, OWNER, PHONE, VIEWER_KEY, signed_in

browser = test_console_browser.browser
open_page = test_console_browser.open_page
axe_source = test_console_browser.axe_source
server = test_console_browser.server
violations = test_console_browser.violations

KEY = OWNER.split(":", 1)[1]
FLUSH_WAIT_SECONDS = 10.0


def _retriever_page(page: Any, server: str, name: str) -> str:
    """The console page `name` of the catalog's retriever, reached from the list's link."""
    page.goto(f"{server}/console/retrievers")
    page.click(f"a:has-text('{name.capitalize()}')")
    page.wait_for_url(f"**/{name}")
    return str(page.url)


def _wait_for_search(page: Any, query: str) -> None:
    """The search log is written a second or so after a search: reload until it shows."""
    deadline = time.monotonic() + FLUSH_WAIT_SECONDS
    while page.locator("#no-results ~ *", has_text=query).count() == 0:
        assert time.monotonic() < deadline, f"{query!r} never showed in the insights"
        time.sleep(0.5)
        page.reload()


def test_a_search_shows_in_the_insights_and_a_synonym_finds_it(
    server: str, open_page: Callable[..., Any]
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    public = open_page(**DESKTOP)
    for query in ("couch", "lamp", "lamp", "kettle"):
        public.goto(f"{server}/r/catalog?query={query}")
    assert public.locator("text=Linen sofa").count() == 0

    page = signed_in(open_page, server, KEY, **DESKTOP)
    insights = _retriever_page(page, server, "insights")
    _wait_for_search(page, "couch")
    queries = page.locator("section[aria-labelledby=queries] tbody")
    queries.locator("th", has_text="lamp").wait_for()
    assert page.locator("svg.chart").count() == 2
    assert page.locator("svg.chart rect.chart-bar").count() == 7
    assert page.locator("section[aria-labelledby=over-time] table").count() == 1
    assert page.locator(".badge--few").count() > 0
    page.screenshot(path=str(SCREENSHOTS / "console-insights.png"), full_page=True)

    # From the query that found nothing to a synonym set started with it.
    page.locator("#no-results ~ * tr", has_text="couch").locator("text=Add a synonym").click()
    assert page.input_value("#syn-terms") == "couch"
    page.click("text=Add synonyms")
    page.locator("#terms-error").wait_for()  # one word alone is no set
    page.fill("#syn-terms", "couch, sofa")
    page.click("text=Add synonyms")
    page.locator("[role=status]", has_text="Saved the synonyms.").wait_for()
    assert page.locator("#synonyms ~ ul.rules li", has_text="couch, sofa").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "console-relevance.png"), full_page=True)

    public.goto(f"{server}/r/catalog?query=couch")
    public.locator("text=Linen").first.wait_for()

    phone = signed_in(open_page, server, KEY, **PHONE)
    phone.goto(insights)
    phone.screenshot(path=str(SCREENSHOTS / "console-insights-phone.png"), full_page=True)
    phone.click("nav.subtabs a:text-is('Relevance')")
    phone.screenshot(path=str(SCREENSHOTS / "console-relevance-phone.png"), full_page=True)


def test_no_accessibility_violations_on_the_insights_and_relevance_pages(
    server: str, open_page: Callable[..., Any], axe_source: str
) -> None:
    for scheme in ("light", "dark"):
        options = {"bypass_csp": True, "color_scheme": scheme, **DESKTOP}
        page = signed_in(open_page, server, KEY, **options)
        insights = _retriever_page(page, server, "insights")
        assert violations(page, axe_source) == [], "insights"
        page.goto(f"{insights}?from=soon")
        assert violations(page, axe_source) == [], "insights with a bad date"
        relevance = _retriever_page(page, server, "relevance")
        assert violations(page, axe_source) == [], "relevance"
        page.fill("#cur-query", "lamp")
        page.fill("#pin-position-0", "first")
        page.click("text=Add curation")
        page.locator("#pin_position_0-error").wait_for()
        assert violations(page, axe_source) == [], "relevance with errors"
    phone = signed_in(open_page, server, VIEWER_KEY, bypass_csp=True, **PHONE)
    for path in (insights, relevance):
        phone.goto(path)
        assert violations(phone, axe_source) == [], path
