"""The editor's live check (POST /console/retrievers/{id}/preview/check) against what a stranger
or a careless client sends: no form token, a token of another session, a form from another
site, a viewer's seat, another namespace's retriever, an unknown or hostile id, bodies it cannot
read or that are too large, and hostile strings in every field. Each refusal is the console's
page saying why, never the draft; a form it can read is answered in JSON, its errors by field,
and nothing is saved."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    OTHER_KEY,
    OTHER_NAMESPACE,
    OWNER_KEY,
    local_backend,
    owner_headers,
)
from tests.web.test_console import SEATS, VIEWER_KEY, csrf, sign_in
from tests.web.test_console_editor import DOCUMENTS, editor_url, form_of, new_retriever

HOSTILE = '"><script>alert(1)</script>\x00\u202e{{7*7}}'


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    """Signed in as acme's owner; acme's viewer and globex's owner have keys too."""
    settings = make_settings(api_keys=SEATS)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        added = client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        assert added.status_code == 200, added.text
        sign_in(client, OWNER_KEY)
        yield client


def check_url(retriever_id: str) -> str:
    return editor_url(retriever_id, "preview/check")


def told(response: Any) -> str:
    """What the console's problem page says, as a reader sees it."""
    found = re.search(r'<p class="alert alert--error">(.*?)</p>', response.text, re.S)
    assert found, response.text[:500]
    return html.unescape(found[1])


def editor_form(client: TestClient) -> tuple[str, dict[str, Any]]:
    retriever_id = new_retriever(client)
    return retriever_id, form_of(client.get(editor_url(retriever_id)).text)


