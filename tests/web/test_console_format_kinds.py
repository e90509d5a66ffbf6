"""Each field's Format list in the page editor holds the formats that fit the kind of value
it holds (numbers for a price, text for a title), and a format that does not fit is refused
with a 422 beside its field, whether sent by the form, the JSON view, the live check or a
publish (the browser's side: test_console_format_kinds_browser.py)."""

from __future__ import annotations

import json
import re

from starlette.testclient import TestClient

from app.services.format_kinds import formats_for
from tests.web.test_console_editor import (
    console,
    editor_url,
    error_beside,
    form_of,
    new_retriever,
    save_json,
)
from tests.web.test_console_fields import row_of, saved_config
from tests.web.test_console_formats import save_row

__all__ = ["console"]  # the fixture, shared


def offered(html: str, row: str) -> list[str]:
    """The formats a row's Format list offers (Automatic, the empty value, left out)."""
    found = re.search(
        rf'<select[^>]* name="{re.escape(row)}.format"[^>]*>(.*?)</select>', html, re.S
    )
    assert found, row
    return [v for v in re.findall(r'<option value="([^"]*)"', found[1]) if v]


def test_a_fields_format_list_holds_the_formats_of_its_kind(console: TestClient) -> None:
    page = console.get(editor_url(new_retriever(console))).text
    values = form_of(page)
    assert offered(page, row_of(values, "price")) == [
        "badge",
        "date",
        "number",
        "plugin",
        "rating",
        "text",
    ]
    assert offered(page, row_of(values, "title")) == ["badge", "plugin", "text"]
    # A kind of no single format (an upstream's field, a mixed column): every format.
    everything = ["a", "number", "url"]
    assert formats_for(None, everything) == everything
    assert formats_for("number and text (mixed)", everything) == everything
    assert formats_for("link", [*everything, "stars"]) == ["a", "url", "stars"]


def test_a_format_that_does_not_fit_is_refused_beside_its_field(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    response = save_row(console, retriever_id, "price", format="url")
    assert response.status_code == 422
    row = row_of(form_of(response.text), "price")
    assert error_beside(response.text, f"{row}.format") == (
        "price holds numbers: url does not fit it; its formats are number, rating, date, "
        "badge, text (or Automatic)"
    )
    # The choice refused stays in the list, selected, beside its error.
    assert "url" in offered(response.text, row)
    assert saved_config(console, retriever_id)["field_config"]["price"] == {
        "format_options": {"label": "Price"}  # nothing saved
    }
    assert save_row(console, retriever_id, "price", format="rating").status_code == 303


def test_the_json_view_and_the_live_check_refuse_it_too(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    config = saved_config(console, retriever_id)
    config["field_config"]["title"] = {"format": "date"}
    refused = save_json(console, retriever_id, json.dumps(config))
    assert refused.status_code == 422
    assert (
        "display_config.field_config.title.format: title holds text: date does not fit it"
        in refused.text
    )
    values = form_of(console.get(editor_url(retriever_id)).text)
    row = row_of(values, "title")
    values[f"{row}.format"] = "number"
    checked = console.post(editor_url(retriever_id, "preview/check"), data=values).json()
    assert checked["valid"] is False
    assert checked["errors"][f"{row}.format"].startswith("title holds text: number does not fit")
    assert console.post(editor_url(retriever_id, "preview"), data=values).status_code == 422
