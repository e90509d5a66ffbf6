"""The console's page editor over HTTP: the form and the JSON view saved as a draft, errors by
field, roles and CSRF, the preview of the draft (private, framed by the console only, hostile
values inert), and publishing it (versions: tests/web/test_console_versions.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OWNER_KEY, browse_config, local_backend, owner_headers
from tests.web.test_console import VIEWER_KEY, form_value, sign_in

DOCUMENTS = [
    {"document_id": "1", "title": "Desk lamp", "description": "A warm light", "price": 20},
    {"document_id": "2", "title": "Floor lamp", "description": "Tall and bright", "price": 90},
]


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    settings = make_settings(
        api_keys=[f"{NAMESPACE}:{OWNER_KEY}", f"{NAMESPACE}:{VIEWER_KEY}@viewer"]
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        assert response.status_code == 200, response.text
        sign_in(client, OWNER_KEY)
        yield client


def new_retriever(client: TestClient, name: str = "lamps") -> str:
    response = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": name, "backend": local_backend()},
    )
    assert response.status_code == 200, response.text
    retriever_id: str = response.json()["retriever_id"]
    return retriever_id


def editor_url(retriever_id: str, part: str = "") -> str:
    return f"/console/retrievers/{retriever_id}" + (f"/{part}" if part else "")


def form_of(html: str) -> dict[str, Any]:
    """The editor form's values as a browser would send them (checked boxes only)."""
    start = html.index('<form class="editor"')
    body = html[start : html.index("</form>", start)]
    values: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", body):
        name = re.search(r' name="([^"]*)"', tag)
        if not name or 'type="color"' in tag:
            continue
        value = re.search(r' value="([^"]*)"', tag)
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        values[_unescape(name[1])] = _unescape(value[1]) if value else ""
    for name, selected in re.findall(
        r'<select[^>]* name="([^"]*)"[^>]*>(.*?)</select>', body, re.S
    ):
        chosen = re.search(r'<option value="([^"]*)" selected>', selected)
        first = re.search(r'<option value="([^"]*)"', selected)
        values[_unescape(name)] = _unescape((chosen or first)[1]) if (chosen or first) else ""
    for name, text in re.findall(
        r'<textarea[^>]* name="([^"]*)"[^>]*>(.*?)</textarea>', body, re.S
    ):
        values[_unescape(name)] = _unescape(text)
    return values


def _unescape(text: str) -> str:
    for entity, char in (
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&#34;", '"'),
        ("&#39;", "'"),
        ("&quot;", '"'),
    ):
        text = text.replace(entity, char)
    return text.replace("&amp;", "&")


def save(client: TestClient, retriever_id: str, **changes: str) -> Any:
    values = form_of(client.get(editor_url(retriever_id)).text)
    values.update(changes)
    return client.post(editor_url(retriever_id), data=values, follow_redirects=False)


def save_json(client: TestClient, retriever_id: str, text: str) -> Any:
    page = client.get(editor_url(retriever_id)).text
    data = {"csrf": form_value(page, "csrf"), "mode": "json", "config_json": text}
    return client.post(editor_url(retriever_id), data=data, follow_redirects=False)


def ticked(values: dict[str, Any]) -> list[str]:
    """The fields the form shows as ticked, in order."""
    count = int(values["field_config.count"])
    return [
        values[f"field_config.{n}.field"]
        for n in range(count)
        if f"field_config.{n}.shown" in values
    ]


def error_beside(html: str, name: str) -> str:
    """The error shown under the field of that form name."""
    field_id = "f-" + name.replace(".", "-")
    found = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    assert found, f"no error beside {name}"
    return found[1]


