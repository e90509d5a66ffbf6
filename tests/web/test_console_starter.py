"""The page a new retriever starts from in the console: each field labelled from its name,
a short text as the cards' headline (never a number), the longest text after the short."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from app.services.console_collections import kind_of
from app.services.console_starter import humanized
from tests.helpers import owner_headers
from tests.web.test_console_editor import console, editor_url, form_of, ticked
from tests.web.test_console_fields import saved_config

__all__ = ["console"]  # the fixture, shared

NOTES = "A long text about the package, what it does and why one would install it. " * 3
PACKAGES = [
    {"document_id": "1", "installed_size": 5120, "notes": NOTES, "package": "curl"},
    {"document_id": "2", "installed_size": 880, "notes": NOTES, "package": "jq"},
]


def test_names_read_as_labels() -> None:
    assert humanized("installed_size") == "Installed size"
    assert humanized("pageCount") == "Page count"
    assert humanized("ISBN") == "Isbn"
    assert humanized("__") == "__"


def test_a_new_page_reads_well_from_a_plain_csv(console: TestClient) -> None:
    response = console.post(
        "/v1/collections/packages/documents",
        headers=owner_headers(),
        json={"documents": PACKAGES},
    )
    assert response.status_code == 200, response.text
    created = console.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={
            "retriever_name": "packages",
            "backend": {"type": "local", "collection": "packages", "search_fields": ["package"]},
        },
    )
    retriever_id = created.json()["retriever_id"]
    values = form_of(console.get(editor_url(retriever_id)).text)
    # The short text first (the headline), the number in the middle, the long text last.
    assert ticked(values) == ["package", "installed_size", "notes"]
    assert saved_config(console, retriever_id)["field_config"] == {
        "installed_size": {"format_options": {"label": "Installed size"}},
        "notes": {"format_options": {"label": "Notes"}},
    }
    preview = console.get(editor_url(retriever_id, "preview")).text
    card = re.search(r'<h2 class="title">(.*?)</h2>', preview, re.S)
    assert card
    assert "curl" in card[1] or "jq" in card[1]
    assert "Installed size" in preview
    assert preview.index("Installed size") < preview.index("A long text about")


def test_a_column_of_mixed_values_is_named_plainly() -> None:
    # A version column read from a CSV: "1.2" stays text, "2" is a number.
    assert kind_of("version", ["1.2", 2, None]) == "number and text (mixed)"
    assert kind_of("year", [1965, 1815]) == "year"
