"""The page editor's fields and formats over HTTP: the collection's fields as checkboxes,
each with its format at once, a field kept back, a label without a format, a price with its
decimals, and errors named in words."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.web.test_console import form_value
from tests.web.test_console_editor import (
    _unescape,
    console,
    editor_url,
    error_beside,
    form_of,
    new_retriever,
    save,
    save_json,
    ticked,
)

__all__ = ["console"]  # the fixture, shared


def saved_config(client: TestClient, retriever_id: str) -> dict[str, Any]:
    """The draft as the JSON view shows it."""
    page = client.get(editor_url(retriever_id)).text
    found = re.search(r'<textarea id="config_json"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    config: dict[str, Any] = json.loads(_unescape(found[1]))
    return config


def row_of(values: dict[str, Any], field: str) -> str:
    """The form name prefix of a field's row: `field_config.2`."""
    count = int(values["field_config.count"])
    number = next(n for n in range(count) if values[f"field_config.{n}.field"] == field)
    return f"field_config.{number}"


def test_a_label_alone_is_kept_with_the_format_chosen_from_the_values(
    console: TestClient,
) -> None:
    retriever_id = new_retriever(console)
    response = save(console, retriever_id, **{"field_config.2.format_options.label": "Cost"})
    assert response.status_code == 303, response.text[:2000]
    values = form_of(console.get(editor_url(retriever_id)).text)
    assert values["field_config.2.format_options.label"] == "Cost"
    assert values["field_config.2.format"] == ""  # still Automatic
    preview = console.get(editor_url(retriever_id, "preview")).text
    assert "Cost" in preview
    typed = save(console, retriever_id, **{"layout.columns": "three"})
    assert form_of(typed.text)["layout.columns"] == "three"


