"""An upload's id column in Chromium, on a phone and a desktop: the form names it, the same
file uploaded again replaces its documents (the collection's count unchanged), a repeated id
told by its row, and an id column the file lacks refused beside its field; axe-core on each
state, light and dark, and the screenshots of each."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import SCREENSHOTS
from tests.servers import live_app
from tests.web import test_accessibility, test_browser
from tests.web.console_steps import ON_EACH_DEVICE, clean, fill_upload, send_upload, signed_in_on
from tests.web.test_console_browser import OWNER

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
CSV = "isbn,title,year\n0441013597,Dune,1965\n0141439580,Emma,1815\n0141439580,Emma again,1816\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_app(tmp_path_factory.mktemp("ids"), api_keys=[OWNER]) as url:
        yield url


def send(page: Any, name: str, file: Path, id_field: str) -> None:
    fill_upload(page, name, file, id=id_field)
    send_upload(page)


@ON_EACH_DEVICE
def test_an_upload_again_with_its_id_column_replaces(
    server: str,
    open_page: Callable[..., Any],
    axe_source: str,
    tmp_path: Path,
    device: str,
    scheme: str,
) -> None:
    shots = scheme == "light"
    name = f"books-{device}-{scheme}"
    page = signed_in_on(open_page, server, device, scheme)
    file = tmp_path / "books.csv"
    file.write_text(CSV)

    # An id column the file lacks: refused beside its field, what was typed kept.
    send(page, name, file, "sku")
    error = page.locator("#id-error")
    assert error.inner_text() == (
        "The id column 'sku' is not in the header (its columns: isbn, title, year)"
    )
    assert page.locator("#upload-id").input_value() == "sku"
    assert page.locator("#upload-id").get_attribute("aria-invalid") == "true"
    clean(page, axe_source, "an id column refused")
    form = page.locator("section:has(#upload-title)")
    if shots and device == "desktop":
        form.screenshot(path=str(SCREENSHOTS / "console-upload-id-refused-desktop.png"))
    elif shots:
        form.screenshot(path=str(SCREENSHOTS / "console-upload-id-refused-phone.png"))

    # Named: the repeated id told by its row.
    send(page, name, file, "isbn")
    page.wait_for_url(f"{server}/console/collections/{name}?report=*")
    status = page.locator("[role=status]", has_text=f"Imported 2 documents into {name}")
    assert "Row 4: isbn '0141439580' is on row 3 already" in status.inner_text()
    assert page.locator("#report-without-id").count() == 0

    # The same file again, with an edit: replaced, not added.
    file.write_text(CSV.replace("Dune,", "Dune Messiah,"))
    page.click("nav.tabs a:text-is('Collections')")
    send(page, name, file, "isbn")
    page.wait_for_url(f"{server}/console/collections/{name}?report=*")
    page.locator("[role=status]", has_text=f"Imported 2 documents into {name}").wait_for()
    assert "Dune Messiah" in page.locator("main").inner_text()
    clean(page, axe_source, "uploaded again with its id column")
    if shots and device == "desktop":
        page.screenshot(path=str(SCREENSHOTS / "console-upload-id-again-desktop.png"))
    elif shots:
        page.screenshot(path=str(SCREENSHOTS / "console-upload-id-again-phone.png"), full_page=True)
    page.click("nav.tabs a:text-is('Collections')")
    row = page.locator("tr", has=page.locator(f"th a:text-is('{name}')"))
    assert row.locator("td[data-label=Documents]").inner_text() == "2"
