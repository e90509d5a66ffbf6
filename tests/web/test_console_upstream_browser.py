"""In Chromium, as a publisher: a search page over a Mixpeek retriever made through the
console (an internal address refused beside its field first), published and searched on the
public page, against a real upstream on loopback; a field's format options and a searched
field unticked in the editor; axe-core on each of those states in light and dark; the
screenshots the docs show."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS, owner_headers
from tests.servers import LiveServer, live_app
from tests.web import test_accessibility, test_browser, test_console_browser
from tests.web.test_console_upstream import KEY as UPSTREAM_KEY
from tests.web.test_console_upstream import Upstream

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
signed_in = test_console_browser.signed_in
OWNER = test_console_browser.OWNER
PHONE, DESKTOP = test_console_browser.PHONE, test_console_browser.DESKTOP
KEY = OWNER.split(":", 1)[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A server allowing the upstream on 127.0.0.1 (and no other internal address), with the
    upstream's key as the secret "mixpeek-key", and a retriever over a collection searching
    its titles; the server's URL, the upstream's and that retriever's id."""
    upstream = Upstream()
    data_dir = tmp_path_factory.mktemp("upstream")
    with (
        LiveServer(upstream.app()) as mixpeek,
        live_app(data_dir, api_keys=[OWNER], upstream_allow=["127.0.0.1"]) as url,
    ):
        headers = owner_headers()
        httpx.post(
            f"{url}/v1/organizations/secrets",
            headers=headers,
            json={"secret_name": "mixpeek-key", "secret_value": UPSTREAM_KEY},
        ).raise_for_status()
        httpx.post(
            f"{url}/v1/collections/catalog/documents",
            headers=headers,
            json={"documents": test_console_browser.ROWS},
        ).raise_for_status()
        created = httpx.post(
            f"{url}/v1/retrievers",
            headers=headers,
            json={
                "retriever_name": "catalog search",
                "backend": {"type": "local", "collection": "catalog", "search_fields": ["title"]},
            },
        )
        created.raise_for_status()
        yield {"url": url, "upstream": mixpeek.url, "local": created.json()["retriever_id"]}


def mixpeek_form(page: Any, name: str, base_url: str) -> None:
    page.fill("#retriever_name", name)
    page.fill("#base_url", base_url)
    page.fill("#upstream_retriever_id", "ret_lamps")
    page.fill("#upstream_namespace", "ns_shop")
    page.select_option("#api_key_secret_name", "mixpeek-key")
    page.click("button:text-is('Create retriever')")


def test_a_publisher_makes_a_page_over_a_mixpeek_retriever(
    server: dict[str, str], open_page: Callable[..., Any]
) -> None:
    url = server["url"]
    page = signed_in(open_page, url, KEY, **DESKTOP)
    page.click("nav.tabs a:text-is('Retrievers')")
    page.click("a:text-is('New retriever')")
    page.click("text=A Mixpeek retriever")
    assert "loopback" in page.locator("#base_url-help").inner_text()
    mixpeek_form(page, "mixpeek lamps", "http://10.0.0.7")
    error = page.locator("#base_url-error")
    error.wait_for()
    assert "internal address" in error.inner_text()
    assert page.locator("#base_url").get_attribute("aria-invalid") == "true"
    assert page.locator("#upstream_retriever_id").input_value() == "ret_lamps"  # kept
    mixpeek_form(page, "mixpeek lamps", server["upstream"])
    page.locator("[role=status]", has_text="Created the retriever mixpeek lamps").wait_for()
    # Over an upstream the fields are typed, one a line.
    page.click("#group-fields summary")
    page.fill("#f-exposed_fields", "title\nprice")
    page.click("button:text-is('Save the draft')")
    page.locator("[role=status]", has_text="Draft saved").wait_for()
    page.fill("#public_name", "mixpeek-lamps")
    page.click("button:text-is('Publish the page')")
    page.locator("[role=status]", has_text="Published").wait_for()
    public = open_page(**DESKTOP)
    public.goto(f"{url}/r/mixpeek-lamps")
    public.fill("input[name=query]", "lamp")
    public.press("input[name=query]", "Enter")
    public.get_by_text("Brass lamp from Mixpeek").first.wait_for()
    assert public.get_by_text("Paper lantern").count() >= 1
    assert UPSTREAM_KEY not in public.content()


