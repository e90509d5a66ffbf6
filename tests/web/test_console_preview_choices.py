"""The console's preview offers the filters and sort orders of the draft it shows: each saved draft
is counted afresh (not the panel of an earlier draft, kept for a minute), and nothing of it is
shared with the public page."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from tests.helpers import browse_config, owner_headers
from tests.web import test_console_editor
from tests.web.test_console_editor import csrf_of, editor_url, new_retriever, save_json

console = test_console_editor.console  # the same signed-in console, over two lamps

FINISH = "Brushed brass"
OFFERED = 'name="f.finish"'  # the panel's checkboxes of the finish (cards show the value too)


def _with_finishes(client: TestClient) -> None:
    """Two more lamps with a finish, a field the panel offers as values once it is exposed."""
    documents = [
        {"document_id": "3", "title": "Wall lamp", "price": 40, "finish": FINISH},
        {"document_id": "4", "title": "Reading lamp", "price": 60, "finish": FINISH},
        {"document_id": "5", "title": "Hanging lamp", "price": 70, "finish": "Matte black"},
    ]
    response = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": documents}
    )
    assert response.status_code == 200, response.text


def _draft(client: TestClient, retriever_id: str, exposed: list[str], **overrides: Any) -> None:
    config = browse_config(
        exposed_fields=exposed, field_config={}, components={"show_filters": True}, **overrides
    )
    response = save_json(client, retriever_id, json.dumps(config))
    assert response.status_code == 303, response.text[:2000]


def _publish(client: TestClient, retriever_id: str) -> None:
    response = client.post(
        editor_url(retriever_id, "publish"),
        data={"csrf": csrf_of(client, retriever_id)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:2000]


def _preview(client: TestClient, retriever_id: str) -> str:
    response = client.get(editor_url(retriever_id, "preview"))
    assert response.status_code == 200
    assert "Wall lamp" in response.text
    return response.text


ALL = ["title", "description", "price", "finish"]


def test_a_field_taken_back_in_a_draft_leaves_the_previews_panel_at_once(
    console: TestClient,
) -> None:
    _with_finishes(console)
    retriever_id = new_retriever(console)
    _draft(console, retriever_id, ALL)
    _publish(console, retriever_id)
    _draft(console, retriever_id, ALL, title="Lamps and lights")
    assert OFFERED in _preview(console, retriever_id)
    assert "Price: low to high" in _preview(console, retriever_id)
    _draft(console, retriever_id, ["title", "description"])
    taken_back = _preview(console, retriever_id)
    assert OFFERED not in taken_back
    assert "Price: low to high" not in taken_back
    # The public page still offers what was published.
    assert OFFERED in console.get("/r/lamps").text


def test_a_field_exposed_in_a_draft_joins_the_previews_panel_at_once(console: TestClient) -> None:
    _with_finishes(console)
    retriever_id = new_retriever(console)
    _draft(console, retriever_id, ["title", "description", "price"])
    _publish(console, retriever_id)
    assert OFFERED not in _preview(console, retriever_id)
    _draft(console, retriever_id, ALL)
    assert OFFERED in _preview(console, retriever_id)
    # Named in the filters extension, only the named field is offered.
    _draft(console, retriever_id, ALL, extensions={"filters": ["price"]})
    named = _preview(console, retriever_id)
    assert OFFERED not in named
    assert OFFERED not in console.get("/r/lamps").text  # the page is as published


def test_a_draft_of_an_unpublished_retriever_previews_its_own_panel(console: TestClient) -> None:
    _with_finishes(console)
    retriever_id = new_retriever(console)
    _draft(console, retriever_id, ALL)
    assert OFFERED in _preview(console, retriever_id)
    _draft(console, retriever_id, ["title", "description", "price"])
    assert OFFERED not in _preview(console, retriever_id)


def test_the_same_draft_previewed_again_is_not_counted_again(console: TestClient) -> None:
    """Counting what the panel offers reads every document: an unpublished retriever's draft
    previewed again offers what was counted for it (as the public page does, for a minute)."""
    retriever_id = new_retriever(console)
    _draft(console, retriever_id, ALL)
    first = console.get(editor_url(retriever_id, "preview")).text
    assert OFFERED not in first  # no lamp has a finish yet
    _with_finishes(console)
    again = _preview(console, retriever_id)  # the new lamps are found...
    assert OFFERED not in again  # ...but the panel is the one counted for this draft
    _draft(console, retriever_id, ALL, title="Lamps and lights")
    assert OFFERED in _preview(console, retriever_id)  # another draft: counted afresh