def refused(response: Any, status: int) -> str:
    """A refusal: the console's page (not the check's JSON), never stored or framed."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert '"valid"' not in response.text
    return told(response)


def test_without_its_form_token_the_check_is_refused(console: TestClient) -> None:
    retriever_id, values = editor_form(console)
    del values["csrf"]
    message = refused(console.post(check_url(retriever_id), data=values), 403)
    assert message == "This form has expired; go back, reload and try again."
    values["csrf"] = ""
    assert refused(console.post(check_url(retriever_id), data=values), 403) == message


def test_a_token_from_another_session_is_refused(console: TestClient) -> None:
    retriever_id, values = editor_form(console)
    sign_in(console, OWNER_KEY)  # a new session: the old page's token is not its own
    message = refused(console.post(check_url(retriever_id), data=values), 403)
    assert "This form has expired" in message


def test_a_check_sent_from_another_site_is_refused(console: TestClient) -> None:
    retriever_id, values = editor_form(console)
    sent = console.post(
        check_url(retriever_id), data=values, headers={"Origin": "https://evil.example"}
    )
    assert refused(sent, 403) == "This form was sent from another site."


def test_signed_out_the_check_asks_to_sign_in_again(console: TestClient) -> None:
    retriever_id, values = editor_form(console)
    console.cookies.clear()
    message = refused(console.post(check_url(retriever_id), data=values), 401)
    assert message == "Your session has ended; sign in again."


def test_a_viewer_may_not_run_the_check(console: TestClient) -> None:
    retriever_id, values = editor_form(console)
    sign_in(console, VIEWER_KEY)
    values["csrf"] = csrf(console)  # the viewer's own, valid token
    message = refused(console.post(check_url(retriever_id), data=values), 403)
    assert message == "This needs the editor role; this key's role is viewer."


def test_another_namespaces_retriever_is_not_found_as_an_unknown_one_is(
    console: TestClient,
) -> None:
    _, values = editor_form(console)
    theirs = console.post(
        "/v1/retrievers",
        headers=owner_headers(OTHER_KEY, OTHER_NAMESPACE),
        json={"retriever_name": "globex private catalog", "backend": local_backend()},
    )
    assert theirs.status_code == 200, theirs.text
    other_id = theirs.json()["retriever_id"]
    answer = console.post(check_url(other_id), data=values)
    assert refused(answer, 404) == f"No retriever '{other_id}' in this namespace."
    assert "globex" not in answer.text
    unknown = "ret_000000000000000000000000"
    message = refused(console.post(check_url(unknown), data=values), 404)
    assert message == f"No retriever '{unknown}' in this namespace."  # the same answer


def test_a_hostile_id_is_not_found_and_shown_escaped(console: TestClient) -> None:
    _, values = editor_form(console)
    answer = console.post(check_url("%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"), data=values)
    assert refused(answer, 404) == "No retriever '<img src=x onerror=alert(1)>' in this namespace."
    assert "<img src=x" not in answer.text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"title": "Lamps"}', "application/json"),
        (b"", "application/x-www-form-urlencoded"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
        (b"\xff\xfe\x00garbage", "text/plain"),
    ],
    ids=["json", "empty", "broken-multipart", "binary"],
)
def test_a_body_that_is_not_the_form_is_refused_as_expired(
    console: TestClient, body: bytes, content_type: str
) -> None:
    retriever_id, _ = editor_form(console)
    sent = console.post(
        check_url(retriever_id), content=body, headers={"content-type": content_type}
    )
    assert refused(sent, 403) == "This form has expired; go back, reload and try again."


def test_a_form_it_cannot_read_is_bad_input_saying_why(console: TestClient) -> None:
    retriever_id, values = editor_form(console)
    no_boundary = console.post(
        check_url(retriever_id), content=b"abc", headers={"content-type": "multipart/form-data"}
    )
    assert (
        refused(no_boundary, 422) == "This form could not be read: Missing boundary in multipart."
    )
    assert "<h1>Not accepted</h1>" in no_boundary.text
    many = "&".join(f"f{n}=1" for n in range(4_001))
    too_many = console.post(
        check_url(retriever_id),
        content=f"csrf={values['csrf']}&{many}".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert refused(too_many, 422) == (
        "This form could not be read: Too many fields. Maximum number of fields is 4000."
    )


def test_a_body_over_the_limit_is_refused_before_it_is_read(console: TestClient) -> None:
    retriever_id, values = editor_form(console)
    values["title"] = "x" * 3_000_000
    answer = console.post(check_url(retriever_id), data=values)
    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error["message"] == "The request body is larger than the limit of 2097152 bytes."
    assert error["details"] == {"max_bytes": 2097152}


def test_hostile_strings_in_every_field_are_answered_field_by_field(
    console: TestClient,
) -> None:
    retriever_id, values = editor_form(console)
    hostile = {name: value if name == "csrf" else HOSTILE for name, value in values.items()}
    answer = console.post(check_url(retriever_id), data=hostile)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["valid"] is False
    assert body["errors"]["layout.columns"] == "Type a whole number (at most 9 digits)."
    assert set(body["labels"]) <= set(body["errors"])
    # Nothing was saved: the editor shows the draft as it was.
    assert "alert(1)" not in console.get(editor_url(retriever_id)).text


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("title", "x" * 100_000),
        ("title", "\x00"),
        ("layout.columns", "1e309"),
        ("layout.columns", "-1"),
        ("layout.columns", "99999999999999999999"),
        ("theme.primary_color", "red; }</style><script>alert(1)</script>"),
        ("field_config.999999.field", "price"),
        ("field_config.-1.field", "<img src=x onerror=alert(1)>"),
        ("external_links.count", "1000000000"),
        ("external_links.0.url", "javascript:alert(1)"),
    ],
)
def test_one_hostile_value_is_answered_not_failed(
    console: TestClient, name: str, value: str
) -> None:
    retriever_id, values = editor_form(console)
    values[name] = value
    answer = console.post(check_url(retriever_id), data=values)
    assert answer.status_code == 200, answer.text[:500]
    body = answer.json()
    assert set(body) == {"valid", "errors", "labels"}
    assert all(isinstance(message, str) for message in body["errors"].values())
