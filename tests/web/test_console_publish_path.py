"""The whole way from a CSV to a themed public page in Chromium, as a newcomer takes it, on a
phone and a desktop: sign in, upload (answered at the collection's address), the new
retriever's fields with their kinds, the editor whose preview follows the form before
anything is saved (a bad value told beside its field), publishing, the retrievers list and
the public page with the labels set on its cards; axe-core on each state, light and dark,
and the screenshots of each step."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import SCREENSHOTS, owner_headers
from tests.servers import live_app
from tests.web import test_accessibility, test_browser
from tests.web.console_steps import ON_EACH_DEVICE, clean, fill_upload, send_upload, signed_in_on
from tests.web.test_console_browser import DESKTOP, OWNER, open_editor, signed_in

browser = test_browser.browser
open_page = test_browser.open_page
axe_source = test_accessibility.axe_source
violations = test_accessibility.violations
KEY = OWNER.split(":", 1)[1]
WINE = "#8B1E3F"
TITLES = [
    "Dune", "Emma", "Ulysses", "Beloved", "Middlemarch", "Rebecca", "Dracula", "Persuasion",
    "Frankenstein", "Lolita", "Walden", "Kindred", "Solaris", "Neuromancer", "Ivanhoe",
    "Carmilla", "Siddhartha", "Candide", "Hyperion", "Atonement", "Stoner", "Possession",
    "Regeneration", "Matilda", "Wonder", "Room", "Shogun", "Roots", "Holes", "Sula",
]  # fmt: skip
CSV = "title,author,year,price,tags\n" + "".join(
    f"{title},Author {n},{1900 + n},{9 + n}.5,classic|shelf {n % 3}\n"
    for n, title in enumerate(TITLES)
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_app(tmp_path_factory.mktemp("path"), api_keys=[OWNER]) as url:
        yield url


def searching_titles(server: str, name: str, documents: list[dict[str, Any]]) -> str:
    """The collection `name` of `documents` and a retriever of that name searching its titles;
    the retriever's id."""
    httpx.post(
        f"{server}/v1/collections/{name}/documents",
        headers=owner_headers(),
        json={"documents": documents},
    ).raise_for_status()
    created = httpx.post(
        f"{server}/v1/retrievers",
        headers=owner_headers(),
        json={
            "retriever_name": name,
            "backend": {"type": "local", "collection": name, "search_fields": ["title"]},
        },
    )
    created.raise_for_status()
    retriever_id: str = created.json()["retriever_id"]
    return retriever_id


