"""axe-core (from the npm registry, `scripts/node-packages`) run inside Chromium on every page
and state a visitor meets, in light and dark: no violations of WCAG 2.2 A and AA or of axe's
best practices."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services.demo import DEMO_DISPLAY_CONFIG
from tests.helpers import IN_CI, local_backend, owner_headers, publish_backend
from tests.web import test_browser
from tests.web.test_browser import PASSWORD

browser = test_browser.browser
server = test_browser.server
open_page = test_browser.open_page

AXE = Path(__file__).parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PAGES = {
    "search page": "/r/shop",
    "results with filters picked": ("/r/shop?query=lamp&f.brand=Lumen&f.price.max=200&sort=-price"),
    "detail page": "/r/shop/d/p0001?query=lamp",
    "password page": "/r/locked",
    "embed": "/r/shop/embed",
    "directory": "/",
    "not found": "/r/no-such-search",
}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        if IN_CI:
            pytest.fail("axe-core is not installed; scripts/test installs it")
        pytest.skip("axe-core is not installed (scripts/node-packages)")
    return AXE.read_text()


def violations(page: Any, source: str) -> list[str]:
    page.add_script_tag(content=source)
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => v.id + ': ' + v.help + ' ' + "
        "v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')))",
        TAGS,
    )
    return list(found)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_accessibility_violations(
    server: str, open_page: Callable[..., Any], axe_source: str, name: str, scheme: str
) -> None:
    # The pages' CSP rightly refuses the inline script that injects axe: bypassed for the check.
    page = open_page(bypass_csp=True, color_scheme=scheme, viewport={"width": 1280, "height": 900})
    page.goto(server + PAGES[name])
    page.wait_for_load_state("networkidle")
    assert violations(page, axe_source) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_detail_dialog_and_a_phone_have_no_violations(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    page = open_page(bypass_csp=True, color_scheme=scheme, viewport={"width": 1280, "height": 900})
    page.goto(f"{server}/r/shop?query=kettle")
    page.locator(".card .title a").first.click()
    page.locator("dialog.detail-dialog[open]").wait_for()
    assert violations(page, axe_source) == []
    phone = open_page(
        bypass_csp=True,
        color_scheme=scheme,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    phone.goto(f"{server}/r/shop?query=kettle")
    assert violations(phone, axe_source) == []


def test_the_password_page_after_a_wrong_password(
    server: str, open_page: Callable[..., Any], axe_source: str
) -> None:
    page = open_page(bypass_csp=True)
    page.goto(f"{server}/r/locked")
    page.fill("#password", PASSWORD + "?")
    page.click("form.unlock button")
    page.locator("#password-error").wait_for()
    assert violations(page, axe_source) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_filters_sheet_on_a_phone_has_no_violations(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    page = open_page(
        bypass_csp=True,
        color_scheme=scheme,
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page.goto(f"{server}/r/shop?query=lamp")
    page.click(".filters-button")
    page.locator("dialog.sheet[open]").wait_for()
    assert violations(page, axe_source) == []


def test_a_page_over_its_rate_limit_has_no_violations(
    server: str, open_page: Callable[..., Any], axe_source: str
) -> None:
    config = {**DEMO_DISPLAY_CONFIG, "logo_url": None, "custom_cta": None}
    with httpx.Client(base_url=server) as client:
        rid = publish_backend(client, "busy", local_backend(), config)
        client.patch(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={"rate_limit_config": {"tier": "standard", "requests_per_minute": 1}},
        ).raise_for_status()
    page = open_page(bypass_csp=True, viewport={"width": 1280, "height": 900})
    status = 200
    for _ in range(3):  # (a minute may end between the two)
        httpx.get(f"{server}/r/busy")
        status = page.goto(f"{server}/r/busy?query=lamp").status
        if status == 429:
            break
    assert status == 429
    assert violations(page, axe_source) == []
