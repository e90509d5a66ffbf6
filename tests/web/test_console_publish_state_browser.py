"""The publish button after publishing, in Chromium, on a phone and a desktop: "Save and
publish" leaves it reading "Published", disabled, the reason beside it; a change makes it
"Save and publish" again and the change undone puts it back; publishing a saved draft with
"Publish the draft" ends the same; axe-core on each state, light and dark."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.helpers import SCREENSHOTS
from tests.web import test_accessibility, test_browser
from tests.web.console_steps import ON_EACH_DEVICE, books_app, new_retriever
from tests.web.test_console_browser import DESKTOP, PHONE, open_editor

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
NOTHING = (
    "Nothing to publish: the public page shows the draft. Change something below to publish again."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with books_app(tmp_path_factory.mktemp("publishstate")) as url:
        yield url


@ON_EACH_DEVICE
def test_the_publish_button_after_publishing(
    server: str, open_page: Callable[..., Any], axe_source: str, device: str, scheme: str
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    options = PHONE if device == "phone" else DESKTOP
    name = f"state-{device}-{scheme}"
    retriever_id = new_retriever(server, name, ("title",))
    page = open_editor(
        open_page, server, retriever_id, bypass_csp=True, color_scheme=scheme, **options
    )
    button = page.locator(".publish-form button")
    help = page.locator("#publish-help")

    # Save and publish: then nothing is left to publish, and the button says so.
    page.fill("#f-title", "Books to read")
    assert button.inner_text() == "Save and publish"
    page.fill("#public_name", name)
    button.click()
    page.locator("[role=status]", has_text="Published: the public page").wait_for()
    assert button.inner_text() == "Published"
    assert button.is_disabled()
    assert help.inner_text() == NOTHING
    assert violations(page, axe_source) == [], "published, nothing to publish"
    if scheme == "light" and device == "desktop":
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "console-editor-published-desktop.png"))
    elif scheme == "light":
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "console-editor-published-phone.png"))

    # A change: "Save and publish"; the change undone: "Published" again.
    page.fill("#f-title", "Books to read soon")
    assert button.inner_text() == "Save and publish"
    assert button.is_enabled()
    assert help.inner_text() == "Saves your changes below, then publishes them."
    page.fill("#f-title", "Books to read")
    assert button.inner_text() == "Published"
    assert button.is_disabled()

    # A draft saved, then published by "Publish the draft": the same end.
    page.fill("#f-title", "Books")
    page.click("button:text-is('Save the draft')")
    page.locator("[role=status]", has_text="Draft saved").wait_for()
    assert button.inner_text() == "Publish the draft"
    assert button.is_enabled()
    assert violations(page, axe_source) == [], "a draft to publish"
    button.click()
    page.locator("[role=status]", has_text="Published: the public page").wait_for()
    assert button.inner_text() == "Published"
    assert button.is_disabled()
    public = page.context.new_page()
    public.goto(f"{server}/r/{name}")
    assert "Books" in public.title() or "Books" in public.content()
