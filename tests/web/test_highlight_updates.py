"""Highlights are kept by text and query (app/adapters/engine/highlight.py), and the engine
keeps the bodies it read: a document whose text changed is highlighted from its new text at the
next search, one deleted is gone from it, whether this process or another wrote the change; on
the embedded engine and on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, local_backend, owner_headers, publish_backend

LAMPS = [
    {"document_id": "one", "title": "Brass desk lamp", "description": "A brass lamp to read by"},
    {"document_id": "two", "title": "Brass floor lamp", "description": "Tall, in brushed brass"},
    {"document_id": "three", "title": "Paper lantern", "description": "A soft light"},
]
STEEL = {"document_id": "one", "title": "Steel desk lamp", "description": "A steel lamp to read by"}
EXECUTE = "/v1/public/retrievers/lamps/execute"
FOLLOW_WITHIN_SECONDS = 5.0


@pytest.fixture
def lamp_settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    return make_settings(database_url=database_url)


@pytest.fixture
def client(lamp_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(lamp_settings), raise_server_exceptions=False) as client:
        _upload(client, LAMPS)
        config = browse_config(exposed_fields=["title", "description"], field_config={})
        publish_backend(
            client, "lamps", {**local_backend(), "mode": "keyword"}, {**config, "components": {}}
        )
        yield client


def _upload(client: TestClient, documents: list[dict[str, Any]]) -> None:
    answer = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": documents}
    )
    assert answer.status_code == 200, answer.text


def marks(client: TestClient, query: str) -> dict[str, dict[str, str]]:
    """Each document found for `query`, by id: its highlights."""
    answer = client.post(EXECUTE, json={"inputs": {"query": query}})
    assert answer.status_code == 200, answer.text
    return {d["document_id"]: d.get("highlights", {}) for d in answer.json()["documents"]}


def test_a_changed_text_is_marked_from_its_new_words(client: TestClient) -> None:
    for _ in range(2):  # the second from what was kept
        assert marks(client, "brass")["one"] == {
            "title": "<mark>Brass</mark> desk lamp",
            "description": "A <mark>brass</mark> lamp to read by",
        }
        assert (
            marks(client, "desk lamp")["one"]["title"]
            == "Brass <mark>desk</mark> <mark>lamp</mark>"
        )
    _upload(client, [STEEL])
    assert "one" not in marks(client, "brass")  # nor marked from the old text
    assert marks(client, "desk lamp")["one"] == {
        "title": "Steel <mark>desk</mark> <mark>lamp</mark>",
        "description": "A steel <mark>lamp</mark> to read by",
    }
    assert marks(client, "steel")["one"]["description"] == "A <mark>steel</mark> lamp to read by"
    page = client.get("/r/lamps", params={"query": "desk lamp"})
    assert "Steel <mark>desk</mark> <mark>lamp</mark>" in page.text
    assert "Brass <mark>desk</mark>" not in page.text


def test_a_deleted_document_is_neither_found_nor_marked(client: TestClient) -> None:
    assert set(marks(client, "brass")) == {"one", "two"}
    deleted = client.delete("/v1/collections/products/documents/one", headers=owner_headers())
    assert deleted.status_code == 200, deleted.text
    assert set(marks(client, "brass")) == {"two"}
    assert "one" not in marks(client, "desk lamp")
    page = client.get("/r/lamps", params={"query": "brass"})
    assert page.status_code == 200
    assert 'data-document-id="two"' in page.text
    assert 'data-document-id="one"' not in page.text
    assert client.get("/r/lamps/d/one").status_code == 404


def test_a_change_from_another_process_is_marked_at_its_next_searches(
    client: TestClient, lamp_settings: Settings
) -> None:
    desk = marks(client, "desk lamp")["one"]["title"]
    assert desk == "Brass <mark>desk</mark> <mark>lamp</mark>"
    with TestClient(create_app(lamp_settings), raise_server_exceptions=False) as other:
        _upload(other, [STEEL])
        deleted = other.delete("/v1/collections/products/documents/two", headers=owner_headers())
        assert deleted.status_code == 200, deleted.text
    # The text is read again at once: marked from its new words at the very next search.
    assert marks(client, "desk lamp")["one"] == {
        "title": "Steel <mark>desk</mark> <mark>lamp</mark>",
        "description": "A steel <mark>lamp</mark> to read by",
    }
    # This process's index follows the other's within a moment; meanwhile a search of a word
    # the text no longer has may still find it, but never marks the old word.
    deadline = time.monotonic() + FOLLOW_WITHIN_SECONDS
    while found := marks(client, "brass"):
        assert found == {"one": {}}, found
        assert time.monotonic() < deadline, found
        time.sleep(0.05)
