"""Every option of a field's format set in the page editor's form, not only in its JSON view:
each kept in the draft as the display config holds it, shown again by the form as set, and
drawn by the preview; a value refused is told beside its own control."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.schemas.display import FieldFormatOptions
from app.services.editor_fields import FORMAT_FIELDS
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OTHER_KEY, OTHER_NAMESPACE, OWNER_KEY, owner_headers
from tests.web.test_console import sign_in
from tests.web.test_console_editor import (
    DOCUMENTS,
    editor_url,
    error_beside,
    form_of,
    new_retriever,
)
from tests.web.test_console_fields import row_of, saved_config
from tests.web.test_console_plugins import install, listed

# (option, what the form sends, what the config keeps); None sent: the box left unticked.
ROUND_TRIPS: list[tuple[str, str | None, Any]] = [
    ("label", "Cost", "Cost"),
    ("show_empty", None, False),
    ("truncate_chars", "40", 40),
    ("decimals", "2", 2),
    ("thousands_separator", "yes", True),
    ("thousands_separator", "no", False),
    ("prefix", "€ ", "€ "),  # a currency, its space kept
    ("suffix", " kg", " kg"),
    ("date_format", "DD/MM/YYYY", "DD/MM/YYYY"),
    ("date_format", "iso", "iso"),
    ("width", "320", 320),
    ("height", "200", 200),
    ("aspect_ratio", "4/3", "4/3"),
    ("object_fit", "contain", "contain"),
    ("lazy_load", None, False),
    ("open_in_new_tab", None, False),
    ("show_domain", "on", True),
    ("true_label", "In stock", "In stock"),
    ("false_label", "Sold out", "Sold out"),
    ("separator", " · ", " · "),
    ("max_items", "3", 3),
]


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    keys = [f"{NAMESPACE}:{OWNER_KEY}", f"{OTHER_NAMESPACE}:{OTHER_KEY}"]
    with TestClient(create_app(make_settings(api_keys=keys)), raise_server_exceptions=False) as c:
        made = c.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        assert made.status_code == 200, made.text
        sign_in(c, OWNER_KEY)
        yield c


def save_row(client: TestClient, retriever_id: str, field: str, **options: str | None) -> Any:
    """The editor's form as a browser sends it, with `options` of the field's row changed
    (None: a box unticked)."""
    values = form_of(client.get(editor_url(retriever_id)).text)
    row = row_of(values, field)
    for option, sent in options.items():
        name = option if option == "format" else f"format_options.{option}"
        if sent is None:
            values.pop(f"{row}.{name}", None)
        else:
            values[f"{row}.{name}"] = sent
    return client.post(editor_url(retriever_id), data=values, follow_redirects=False)


def test_the_form_has_every_option_of_a_fields_format() -> None:
    in_form = {f.path.removeprefix("format_options.") for f in FORMAT_FIELDS}
    assert set(FieldFormatOptions.model_fields) <= in_form
    assert {option for option, _, _ in ROUND_TRIPS} | {"plugin", "version", "parameters"} == set(
        FieldFormatOptions.model_fields
    )


def test_the_format_list_says_a_price_is_a_number(console: TestClient) -> None:
    # There is no "currency" format: the number format's own words point a publisher to it.
    page = console.get(editor_url(new_retriever(console))).text
    assert re.search(r'<option value="number"[^>]*>number \(counts, prices\)</option>', page)


@pytest.mark.parametrize(("option", "sent", "kept"), ROUND_TRIPS)
def test_each_option_round_trips_through_the_form(
    console: TestClient, option: str, sent: str | None, kept: Any
) -> None:
    retriever_id = new_retriever(console)
    response = save_row(console, retriever_id, "price", **{option: sent})
    assert response.status_code == 303, response.text[:3000]
    options = saved_config(console, retriever_id)["field_config"]["price"]["format_options"]
    # Nothing else written but the label a new page starts with.
    assert options == {"label": "Price", option: kept}
    # The form shows it again as set, and saved once more it stays the same.
    values = form_of(console.get(editor_url(retriever_id)).text)
    name = f"{row_of(values, 'price')}.format_options.{option}"
    assert values.get(name) == sent
    again = console.post(editor_url(retriever_id), data=values, follow_redirects=False)
    assert again.status_code == 303
    assert saved_config(console, retriever_id)["field_config"]["price"]["format_options"] == {
        "label": "Price",
        option: kept,
    }


def test_a_price_in_euros_and_a_number_without_its_thousands_in_the_preview(
    console: TestClient,
) -> None:
    retriever_id = new_retriever(console)
    euros = {"format": "number", "decimals": "2", "prefix": "€ ", "thousands_separator": "no"}
    assert save_row(console, retriever_id, "price", **euros).status_code == 303
    preview = console.get(editor_url(retriever_id, "preview")).text
    assert "€ 20.00" in preview
    assert "€ 90.00" in preview


@pytest.mark.parametrize(
    ("option", "sent", "says"),
    [
        ("aspect_ratio", "wide", "16/9, 1 or auto"),
        ("date_format", "<b>", "a pattern such as"),
        ("width", "5000", "less than or equal to 4096"),
        ("prefix", "€€€€€€€€€€€", "at most 10"),
        ("thousands_separator", "maybe", "Automatic, Always: 12,000, Never: 12000"),
        ("max_items", "0", "greater than or equal to 1"),
        ("parameters", "[1]", "a JSON object"),
        ("parameters", "{", "not JSON"),
    ],
)
def test_a_bad_option_is_told_beside_its_control(
    console: TestClient, option: str, sent: str, says: str
) -> None:
    retriever_id = new_retriever(console)
    response = save_row(console, retriever_id, "price", **{option: sent})
    assert response.status_code == 422
    row = row_of(form_of(response.text), "price")
    assert says in error_beside(response.text, f"{row}.format_options.{option}").replace(
        "&#39;", "'"
    )
    (control,) = [f for f in FORMAT_FIELDS if f.path == f"format_options.{option}"]
    if control.part:  # behind "More options", opened to show it
        assert '<details class="field-format format-more" open>' in response.text
    assert saved_config(console, retriever_id)["field_config"]["price"] == {
        "format_options": {"label": "Price"}  # as a new page starts: nothing saved
    }


def test_a_plugin_draws_a_field_set_from_the_form(console: TestClient) -> None:
    listed(console)
    assert install(console, "star-rating").status_code == 303
    retriever_id = new_retriever(console)
    plugin = {
        "format": "plugin",
        "plugin": "star-rating",
        "version": "2.1.0",
        "parameters": '{"stars": 5, "colour": "gold"}',
    }
    response = save_row(console, retriever_id, "price", **plugin)
    assert response.status_code == 303, response.text[:3000]
    kept = saved_config(console, retriever_id)["field_config"]["price"]
    assert kept == {
        "format": "plugin",
        "format_options": {
            "label": "Price",
            "plugin": "star-rating",
            "version": "2.1.0",
            "parameters": {"stars": 5, "colour": "gold"},
        },
    }
    values = form_of(console.get(editor_url(retriever_id)).text)
    row = row_of(values, "price")
    assert values[f"{row}.format_options.parameters"] == '{"stars": 5, "colour": "gold"}'
    missing = save_row(console, retriever_id, "price", plugin="no-such-plugin")
    assert missing.status_code == 422
    assert "a plugin of this namespace" in error_beside(
        missing.text, f"{row}.format_options.plugin"
    )
    assert re.search(r'<option value="plugin" selected>plugin</option>', missing.text)