def test_a_price_shows_with_its_decimals(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    price = row_of(form_of(console.get(editor_url(retriever_id)).text), "price")
    changes = {
        f"{price}.format": "number",
        f"{price}.format_options.decimals": "2",
        f"{price}.format_options.prefix": "$",
    }
    assert save(console, retriever_id, **changes).status_code == 303
    assert (
        form_of(console.get(editor_url(retriever_id)).text)[f"{price}.format_options.decimals"]
        == "2"
    )
    assert "$20.00" in console.get(editor_url(retriever_id, "preview")).text


@pytest.mark.parametrize(
    ("value", "says"),
    [("11", "less than or equal to 10"), ("-1", "greater than"), ("two", "whole number")],
)
def test_bad_decimals_are_told_beside_the_field_by_its_name(
    console: TestClient, value: str, says: str
) -> None:
    retriever_id = new_retriever(console)
    price = row_of(form_of(console.get(editor_url(retriever_id)).text), "price")
    response = save(console, retriever_id, **{f"{price}.format_options.decimals": value})
    assert response.status_code == 422
    assert says in error_beside(response.text, f"{price}.format_options.decimals")
    assert "price → Decimals (0 to 10)</a>" in response.text  # the list above, in words
    assert f">{price}.format_options" not in response.text


def test_a_field_ticked_is_shown_and_formatted_in_the_same_save(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    values = form_of(console.get(editor_url(retriever_id)).text)
    price = row_of(values, "price")
    values.pop(f"{price}.shown")  # price kept back
    response = console.post(editor_url(retriever_id), data=values, follow_redirects=False)
    assert response.status_code == 303
    page = console.get(editor_url(retriever_id)).text
    assert ticked(form_of(page)) == ["title", "description"]
    assert "price" in page  # still offered, to tick again
    assert "$" not in console.get(editor_url(retriever_id, "preview")).text
    price = row_of(form_of(page), "price")
    again = {
        f"{price}.shown": "on",
        f"{price}.format": "number",
        f"{price}.format_options.prefix": "$",
    }
    assert save(console, retriever_id, **again).status_code == 303
    assert ticked(form_of(console.get(editor_url(retriever_id)).text)) == [
        "title",
        "description",
        "price",
    ]
    assert "$20" in console.get(editor_url(retriever_id, "preview")).text


def test_a_format_of_a_field_not_shown_is_not_kept(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    values = form_of(console.get(editor_url(retriever_id)).text)
    price = row_of(values, "price")
    values.pop(f"{price}.shown")
    values[f"{price}.format"] = "number"
    response = console.post(editor_url(retriever_id), data=values, follow_redirects=False)
    assert response.status_code == 303  # no "not in exposed_fields" for a row left hidden
    assert saved_config(console, retriever_id)["exposed_fields"] == ["title", "description"]
    # Only the label a new page starts with, of the field still shown.
    assert saved_config(console, retriever_id)["field_config"] == {
        "description": {"format_options": {"label": "Description"}}
    }


def test_a_searched_field_unticked_is_told_beside_its_checkbox(console: TestClient) -> None:
    """The retriever searches title and description: unticking one is refused beside its
    checkbox (and in the list above, by name), the other rows' errors staying on theirs."""
    retriever_id = new_retriever(console)
    values = form_of(console.get(editor_url(retriever_id)).text)
    description, price = row_of(values, "description"), row_of(values, "price")
    values.pop(f"{description}.shown")
    values[f"{price}.format_options.decimals"] = "11"
    response = console.post(editor_url(retriever_id), data=values, follow_redirects=False)
    assert response.status_code == 422
    html = response.text
    says = error_beside(html, f"{description}.shown")
    assert says.startswith(
        "The retriever searches description, so the page must show it: tick it again."
    )
    # Hiding it for good is told too: the box beside it stops searching it in the same save.
    assert "Or tick “Also stop searching description” to hide it." in says
    checkbox = re.search(
        rf'<input type="checkbox" id="f-{description.replace(".", "-")}-shown"[^>]*>', html
    )
    assert checkbox
    assert 'aria-invalid="true"' in checkbox[0]
    assert " checked" not in checkbox[0]  # as sent
    assert "less than or equal to 10" in error_beside(html, f"{price}.format_options.decimals")
    assert (
        f'href="#f-{description.replace(".", "-")}-shown">description → Shown on the page</a>'
        in html
    )
    # Each row is drawn where it was sent, so that each error is beside its own field.
    again = form_of(html)
    assert again[f"{description}.field"] == "description"
    assert again[f"{price}.field"] == "price"
    # Nothing was saved; ticked again, it saves.
    assert saved_config(console, retriever_id)["exposed_fields"] == [
        "title",
        "description",
        "price",
    ]
    again[f"{description}.shown"] = "on"
    again[f"{price}.format_options.decimals"] = "2"
    assert console.post(editor_url(retriever_id), data=again).status_code == 200


def test_a_draft_from_json_hiding_a_searched_field_is_not_published(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    config = saved_config(console, retriever_id)
    config["exposed_fields"] = ["title", "price"]
    config["field_config"].pop("description")
    assert save_json(console, retriever_id, json.dumps(config)).status_code == 303
    page = console.get(editor_url(retriever_id)).text
    data = {"csrf": form_value(page, "csrf"), "public_name": "lamps"}
    response = console.post(editor_url(retriever_id, "publish"), data=data)
    assert response.status_code == 422
    description = row_of(form_of(response.text), "description")
    assert "searches description" in error_beside(response.text, f"{description}.shown")
    assert console.get("/r/lamps").status_code == 404


def test_a_searched_field_is_hidden_and_no_longer_searched_in_one_save(
    console: TestClient,
) -> None:
    """Unticked with “Also stop searching it”, a searched field is hidden and no longer
    searched, in the one save; the last field searched cannot go, told beside its box with
    a link to the Search tab."""
    retriever_id = new_retriever(console)
    values = form_of(console.get(editor_url(retriever_id)).text)
    title, description = row_of(values, "title"), row_of(values, "description")
    values.pop(f"{description}.shown")
    values[f"{description}.unsearch"] = "on"
    response = console.post(editor_url(retriever_id), data=values, follow_redirects=False)
    assert response.status_code == 303, response.text[:3000]
    page = console.get(response.headers["location"]).text
    assert "Draft saved, and the retriever stopped searching the fields you asked" in page
    assert saved_config(console, retriever_id)["exposed_fields"] == ["title", "price"]
    assert "Show description on the page <span" not in page  # no longer "(searched…)"
    assert "Also stop searching description" not in page
    search = console.get(editor_url(retriever_id, "search")).text
    assert re.search(r'value="description"(?![^>]*checked)', search)
    # The last one searched stays, whatever the form asks.
    values = form_of(page)
    values.pop(f"{title}.shown")
    values[f"{title}.unsearch"] = "on"
    refused = console.post(editor_url(retriever_id), data=values)
    assert refused.status_code == 422
    box = "f-" + f"{title}.unsearch".replace(".", "-")
    says = re.search(rf'<p class="field-error" id="{box}-error">(.*?)</p>', refused.text)
    assert says
    assert says[1].startswith("A retriever searches one field at least")
    assert f'<a href="{editor_url(retriever_id, "search")}">Search tab</a>' in says[1]
    assert f'name="{title}.unsearch" value="on" checked' in refused.text  # as sent
    assert saved_config(console, retriever_id)["exposed_fields"] == ["title", "price"]
