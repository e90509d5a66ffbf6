"""Each field's Format list in Chromium, on a phone and a desktop: a year offers number,
badge and text (and plugins), a title text and badge; a format published through the API
that does not fit its field is told beside it as the editor opens, and choosing one that
fits saves and publishes; axe-core on each state, light and dark."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from tests.helpers import SCREENSHOTS, owner_headers
from tests.web import console_steps, test_accessibility, test_browser
from tests.web.console_steps import ON_EACH_DEVICE, editor_on, new_retriever

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
server = console_steps.server


def published_with_a_link_year(url: str, name: str) -> str:
    """A retriever published through the API with its year drawn as a link."""
    retriever_id = new_retriever(url, name, ("title",))
    published = httpx.post(
        f"{url}/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={
            "public_name": name,
            "display_config": {
                "title": "Books",
                "exposed_fields": ["title", "maintainer", "year"],
                "inputs": [
                    {
                        "field_name": "query",
                        "label": "Search",
                        "required": False,
                        "field_schema": {"type": "string"},
                    }
                ],
                "field_config": {"year": {"format": "url"}},
            },
        },
    )
    assert published.status_code == 200, published.text
    return retriever_id


def offered(page: Any, field: str) -> list[str]:
    row = page.locator(".row-item", has=page.locator(f"legend:text-is('{field}')"))
    values: list[str] = row.locator("select[name$='.format'] option").evaluate_all(
        "options => options.map(o => o.value).filter(Boolean)"
    )
    return values


@ON_EACH_DEVICE
def test_each_fields_formats_fit_its_kind(
    server: str, open_page: Callable[..., Any], axe_source: str, device: str, scheme: str
) -> None:
    name = f"kinds-{device}-{scheme}"
    page = editor_on(open_page, server, published_with_a_link_year(server, name), device, scheme)
    page.locator("#group-fields").evaluate("group => { group.open = true; }")
    assert offered(page, "title") == ["badge", "plugin", "text"]
    # The year's link is kept in its list, selected, and told beside it.
    assert offered(page, "year") == ["badge", "number", "plugin", "text", "url"]
    row = page.locator(".row-item", has=page.locator("legend:text-is('year')"))
    error = row.locator("p.field-error[id$='-format-error']")
    assert error.inner_text() == (
        "year holds years: url does not fit it; its formats are number, badge, text (or Automatic)"
    )
    assert "A format does not fit its field: choose another below to save." in (
        page.locator(".alert--error").first.inner_text()
    )
    assert violations(page, axe_source) == [], "a format that does not fit"
    if scheme == "light" and device == "desktop":
        row.scroll_into_view_if_needed()
        row.screenshot(path=str(SCREENSHOTS / "console-editor-format-kinds-desktop.png"))
    elif scheme == "light":
        row.scroll_into_view_if_needed()
        row.screenshot(path=str(SCREENSHOTS / "console-editor-format-kinds-phone.png"))

    # One that fits: saved and published, the error gone.
    row.locator("select[name$='.format']").select_option("number")
    page.locator(".publish-form button").click()
    page.locator("[role=status]", has_text="Published: the public page").wait_for()
    assert row.locator("p.field-error[id$='-format-error']").count() == 0
    assert offered(page, "year") == ["badge", "number", "plugin", "text"]
    assert violations(page, axe_source) == [], "a format that fits, published"
