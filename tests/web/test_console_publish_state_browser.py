"""The publish button after publishing, in Chromium, on a phone and a desktop: "Save and
publish" leaves it reading "Published", disabled, the reason beside it; a change makes it
"Save and publish" again and the change undone puts it back; publishing a saved draft with
"Publish the draft" ends the same; axe-core on each state, light and dark."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.helpers import SCREENSHOTS
from tests.web import console_steps, test_accessibility, test_browser
from tests.web.console_steps import ON_EACH_DEVICE, editor_on, new_retriever

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
server = console_steps.server
NOTHING = (
    "Nothing to publish: the public page shows the draft. Change something below to publish again."
)


@ON_EACH_DEVICE
def test_the_publish_button_after_publishing(
    server: str, open_page: Callable[..., Any], axe_source: str, device: str, scheme: str
) -> None:
    name = f"state-{device}-{scheme}"
    page = editor_on(open_page, server, new_retriever(server, name, ("title",)), device, scheme)
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
