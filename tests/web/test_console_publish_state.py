"""The publish button tells the truth once published, over HTTP: with nothing to publish it
reads "Published", disabled, the reason beside it; a publish sent anyway (a stale tab) makes
no new version and says so; a draft saved since makes it "Publish the draft" again (the
browser's side: test_console_publish_state_browser.py)."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.helpers import owner_headers
from tests.web.test_console_editor import console, editor_url, form_of, new_retriever

__all__ = ["console"]  # the fixture, shared
NOTHING = (
    "Nothing to publish: the public page shows the draft. Change something below to publish again."
)


def button(html: str) -> str:
    found = re.search(
        r'<form [^>]*class="publish-form">.*?(<button [^>]*>[^<]*</button>)', html, re.S
    )
    assert found
    return found[1]


def versions(client: TestClient, retriever_id: str) -> int:
    listed = client.get(f"/v1/retrievers/{retriever_id}/versions", headers=owner_headers())
    assert listed.status_code == 200, listed.text
    body = listed.json()
    return len(body["results"] if isinstance(body, dict) else body)


def test_after_publishing_the_button_says_published(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    values = form_of(console.get(editor_url(retriever_id)).text)
    values.update(title="Lamp finder", then="publish", public_name="lamp-finder")
    published = console.post(editor_url(retriever_id), data=values)
    assert "Published: the public page shows the draft now" in published.text
    assert button(published.text) == (
        '<button type="submit" aria-describedby="publish-help" '
        'data-save-label="Save and publish" disabled>Published</button>'
    )
    assert NOTHING in published.text
    assert versions(console, retriever_id) == 1

    # Sent anyway (a tab left open): no new version, and the editor says why.
    page = console.get(editor_url(retriever_id)).text
    csrf = form_of(page)["csrf"]
    again = console.post(editor_url(retriever_id, "publish"), data={"csrf": csrf})
    assert "Nothing to publish: the public page already shows the draft." in again.text
    assert versions(console, retriever_id) == 1
    # "Save and publish" of a form unchanged: the same.
    values = form_of(page)
    values["then"] = "publish"
    unchanged = console.post(editor_url(retriever_id), data=values)
    assert "Nothing to publish: the public page already shows the draft." in unchanged.text
    assert versions(console, retriever_id) == 1

    # A draft saved since: publishable again.
    values = form_of(console.get(editor_url(retriever_id)).text)
    values["title"] = "Lamps"
    saved = console.post(editor_url(retriever_id), data=values)
    assert "Draft saved" in saved.text
    assert button(saved.text).endswith(
        'data-save-label="Save and publish">Publish the draft</button>'
    )
    assert NOTHING not in saved.text
    csrf = form_of(saved.text)["csrf"]
    assert (
        "Published: the public page"
        in console.post(editor_url(retriever_id, "publish"), data={"csrf": csrf}).text
    )
    assert versions(console, retriever_id) == 2
