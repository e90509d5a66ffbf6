"""“Save and publish” over HTTP: the editor's form sent with `then=publish` (what the
publish button sends when the form has changed) saves the draft and publishes it in one
step, refused like a save (nothing published); the publish form alone publishes the draft
as last saved, and says so."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.helpers import owner_headers
from tests.web.test_console_editor import console, editor_url, form_of, new_retriever

__all__ = ["console"]  # the fixture, shared


def test_the_form_saved_and_published_in_one_step(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    page = console.get(editor_url(retriever_id)).text
    assert "Publishes the draft as last saved: save the changes below first." in page
    assert 'data-save-label="Save and publish"' in page
    values = form_of(page)
    values.update(title="Lamp finder", then="publish", public_name="lamp-finder")
    response = console.post(editor_url(retriever_id), data=values, follow_redirects=False)
    assert response.status_code == 303, response.text[:2000]
    assert response.headers["location"].endswith("?done=published")
    assert "Lamp finder" in console.get("/r/lamp-finder").text
    published = console.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers())
    assert published.json()["display_config"]["title"] == "Lamp finder"


def test_a_refused_form_publishes_nothing(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    values = form_of(console.get(editor_url(retriever_id)).text)
    values.update({"layout.columns": "many", "then": "publish", "public_name": "lamps"})
    response = console.post(editor_url(retriever_id), data=values)
    assert response.status_code == 422
    assert "Nothing was saved: fix what is marked below." in response.text
    assert 'id="public_name" name="public_name" value="lamps"' in response.text  # as typed
    assert console.get("/r/lamps").status_code == 404


def test_an_address_refused_after_the_save_keeps_the_draft(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    values = form_of(console.get(editor_url(retriever_id)).text)
    values.update(title="Lamp finder", then="publish", public_name="No Good")
    response = console.post(editor_url(retriever_id), data=values)
    assert response.status_code == 422
    assert "Not published:" in response.text
    assert "A draft saved" in response.text  # the changes are kept, to publish once fixed
    assert console.get("/r/no-good").status_code == 404