def test_a_fields_options_and_a_searched_field_unticked(
    server: dict[str, str], open_page: Callable[..., Any]
) -> None:
    page = signed_in(open_page, server["url"], KEY, **DESKTOP)
    page.goto(f"{server['url']}/console/retrievers/{server['local']}")
    page.click("#group-fields summary")
    row = page.locator("fieldset.row-item", has=page.locator("legend:text-is('price')"))
    row.locator("details.format-more summary").click()
    row.locator("select[name$='.format']").select_option("number")
    row.locator("input[name$='format_options.prefix']").fill("€ ")
    row.locator("input[name$='format_options.decimals']").fill("2")
    row.locator("select[name$='format_options.thousands_separator']").select_option("yes")
    title = page.locator("fieldset.row-item", has=page.locator("legend:text-is('title')"))
    title.locator("input.field-shown").uncheck()
    page.click("button:text-is('Save the draft')")
    error = title.locator(".field-error")
    error.wait_for()
    assert error.inner_text().startswith(
        "The retriever searches title, so the page must show it: tick it again."
    )
    # The only field searched: hiding it needs another searched first, in the Search tab.
    assert "first choose another field to search" in error.inner_text()
    assert title.locator(".field-error a", has_text="Search tab").count() == 1
    assert title.locator("input.field-shown").get_attribute("aria-invalid") == "true"
    # What was typed is kept, beside it.
    assert row.locator("input[name$='format_options.prefix']").input_value() == "€ "
    title.locator("input.field-shown").check()
    page.click("button:text-is('Save the draft')")
    page.locator("[role=status]", has_text="Draft saved").wait_for()
    frame = page.frame_locator('iframe[title="Preview on a desktop, light"]')
    frame.get_by_text("€ 1,290.00").first.wait_for()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_accessibility_violations_in_the_new_states(
    server: dict[str, str], open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    url = server["url"]
    options = {"bypass_csp": True, "color_scheme": scheme, **DESKTOP}
    page = signed_in(open_page, url, KEY, **options)
    page.goto(f"{url}/console/retrievers/new?source=mixpeek")
    assert violations(page, axe_source) == [], "the Mixpeek form"
    page.fill("#retriever_name", "bad/name")
    page.fill("#base_url", "http://192.168.1.1")
    page.fill("#upstream_retriever_id", "../x")
    page.fill("#upstream_namespace", "ns_shop")
    page.select_option("#api_key_secret_name", "mixpeek-key")
    page.click("button:text-is('Create retriever')")
    page.locator("#base_url-error").wait_for()
    assert violations(page, axe_source) == [], "the Mixpeek form with errors"
    page.goto(f"{url}/console/retrievers/{server['local']}")
    page.wait_for_load_state("networkidle")
    page.click("#group-fields summary")
    page.eval_on_selector_all("details.format-more", "all => all.forEach(d => d.open = true)")
    assert violations(page, axe_source) == [], "the editor with every format's options open"
    title = page.locator("fieldset.row-item", has=page.locator("legend:text-is('title')"))
    title.locator("input.field-shown").uncheck()
    price = page.locator("fieldset.row-item", has=page.locator("legend:text-is('price')"))
    price.locator("input[name$='format_options.width']").fill("99999")
    page.click("button:text-is('Save the draft')")
    title.locator(".field-error").wait_for()
    assert violations(page, axe_source) == [], "a searched field unticked, a width refused"
    phone = signed_in(open_page, url, KEY, **{**options, **PHONE})
    phone.goto(f"{url}/console/retrievers/new?source=mixpeek")
    assert violations(phone, axe_source) == [], "the Mixpeek form on a phone"


def test_screenshots(server: dict[str, str], open_page: Callable[..., Any]) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    url = server["url"]
    page = signed_in(open_page, url, KEY, **DESKTOP)
    page.goto(f"{url}/console/retrievers/new?source=mixpeek")
    mixpeek_form(page, "shop search", "http://10.0.0.7")
    page.locator("#base_url-error").wait_for()
    page.screenshot(path=str(SCREENSHOTS / "console-new-mixpeek.png"), full_page=True)
    page.goto(f"{url}/console/retrievers/{server['local']}")
    page.click("#group-fields summary")
    row = page.locator("fieldset.row-item", has=page.locator("legend:text-is('price')"))
    row.locator("details.format-more").evaluate("d => d.open = true")
    row.locator("select[name$='.format']").select_option("number")
    row.locator("input[name$='format_options.prefix']").fill("€ ")
    row.locator("input[name$='format_options.decimals']").fill("2")
    page.locator("#group-fields").screenshot(path=str(SCREENSHOTS / "console-editor-formats.png"))
    phone = signed_in(open_page, url, KEY, **PHONE)
    phone.goto(f"{url}/console/retrievers/new?source=mixpeek")
    phone.screenshot(path=str(SCREENSHOTS / "console-new-mixpeek-phone.png"), full_page=True)
    phone.goto(f"{url}/console/retrievers/{server['local']}")
    phone.click("#group-fields summary")
    prow = phone.locator("fieldset.row-item", has=phone.locator("legend:text-is('price')"))
    prow.locator("details.format-more").evaluate("d => d.open = true")
    prow.screenshot(path=str(SCREENSHOTS / "console-editor-formats-phone.png"))
