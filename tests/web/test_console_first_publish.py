"""The first publish from the page editor: the public address chosen (checked as the API's
publish checks it, each error beside the field with what was typed kept), and the page
opened from the editor once it is published; over an upstream, the fields shown typed."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import browse_config, owner_headers, publish_over_upstream
from tests.web.test_console_editor import console, csrf_of, editor_url, new_retriever, save

__all__ = ["console"]  # the fixture, shared


def publish(client: TestClient, retriever_id: str, public_name: str | None) -> Any:
    data = {"csrf": csrf_of(client, retriever_id)}
    if public_name is not None:
        data["public_name"] = public_name
    return client.post(editor_url(retriever_id, "publish"), data=data, follow_redirects=False)


def test_the_address_is_offered_made_from_the_name_and_may_be_changed(
    console: TestClient,
) -> None:
    retriever_id = new_retriever(console, "Lamp Shop")
    page = console.get(editor_url(retriever_id)).text
    assert re.search(r'<input id="public_name" name="public_name" value="lamp-shop"', page)
    assert "Open the page" not in page  # nothing to open yet
    response = publish(console, retriever_id, "brass-lamps")
    assert response.status_code == 303
    assert console.get("/r/brass-lamps").status_code == 200
    page = console.get(editor_url(retriever_id)).text
    assert 'id="public_name"' not in page  # it cannot change once published
    assert re.search(
        r'<a class="button button--quiet" href="/r/brass-lamps" target="_blank" rel="noopener">'
        r"Open the page",
        page,
    )


def test_an_empty_address_is_made_from_the_name(console: TestClient) -> None:
    retriever_id = new_retriever(console, "Lamp Shop")
    assert publish(console, retriever_id, "").status_code == 303
    assert console.get("/r/lamp-shop").status_code == 200


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("My Lamps", "lowercase letters, digits and hyphens"),
        ("ab", "at least 3"),
        ("-lamps", "lowercase letters"),
        ("x" * 51, "at most 50"),
        ("<script>", "lowercase letters"),
    ],
)
def test_a_bad_address_is_told_beside_its_field_and_kept(
    console: TestClient, typed: str, says: str
) -> None:
    retriever_id = new_retriever(console)
    response = publish(console, retriever_id, typed)
    assert response.status_code == 422
    html = response.text
    error = re.search(r'<p class="field-error" id="public_name-error">([^<]*)</p>', html)
    assert error
    assert says in error[1]
    escaped = typed.replace("<", "&lt;").replace(">", "&gt;")
    assert f'name="public_name" value="{escaped}"' in html
    assert "<script>" not in html.split("<main", 1)[1].replace("<script src=", "")
    published = console.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers())
    assert published.status_code == 404  # nothing was published


def test_an_address_taken_is_told_beside_its_field(console: TestClient) -> None:
    first = new_retriever(console, "lamps")
    assert publish(console, first, "lamps").status_code == 303
    second = new_retriever(console, "other")
    save(console, second, title="Other")
    response = publish(console, second, "lamps")
    assert response.status_code == 409
    html = response.text
    error = re.search(r'id="public_name-error">([^<]*)<', html)
    assert error
    assert "is taken" in error[1]
    assert 'name="public_name" value="lamps"' in html


def test_an_upstream_retriever_keeps_its_fields_typed(console: TestClient) -> None:
    config = browse_config(exposed_fields=["title", "year"], field_config={}, components={})
    retriever_id = publish_over_upstream(console, "upstream", "http://127.0.0.1:9", config, "k")
    page = console.get(editor_url(retriever_id)).text
    assert 'name="exposed_fields.listed"' not in page
    found = re.search(r'<textarea id="f-exposed_fields" name="exposed_fields"[^>]*>([^<]*)<', page)
    assert found
    assert found[1] == "title\nyear"
    assert "<legend>year</legend>" in page  # a format row for each field shown
    response = save(console, retriever_id, **{"field_config.1.format_options.label": "Year"})
    assert response.status_code == 303, response.text[:2000]
    assert "Open the page" in console.get(editor_url(retriever_id)).text