def test_a_new_retriever_starts_from_a_config_that_previews(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    listing = console.get("/console/retrievers").text
    assert f'href="/console/retrievers/{retriever_id}"' in listing
    page = console.get(editor_url(retriever_id))
    assert page.status_code == 200
    assert "Not published yet" in page.text
    values = form_of(page.text)
    assert values["title"] == "lamps"
    assert values["inputs.0.field_name"] == "query"
    # Every field of the collection is offered, and shown to start with.
    assert ticked(values) == ["title", "description", "price"]
    assert "exposed_fields" not in values  # checkboxes, not a box of names to type
    assert 'Show title on the page <span class="muted">(searched: a page shows it)' in page.text
    assert "Show price on the page</span>" in page.text
    preview = console.get(editor_url(retriever_id, "preview"))
    assert preview.status_code == 200
    assert "Desk lamp" in preview.text  # the page lists everything before a search


def test_saving_the_form_keeps_a_draft_that_only_the_preview_shows(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    assert save(console, retriever_id).status_code == 303
    console.post(editor_url(retriever_id, "publish"), data={"csrf": csrf_of(console, retriever_id)})
    response = save(
        console, retriever_id, title="Lamps and lights", **{"theme.primary_color": "#C2185B"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == editor_url(retriever_id) + "?done=saved"
    page = console.get(editor_url(retriever_id)).text
    assert "is not public yet" in page
    assert form_of(page)["theme.primary_color"] == "#C2185B"
    preview = console.get(editor_url(retriever_id, "preview")).text
    assert "Lamps and lights" in preview
    assert "--primary:#C2185B" in preview
    public = console.get("/r/lamps").text
    assert "Lamps and lights" not in public
    assert "#C2185B" not in public


def csrf_of(client: TestClient, retriever_id: str) -> str:
    return form_value(client.get(editor_url(retriever_id)).text, "csrf")


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("title", "", "required"),
        ("theme.primary_color", "red; background:url(x)", "hex colour"),
        ("theme.border_radius", "12px;}body{display:none", "CSS length"),
        ("theme.font_family", "Arial;}</style><script>", "font"),
        ("layout.columns", "9", "less than or equal to 6"),
        ("layout.columns", "three", "whole number"),
        ("logo_url", "javascript:alert(1)", "http"),
        ("seo.canonical_url", "javascript:alert(1)", "http"),
        ("seo.meta_title", "x" * 61, "at most 60"),
        ("inputs.0.label", "", "required"),
        ("inputs.0.field_name", "page", "parameter of the search page"),
        ("external_links.0.url", "javascript:alert(1)", "http"),
        ("components.result_card.title_field", "secret", "not in exposed_fields"),
        ("extensions.filters", "secret", "not in exposed_fields"),
        ("exposed_fields", "", "required"),
    ],
)
def test_a_bad_value_is_told_beside_its_field(
    console: TestClient, name: str, value: str, says: str
) -> None:
    retriever_id = new_retriever(console)
    extra = {"external_links.0.name": "Home"} if name.startswith("external_links") else {}
    if name == "exposed_fields":  # every field unticked
        values = form_of(console.get(editor_url(retriever_id)).text)
        values = {k: v for k, v in values.items() if not k.endswith(".shown")}
        response = console.post(editor_url(retriever_id), data=values, follow_redirects=False)
    else:
        response = save(console, retriever_id, **{name: value, **extra})
    assert response.status_code == 422, response.text[:500]
    shown = name if name != "exposed_fields" else "exposed_fields"
    assert says.lower() in error_beside(response.text, shown).lower()
    assert "Nothing was saved" in response.text
    assert "is not public yet" not in console.get(editor_url(retriever_id)).text


def test_a_format_that_does_not_exist_is_told_beside_its_field(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    response = save(console, retriever_id, **{"field_config.0.format": "sparkles"})
    assert response.status_code == 422
    assert "one of" in error_beside(response.text, "field_config.0.format")


def test_rows_are_added_changed_and_removed(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    response = save(
        console,
        retriever_id,
        **{
            "markdowns.0.title": "About",
            "markdowns.0.content": "Lamps **we love**.",
            "inputs.1.field_name": "colour",
            "inputs.1.label": "Colour",
            "inputs.1.input_type": "select",
            "inputs.1.field_schema.type": "string",
            "field_config.0.format": "text",
            "field_config.0.format_options.label": "Name",
        },
    )
    assert response.status_code == 303, response.text[:2000]
    values = form_of(console.get(editor_url(retriever_id)).text)
    assert values["markdowns.0.title"] == "About"
    assert values["inputs.1.label"] == "Colour"
    assert values["field_config.0.format_options.label"] == "Name"
    assert save(console, retriever_id, **{"markdowns.0.remove": "on"}).status_code == 303
    values = form_of(console.get(editor_url(retriever_id)).text)
    assert values.get("markdowns.0.title", "") == ""


def test_the_json_view_saves_the_whole_config_or_says_what_is_wrong(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    config = browse_config(exposed_fields=["title"], field_config={})
    config["components"] = {}
    config["extensions"] = {"typeahead": False}
    assert save_json(console, retriever_id, json.dumps(config)).status_code == 303
    page = console.get(editor_url(retriever_id)).text
    assert "&#34;typeahead&#34;: false" in page
    # The form keeps what it does not show.
    assert save(console, retriever_id, title="Other").status_code == 303
    assert "&#34;typeahead&#34;: false" in console.get(editor_url(retriever_id)).text
    bad = save_json(console, retriever_id, '{"title": "x"')
    assert bad.status_code == 422
    assert "config_json" in bad.text
    assert "not JSON" in bad.text
    assert '{"title": "x"' in bad.text.replace("&#34;", '"')  # what was typed is kept
    wrong = save_json(
        console, retriever_id, json.dumps({**config, "theme": {"primary_color": "red"}})
    )
    assert wrong.status_code == 422
    assert "theme.primary_color" in wrong.text
    assert save_json(console, retriever_id, "[1]").status_code == 422


def test_a_viewer_reads_the_editor_but_cannot_save_publish_or_discard(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    sign_in(console, VIEWER_KEY)
    page = console.get(editor_url(retriever_id))
    assert page.status_code == 200
    assert '<fieldset class="editor-fields" disabled>' in page.text
    assert "Save the draft" not in page.text
    assert "Publish" not in page.text.split("<main")[1].split("Preview")[0]
    token = form_value(page.text, "csrf")
    for part in ("", "publish", "discard"):
        response = console.post(editor_url(retriever_id, part), data={"csrf": token, "title": "x"})
        assert response.status_code == 403, part
        assert "editor role" in response.text


def test_a_form_without_the_token_is_refused(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    values = form_of(console.get(editor_url(retriever_id)).text)
    for token in (None, "forged"):
        sent = (
            {**values, "csrf": token} if token else {k: v for k, v in values.items() if k != "csrf"}
        )
        assert console.post(editor_url(retriever_id), data=sent).status_code == 403
        assert console.post(editor_url(retriever_id, "publish"), data=sent).status_code == 403
    other_site = console.post(
        editor_url(retriever_id), data=values, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status_code == 403


def test_the_preview_needs_a_session_and_is_framed_by_the_console_only(
    console: TestClient,
) -> None:
    retriever_id = new_retriever(console)
    preview = console.get(editor_url(retriever_id, "preview"))
    policy = preview.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in policy
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"
    assert preview.headers["cache-control"] == "no-store"
    assert "data-preview" in preview.text
    console.cookies.clear()
    gone = console.get(editor_url(retriever_id, "preview"), follow_redirects=False)
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/console/sign-in")
    assert console.get(editor_url(retriever_id), follow_redirects=False).status_code == 303


def test_the_preview_is_not_counted_or_logged(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    for _ in range(3):
        assert console.get(editor_url(retriever_id, "preview") + "?query=lamp").status_code == 200
    assert console.get(editor_url(retriever_id, "preview")).headers.get("ratelimit") is None


def test_dark_and_light_previews_force_their_colours(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    dark = console.get(editor_url(retriever_id, "preview") + "?scheme=dark").text
    light = console.get(editor_url(retriever_id, "preview") + "?scheme=light").text
    auto = console.get(editor_url(retriever_id, "preview")).text
    assert "--bg:#0F172A" in dark
    assert "prefers-color-scheme" not in dark
    assert "--bg:#0F172A" not in light
    assert "@media (prefers-color-scheme:dark)" in auto
    assert '<input type="hidden" name="scheme" value="dark">' in dark  # a search keeps it


HOSTILE_TEXT = "</textarea><script>alert(1)</script><img src=x onerror=alert(1)>"


def test_hostile_values_are_inert_in_the_editor_and_the_preview(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    response = save(
        console,
        retriever_id,
        title=HOSTILE_TEXT[:200],
        description=HOSTILE_TEXT,
        **{
            "markdowns.0.title": HOSTILE_TEXT,
            "markdowns.0.content": "[click](javascript:alert(1)) " + HOSTILE_TEXT,
            "inputs.0.placeholder": '"><script>alert(2)</script>',
        },
    )
    assert response.status_code == 303, response.text[:3000]
    for html in (
        console.get(editor_url(retriever_id)).text,
        console.get(editor_url(retriever_id, "preview")).text,
    ):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert 'href="javascript:' not in html
    assert "&lt;/textarea&gt;&lt;script&gt;" in console.get(editor_url(retriever_id)).text
    # CSS in a colour never reaches the page: refused beside the field.
    bad = save(console, retriever_id, **{"theme.background_color": "#fff;}</style><script>x"})
    assert bad.status_code == 422
    assert "</style><script>" not in bad.text


def test_publishing_the_draft_makes_it_the_page(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    assert save(console, retriever_id, title="Lamp finder").status_code == 303
    response = console.post(
        editor_url(retriever_id, "publish"),
        data={"csrf": csrf_of(console, retriever_id)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("?done=published")
    page = console.get(editor_url(retriever_id)).text
    assert "Published at" in page
    assert "is not public yet" not in page
    # With no draft waiting, the preview is the page as published, and says so.
    assert "Preview of the published page" in page
    assert "Preview of the draft" not in page
    assert "Lamp finder" in console.get("/r/lamps").text
    published = console.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers())
    assert published.json()["display_config"]["title"] == "Lamp finder"


def test_discarding_the_draft_returns_to_the_page(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    save(console, retriever_id, title="First")
    console.post(editor_url(retriever_id, "publish"), data={"csrf": csrf_of(console, retriever_id)})
    save(console, retriever_id, title="Second")
    waiting = console.get(editor_url(retriever_id)).text
    assert form_of(waiting)["title"] == "Second"
    assert "Preview of the draft" in waiting
    console.post(editor_url(retriever_id, "discard"), data={"csrf": csrf_of(console, retriever_id)})
    assert form_of(console.get(editor_url(retriever_id)).text)["title"] == "First"


def test_a_retriever_of_another_namespace_is_not_found(console: TestClient) -> None:
    assert console.get(editor_url("ret_nope")).status_code == 404
    assert console.get(editor_url("ret_nope", "preview")).status_code == 404


GARBAGE = ["<script>alert(1)</script>", "x" * 3000, "-1", "9" * 40, "\x00", "🔍", " "]


def test_no_value_in_any_field_makes_a_500(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    values = form_of(console.get(editor_url(retriever_id)).text)
    names = [n for n in values if n not in ("csrf", "mode") and not n.endswith(".count")]
    for name in names:
        for garbage in GARBAGE:
            response = console.post(
                editor_url(retriever_id), data={**values, name: garbage}, follow_redirects=False
            )
            assert response.status_code in (303, 422), (name, garbage[:20], response.status_code)
            assert "<script>alert" not in response.text
    counts = {"inputs.count": "999", "markdowns.count": "-4", "field_config.count": "x"}
    response = console.post(editor_url(retriever_id), data={**values, **counts})
    assert response.status_code in (200, 422)
