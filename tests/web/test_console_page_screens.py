"""The console's Pages screens over HTTP: the list, making a page of two tabs from the form (it
then answers at /p/{slug}), each refusal beside its field, changing and deleting one, CSRF on
every form, a viewer who reads only, and hostile values shown inert."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OWNER_KEY, owner_headers
from tests.page_sites import build
from tests.web.test_console import EDITOR_KEY, VIEWER_KEY, csrf, sign_in
from tests.web.test_console_pages import HOSTILE, inert


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    keys = [
        f"{NAMESPACE}:{OWNER_KEY}",
        f"{NAMESPACE}:{VIEWER_KEY}@viewer",
        f"{NAMESPACE}:{EDITOR_KEY}@editor",
    ]
    with TestClient(create_app(make_settings(api_keys=keys)), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def ids(console: TestClient) -> dict[str, str]:
    """The retrievers shop, help-centre, locked and broken, and the page "everything"."""
    return build(console)


def two_tabs(ids: dict[str, str], **fields: str) -> dict[str, str]:
    shop, help_centre = ids["shop"], ids["help-centre"]
    return {
        "slug": "shop-and-help",
        "title": "Shop and help",
        f"tab-{shop}": "on",
        f"tab-{shop}-label": "Products",
        f"tab-{shop}-tab_id": "products",
        f"tab-{shop}-order": "1",
        f"tab-{help_centre}": "on",
        f"tab-{help_centre}-label": "Help",
        f"tab-{help_centre}-tab_id": "help",
        f"tab-{help_centre}-order": "2",
        "all_enabled": "on",
        "all_mode": "grouped",
        "hero_headline": "Find it",
        "stats": "Products: tab:products\nCustomers: 12,400+",
        "featured_ids": "p2, p1",
        "markdown_title": "About",
        "markdown": "Ask us **anything**.",
        "is_active": "on",
        **fields,
    }


def error_beside(html: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', html)
    assert found, f"no error beside {field}"
    return found[1]


def test_an_editor_makes_a_page_of_two_tabs(console: TestClient, ids: dict[str, str]) -> None:
    sign_in(console, EDITOR_KEY)
    listing = console.get("/console/pages")
    assert listing.status_code == 200
    assert '<a href="/console/pages" aria-current="page">Tabbed pages</a>' in listing.text
    # What it is, in one line, and where a search page over a collection is made instead.
    assert "One address with several published search pages as its tabs" in listing.text
    assert 'start in <a href="/console/retrievers">Retrievers</a>' in listing.text
    assert "Everything we have" in listing.text  # the page made through the API
    form = console.get("/console/pages/new")
    assert form.status_code == 200
    offered = re.findall(
        r'<input type="checkbox" name="tab-[^"]+" value="on"> <span>([^<]+)', form.text
    )
    assert offered == ["shop", "help-centre", "locked", "broken"]  # the published retrievers
    made = console.post(
        "/console/pages/new", data={"csrf": csrf(console), **two_tabs(ids)}, follow_redirects=False
    )
    assert made.status_code == 303, made.text
    assert made.headers["location"].startswith("/console/pages?done=")
    stored = console.get("/v1/pages/shop-and-help", headers=owner_headers()).json()
    assert [(t["tab_id"], t["label"], t["order"]) for t in stored["tabs"]] == [
        ("products", "Products", 1),
        ("help", "Help", 2),
    ]
    assert stored["all_tab"]["mode"] == "grouped"
    assert stored["all_tab"]["enabled"]
    assert [s["type"] for s in stored["sections"]] == [
        "hero",
        "stats-bar",
        "featured-gallery",
        "search-tabs",
        "markdown-content",
    ]
    assert stored["stats"] == [
        {"label": "Products", "value": None, "tab_id": "products"},
        {"label": "Customers", "value": "12,400+", "tab_id": None},
    ]
    page = console.get("/p/shop-and-help?tab=all&query=lamp")
    assert page.status_code == 200
    assert 'id="group-products"' in page.text
    assert 'id="group-help"' in page.text
    assert "<strong>anything</strong>" in page.text


def test_the_form_shows_a_stored_page_and_saves_a_change(
    console: TestClient, ids: dict[str, str]
) -> None:
    sign_in(console, EDITOR_KEY)
    console.post("/console/pages/new", data={"csrf": csrf(console), **two_tabs(ids)})
    page_id = console.get("/v1/pages/shop-and-help", headers=owner_headers()).json()["page_id"]
    shown = console.get(f"/console/pages/{page_id}")
    assert shown.status_code == 200
    assert 'name="slug" value="shop-and-help"' in shown.text
    assert re.search(rf'name="tab-{ids["shop"]}" value="on" checked', shown.text)
    assert re.search(rf'name="tab-{ids["locked"]}" value="on">', shown.text)
    assert "Products: tab:products\nCustomers: 12,400+" in shown.text
    changed = two_tabs(ids, title="Shop, help and staff", all_mode="merged")
    changed.update({f"tab-{ids['locked']}": "on", f"tab-{ids['locked']}-tab_id": "staff"})
    changed[f"tab-{ids['locked']}-label"] = "Staff"
    saved = console.post(
        f"/console/pages/{page_id}", data={"csrf": csrf(console), **changed}, follow_redirects=False
    )
    assert saved.status_code == 303, saved.text
    stored = console.get(f"/v1/pages/{page_id}", headers=owner_headers()).json()
    assert stored["meta"]["title"] == "Shop, help and staff"
    assert [t["tab_id"] for t in stored["tabs"]] == ["products", "help", "staff"]
    assert stored["all_tab"]["mode"] == "merged"
    assert stored["version"] == 2


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"slug": "No Spaces"}, "slug", "lowercase"),
        ({"slug": "shop"}, "slug", "published retriever"),
        ({"slug": "everything"}, "slug", "taken"),
        ({"title": ""}, "title", "at least 1"),
        ({"tab-{shop}-label": "x" * 41}, "tab-{shop}-label", "at most 40"),
        ({"tab-{help}-tab_id": "products"}, "tab-{help}-tab_id", "used twice"),
        ({"tab-{shop}-tab_id": "all"}, "tab-{shop}-tab_id", "merged tab"),
        ({"tab-{shop}-order": "soon"}, "tab-{shop}-order", "integer"),
        ({"stats": "Products: tab:nowhere"}, "stats", "one of the tabs"),
        ({"featured_tab": "nowhere"}, "featured_tab", "one of the tabs"),
        ({"hero_subheadline": "x" * 501}, "hero_subheadline", "at most 500"),
    ],
)
def test_each_refusal_is_beside_its_field(
    console: TestClient, ids: dict[str, str], change: dict[str, str], field: str, says: str
) -> None:
    sign_in(console, EDITOR_KEY)
    names = {"shop": ids["shop"], "help": ids["help-centre"]}
    sent = two_tabs(ids, **{k.format(**names): v for k, v in change.items()})
    refused = console.post("/console/pages/new", data={"csrf": csrf(console), **sent})
    assert refused.status_code in (409, 422), refused.text
    assert says in error_beside(refused.text, field.format(**names))
    assert "The page was not saved" in refused.text
    # What was typed is shown again.
    assert 'name="title" value="{}"'.format(sent["title"]) in refused.text
    assert console.get("/v1/pages/shop-and-help", headers=owner_headers()).status_code == 404


def test_no_tab_picked_is_refused(console: TestClient, ids: dict[str, str]) -> None:
    sign_in(console, EDITOR_KEY)
    sent = {k: v for k, v in two_tabs(ids).items() if not re.fullmatch(r"tab-[^-]+", k)}
    refused = console.post("/console/pages/new", data={"csrf": csrf(console), **sent})
    assert refused.status_code == 422
    assert "at least 1" in error_beside(refused.text, "tabs")


def test_every_form_needs_its_token(console: TestClient, ids: dict[str, str]) -> None:
    sign_in(console, OWNER_KEY)
    for path in ("/console/pages/new", f"/console/pages/{ids['page']}"):
        refused = console.post(path, data=two_tabs(ids))
        assert refused.status_code == 403, path
        assert "expired" in refused.text
    gone = console.post(f"/console/pages/{ids['page']}/delete", data={"csrf": "forged"})
    assert gone.status_code == 403
    assert console.get(f"/v1/pages/{ids['page']}", headers=owner_headers()).status_code == 200


def test_a_viewer_reads_an_editor_changes_an_owner_deletes(
    console: TestClient, ids: dict[str, str]
) -> None:
    sign_in(console, VIEWER_KEY)
    listing = console.get("/console/pages")
    assert "New tabbed page" not in listing.text
    assert "Delete" not in listing.text
    shown = console.get(f"/console/pages/{ids['page']}")
    assert shown.status_code == 200
    assert "needs the editor role" in shown.text
    assert "<button" not in shown.text.split("<main")[1].split("</main>")[0]
    assert 'name="title" value="Everything we have" autocomplete="off" spellcheck="false"' in (
        shown.text
    )
    assert console.get("/console/pages/new").status_code == 403
    refused = console.post(
        f"/console/pages/{ids['page']}", data={"csrf": csrf(console), **two_tabs(ids)}
    )
    assert refused.status_code == 403
    sign_in(console, EDITOR_KEY)
    assert console.get(f"/console/pages/{ids['page']}/delete").status_code == 403
    sign_in(console, OWNER_KEY)
    confirm = console.get(f"/console/pages/{ids['page']}/delete")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text
    deleted = console.post(
        f"/console/pages/{ids['page']}/delete",
        data={"csrf": csrf(console)},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    assert console.get("/p/everything").status_code == 404
    assert "Deleted the page everything." in console.get(deleted.headers["location"]).text


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_values_are_shown_inert(
    console: TestClient, ids: dict[str, str], hostile: Any
) -> None:
    sign_in(console, EDITOR_KEY)
    sent = two_tabs(ids, title=hostile, hero_headline=hostile, markdown=hostile, stats=hostile)
    answer = console.post("/console/pages/new", data={"csrf": csrf(console), **sent})
    assert answer.status_code in (200, 422)
    inert(answer.text)
    listing = console.get("/console/pages")
    inert(listing.text)


def test_saving_keeps_what_the_form_does_not_show(console: TestClient, ids: dict[str, str]) -> None:
    sections = [
        {"type": "search-tabs"},
        {"type": "markdown-content", "props": {"markdown": "First *panel*."}},
        {"type": "markdown-content", "props": {"markdown": "Second *panel*."}},
        {"type": "hero", "order": 0},
    ]
    hero = {"headline": "Everything", "background_color": "#102030", "text_color": "#FFFFFF"}
    patched = console.patch(
        f"/v1/pages/{ids['page']}",
        headers=owner_headers(),
        json={"sections": sections, "hero": hero, "all_tab": {"enabled": True, "per_tab": 3}},
    )
    assert patched.status_code == 200, patched.text
    sign_in(console, EDITOR_KEY)
    shown = console.get(f"/console/pages/{ids['page']}")
    assert "does not draw" in shown.text
    sent = two_tabs(ids, slug="everything", hero_headline="Everything, changed")
    saved = console.post(
        f"/console/pages/{ids['page']}",
        data={"csrf": csrf(console), **sent},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    stored = console.get(f"/v1/pages/{ids['page']}", headers=owner_headers()).json()
    assert [s["type"] for s in stored["sections"]] == [
        "search-tabs",
        "markdown-content",
        "markdown-content",
        "hero",
    ]
    assert stored["hero"]["headline"] == "Everything, changed"
    assert stored["hero"]["background_color"] == "#102030"
    assert stored["all_tab"]["per_tab"] == 3


def test_a_tab_whose_retriever_went_is_kept_and_refused_beside_it(
    console: TestClient, ids: dict[str, str]
) -> None:
    console.delete(f"/v1/retrievers/{ids['broken']}/publish", headers=owner_headers())
    sign_in(console, EDITOR_KEY)
    shown = console.get(f"/console/pages/{ids['page']}")
    assert "Partners (not published)" in shown.text
    assert re.search(rf'name="tab-{ids["broken"]}" value="on" checked', shown.text)
    fields = dict(
        re.findall(r'<(?:input|textarea)[^>]* name="([^"]+)" value="([^"]*)"', shown.text)
    )
    fields = {k: v for k, v in fields.items() if k != "csrf"}
    for name in re.findall(r'name="(tab-[^"-]+)" value="on" checked', shown.text):
        fields[name] = "on"
    refused = console.post(f"/console/pages/{ids['page']}", data={"csrf": csrf(console), **fields})
    assert refused.status_code == 422
    assert "publish it first" in error_beside(refused.text, f"tab-{ids['broken']}-label")
