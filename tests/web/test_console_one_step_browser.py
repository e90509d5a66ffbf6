"""The editor in Chromium, without detours: a searched field hidden and no longer searched
in one save; a refused save still warns before leaving; the publish button beside unsaved
changes saves them and publishes, with no leave-site dialog; axe-core on those states,
light and dark."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import SCREENSHOTS
from tests.web import console_steps, test_accessibility, test_browser
from tests.web.console_steps import new_retriever
from tests.web.test_console_browser import DESKTOP, open_editor

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
server = console_steps.server


def editing(open_page: Callable[..., Any], server: str, name: str, scheme: str) -> tuple[Any, str]:
    """A new retriever's editor on a desktop in `scheme`, signed in; the page and its id."""
    retriever_id = new_retriever(server, name)
    page = open_editor(
        open_page, server, retriever_id, bypass_csp=True, color_scheme=scheme, **DESKTOP
    )
    return page, retriever_id


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_searched_field_hidden_in_one_save(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    page, retriever_id = editing(open_page, server, f"hide {scheme}", scheme)
    page.click("#group-fields summary")
    row = page.locator(".row-item", has=page.locator("legend", has_text="maintainer"))
    row.locator(".field-shown").uncheck()
    page.click("button:text-is('Save the draft')")
    error = row.locator(".field-error").first
    error.wait_for()
    assert "Or tick “Also stop searching maintainer” to hide it." in error.inner_text()
    assert violations(page, axe_source) == [], "a searched field unticked"
    # The changes sent are not saved: leaving still asks.
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.click(".subtabs >> text=Search")
    page.wait_for_timeout(300)
    assert dialogs == ["beforeunload"]
    assert page.url.endswith(retriever_id)
    row.get_by_label("Also stop searching maintainer").check()
    row.locator(".field-shown").uncheck()
    page.click("button:text-is('Save the draft')")
    page.locator("[role=status]", has_text="the retriever stopped searching").wait_for()
    assert dialogs == ["beforeunload"]
    assert page.locator("text=Also stop searching maintainer").count() == 0
    assert violations(page, axe_source) == [], "saved, no longer searched"
    if scheme == "light":
        page.locator("text=the retriever stopped searching").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "console-editor-stop-searching.png"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_publish_beside_unsaved_changes_saves_and_publishes(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    page, _ = editing(open_page, server, f"books {scheme}", scheme)
    help = page.locator("#publish-help")
    assert help.inner_text() == "Publishes the draft as last saved: save the changes below first."
    page.fill("#f-title", "Books to read")
    button = page.locator(".publish-form button")
    assert button.inner_text() == "Save and publish"
    assert help.inner_text() == "Saves your changes below, then publishes them."
    assert violations(page, axe_source) == [], "Save and publish"
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.fill("#public_name", f"books-{scheme}")
    button.click()
    page.locator("[role=status]", has_text="Published").wait_for()
    assert dialogs == []
    public = page.context.new_page()
    public.goto(f"{server}/r/books-{scheme}")
    assert "Books to read" in public.content()
    # Once published, a change shows the button again, saving and publishing.
    page.fill("#f-title", "Books to read soon")
    assert page.locator(".publish-form").is_visible()
    assert button.inner_text() == "Save and publish"
    button.click()
    page.locator("[role=status]", has_text="Published").wait_for()
    public.goto(f"{server}/r/books-{scheme}")
    assert "Books to read soon" in public.content()
    if scheme == "light":
        page.fill("#f-title", "Books")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "console-editor-save-and-publish.png"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_preview_waiting_names_each_value_to_fix(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    page, _ = editing(open_page, server, f"colours {scheme}", scheme)
    page.click("#group-theme summary")
    page.fill("#f-theme-primary_color", "#8B1E3")  # not a colour yet
    live = page.locator("#preview-live", has_text="The preview waits: 1 value to fix: ")
    live.wait_for()
    link = live.locator("a")
    assert link.get_attribute("href") == "#f-theme-primary_color"
    assert "colour" in link.inner_text().lower()
    assert violations(page, axe_source) == [], "the preview waiting, its field named"
    page.click("#group-theme summary")  # closed: the link opens it again
    link.click()
    assert page.locator("#f-theme-primary_color").is_visible()