@ON_EACH_DEVICE
def test_from_a_csv_to_a_themed_page(
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
    clean(page, axe_source, "signed in")

    # Upload: the lists rule told, and the answer at the collection's own address.
    file = tmp_path / "books.csv"
    file.write_text(CSV)
    page.click("nav.tabs a:text-is('Collections')")
    assert "between |" in page.locator("#lists-help").inner_text()
    fill_upload(page, name, file, lists="tags")
    if shots and device == "desktop":
        page.screenshot(path=str(SCREENSHOTS / "console-path-upload.png"), full_page=True)
    send_upload(page)
    page.wait_for_url(f"{server}/console/collections/{name}?report=*")
    page.locator("[role=status]", has_text=f"Imported 30 documents into {name}").wait_for()
    clean(page, axe_source, "the upload's report")
    if shots and device == "desktop":
        page.screenshot(path=str(SCREENSHOTS / "console-path-imported-desktop.png"), full_page=True)
    elif shots:
        page.screenshot(path=str(SCREENSHOTS / "console-path-imported-phone.png"), full_page=True)

    # The new retriever: each field with its kind.
    page.click(f"text=Make a search page over {name} →")
    kinds = page.locator("fieldset:has(legend:text-is('Fields to search in " + name + "')) li")
    assert kinds.all_inner_texts() == [
        "title text",
        "author text",
        "tags list",
        "year year",
        "price number",
    ]
    clean(page, axe_source, "the new retriever")
    if shots and device == "desktop":
        page.screenshot(
            path=str(SCREENSHOTS / "console-path-new-retriever-desktop.png"), full_page=True
        )
    elif shots:
        page.screenshot(
            path=str(SCREENSHOTS / "console-path-new-retriever-phone.png"), full_page=True
        )
    assert page.locator("#retriever_name").input_value() == name.replace("-", " ")
    page.fill("#retriever_name", f"book finder {device} {scheme}")
    page.click("text=Create retriever")
    page.locator("[role=status]", has_text="Created the retriever").wait_for()

    # The editor: a label and a colour, previewed as typed, before saving.
    page.click("#group-fields summary")
    year = page.locator(".row-item", has=page.locator("legend", has_text="year"))
    year.get_by_label("Label").fill("Year")
    page.click("#group-theme summary")
    page.fill("#f-theme-primary_color", "#8B1E3")  # not a colour yet
    error = page.locator("#f-theme-primary_color-error")
    error.wait_for()
    assert "#" in error.inner_text()
    assert page.locator("#f-theme-primary_color").get_attribute("aria-invalid") == "true"
    page.locator("#preview-live", has_text="The preview waits: 1 value to fix").wait_for()
    clean(page, axe_source, "a bad colour, told as typed")
    page.fill("#f-theme-primary_color", WINE)
    shows = "The preview shows your changes" if device == "desktop" else "Open the preview shows"
    page.locator("#preview-live", has_text=shows).wait_for()
    assert error.count() == 0
    assert page.locator("#f-theme-primary_color").get_attribute("aria-invalid") is None
    if device == "desktop":
        frame = page.frame_locator('iframe[title="Preview on a desktop, light"]')
        frame.locator(".m-label", has_text="Year").first.wait_for()
        for title in ("Preview on a phone, light", "Preview on a desktop, dark"):
            drawn = page.frame_locator(f'iframe[title="{title}"]')
            drawn.locator(".m-label", has_text="Year").first.wait_for()
            primary = drawn.locator("html").evaluate(
                "el => getComputedStyle(el).getPropertyValue('--primary').trim()"
            )
            assert primary == WINE, title
    else:  # a tap away, in a tab of its own
        with page.context.expect_page() as opened:
            page.click(".preview-wide a:text-is('Dark')")
        tab = opened.value
        tab.locator(".m-label", has_text="Year").first.wait_for()
        primary = tab.locator("html").evaluate(
            "el => getComputedStyle(el).getPropertyValue('--primary').trim()"
        )
        assert primary == WINE
        tab.close()
    clean(page, axe_source, "the preview following the form")
    if shots:
        page.locator("#preview").scroll_into_view_if_needed()
    if shots and device == "desktop":
        page.screenshot(path=str(SCREENSHOTS / "console-path-live-preview-desktop.png"))
    elif shots:
        page.screenshot(path=str(SCREENSHOTS / "console-path-live-preview-phone.png"))
    page.click("button:text-is('Save the draft')")
    page.locator("[role=status]", has_text="Draft saved").wait_for()
    assert page.locator("[role=status]", has_text="Draft saved").inner_text() == (
        "Draft saved; the public page changes when you publish."
    )

    # Publish, then the list keeps the address whole, and the public page shows the label.
    public_name = f"book-finder-{device}-{scheme}"
    page.fill("#public_name", public_name)
    page.click("button:text-is('Publish the page')")
    page.locator("[role=status]", has_text="Published").wait_for()
    clean(page, axe_source, "published")
    if shots and device == "desktop":
        page.screenshot(path=str(SCREENSHOTS / "console-path-published-desktop.png"))
    elif shots:
        page.screenshot(path=str(SCREENSHOTS / "console-path-published-phone.png"))
    page.click("nav.tabs a:text-is('Retrievers')")
    link = page.locator(f"a.page-link:text-is('/r/{public_name}')")
    lines = link.evaluate("a => new Set([...a.getClientRects()].map(r => Math.round(r.top))).size")
    assert lines == 1, "the address broke across lines"
    clean(page, axe_source, "the retrievers")
    page.goto(f"{server}/r/{public_name}")
    label = page.locator(".card .m-label", has_text="Year").first
    assert label.is_visible()
    fact = page.locator(".card li.f-year").first.text_content() or ""
    assert fact.startswith("Year: 19"), fact  # the colon is for screen readers
    titles = page.locator(".card .title").all_inner_texts()
    assert len(titles) == 20
    # Each card's facts stay inside it, on a phone as on a desktop.
    overflow = page.evaluate(
        "() => [...document.querySelectorAll('.card')].filter(c => c.scrollWidth > "
        "c.clientWidth + 1).length"
    )
    assert overflow == 0
    clean(page, axe_source, "the public page")
    if shots and device == "desktop":
        page.screenshot(path=str(SCREENSHOTS / "console-path-public-desktop.png"))
    elif shots:
        page.screenshot(path=str(SCREENSHOTS / "console-path-public-phone.png"))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_what_it_searches_and_its_meaning_change_in_the_console(
    server: str, open_page: Callable[..., Any], axe_source: str, scheme: str
) -> None:
    name = f"shelf-{scheme}"
    documents = [{"title": t, "year": 1900 + n} for n, t in enumerate(TITLES[:5])]
    rid = searching_titles(server, name, documents)
    page = open_editor(open_page, server, rid, bypass_csp=True, color_scheme=scheme, **DESKTOP)
    page.click("nav.subtabs a:text-is('Search')")
    page.locator("input[name=search_fields][value=title]").uncheck()
    page.click("text=Save what it searches")
    page.locator("#fields-error").wait_for()
    clean(page, axe_source, "no field to search, told beside the fields")
    page.locator("input[name=search_fields][value=title]").check()
    page.locator("input[name=mode][value=keyword]").check()
    page.click("text=Save what it searches")
    page.locator("[role=status]", has_text="Saved").wait_for()
    clean(page, axe_source, "what it searches, saved")
    if scheme == "light":
        page.screenshot(path=str(SCREENSHOTS / "console-search.png"), full_page=True)

    page.goto(f"{server}/console/collections/{name}")
    page.click("#embedding summary")
    page.locator("input[name=embed_fields][value=title]").uncheck()
    page.click("text=Compute meaning")
    page.locator("#embed-fields-error").wait_for()
    clean(page, axe_source, "no field to embed, told beside the fields")
    page.locator("input[name=embed_fields][value=title]").check()
    page.click("text=Compute meaning")
    page.locator("[role=status]", has_text=f"Set: {name} computes meaning").wait_for()
    clean(page, axe_source, "meaning computed")
    if scheme == "light":
        page.click("#embedding summary")
        page.screenshot(path=str(SCREENSHOTS / "console-embedding.png"), full_page=True)


SHIFTS = """
window.__shifts = 0;
new PerformanceObserver(list => {
  for (const entry of list.getEntries()) window.__shifts += entry.value;
}).observe({type: 'layout-shift', buffered: true});
"""


def test_the_previews_draw_without_shifting(server: str, open_page: Callable[..., Any]) -> None:
    """A preview's frame shows its page once styled: nothing in view moves as it loads."""
    documents = [{"title": t, "cover": "/static/favicon.svg"} for t in TITLES[:6]]
    rid = searching_titles(server, "still", documents)
    page = signed_in(open_page, server, KEY, viewport={"width": 1350, "height": 940})
    page.add_init_script(SHIFTS)  # in every frame
    page.goto(f"{server}/console/retrievers/{rid}")
    preview = page.frame_locator('iframe[title="Preview on a desktop, light"]')
    preview.locator(".card").first.wait_for()
    page.wait_for_timeout(500)
    shifts = [frame.evaluate("window.__shifts || 0") for frame in page.frames]
    assert len(shifts) == 5
    assert max(shifts) < 0.05, shifts
