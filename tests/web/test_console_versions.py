"""A page's published versions, in the console and the owner API: each publish kept with who
and when, the difference between a version and the page now, and rollback (a new version)."""

from __future__ import annotations

import re
from collections.abc import Callable

from starlette.testclient import TestClient

from app.schemas.roles import Role
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import OWNER_KEY, owner_headers
from tests.web import test_console_editor
from tests.web.test_console import VIEWER_KEY, form_value, sign_in
from tests.web.test_console_editor import csrf_of, editor_url, new_retriever, save

console = test_console_editor.console  # the same signed-in console, over two lamps


def publish(client: TestClient, retriever_id: str, **changes: str) -> None:
    assert save(client, retriever_id, **changes).status_code == 303
    response = client.post(
        editor_url(retriever_id, "publish"),
        data={"csrf": csrf_of(client, retriever_id)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:2000]


def versions_of(client: TestClient, retriever_id: str) -> list[dict[str, object]]:
    response = client.get(f"/v1/retrievers/{retriever_id}/versions", headers=owner_headers())
    assert response.status_code == 200, response.text
    results: list[dict[str, object]] = response.json()["results"]
    return results


def test_each_publish_is_a_version_with_who_and_when(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    publish(console, retriever_id, title="One")
    publish(console, retriever_id, title="Two")
    listed = versions_of(console, retriever_id)
    assert [v["number"] for v in listed] == [2, 1]
    assert [v["current"] for v in listed] == [True, False]
    assert listed[0]["published_by"] == "owner key (acme, console)"
    assert listed[1]["display_config"]["title"] == "One"  # type: ignore[index]
    page = console.get(editor_url(retriever_id, "versions")).text
    assert "On the page now" in page
    assert "Roll back to 1" in page
    assert "Roll back to 2" not in page


def test_a_publish_by_the_api_is_a_version_too(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    publish(console, retriever_id, title="One")
    config = versions_of(console, retriever_id)[0]["display_config"]
    assert isinstance(config, dict)
    response = console.patch(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"display_config": {**config, "title": "From the API"}},
    )
    assert response.status_code == 200, response.text
    # A change that leaves the page's config alone is no new version.
    console.patch(
        f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers(), json={"tags": ["x"]}
    )
    listed = versions_of(console, retriever_id)
    assert [v["published_by"] for v in listed] == ["owner API", "owner key (acme, console)"]


def test_the_difference_with_the_page_now_is_shown_by_setting(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    publish(console, retriever_id, title="One")
    publish(
        console,
        retriever_id,
        title="Two",
        **{
            "theme.primary_color": "#C2185B",
            "markdowns.0.title": "About",
            "markdowns.0.content": "Hi",
        },
    )
    page = console.get(editor_url(retriever_id, "versions/1"))
    assert page.status_code == 200
    rows = re.findall(r'<tr class="diff--(\w+)">\s*<th scope="row"><code>([^<]*)</code>', page.text)
    assert ("changed", "title") in rows
    assert ("removed", "theme") in rows
    assert ("removed", "markdowns") in rows
    assert "<del>Two</del>" in page.text
    assert "<ins>One</ins>" in page.text
    same = console.get(editor_url(retriever_id, "versions/2")).text
    assert "is the same as version 2" in same


def test_rollback_publishes_the_old_version_as_a_new_one(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    publish(console, retriever_id, title="One")
    publish(console, retriever_id, title="Two")
    response = console.post(
        editor_url(retriever_id, "versions/1/rollback"),
        data={"csrf": csrf_of(console, retriever_id)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/versions?rolled=3")
    assert "<h1" in console.get("/r/lamps").text
    assert ">One<" in console.get("/r/lamps").text
    listed = versions_of(console, retriever_id)
    assert [v["number"] for v in listed] == [3, 2, 1]
    assert listed[0]["note"] == "rollback to version 1"
    assert listed[0]["display_config"]["title"] == "One"  # type: ignore[index]
    page = console.get(editor_url(retriever_id, "versions?rolled=3")).text
    assert "Rolled back" in page
    assert "rollback to version 1" in page


def test_rollback_by_the_api(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    publish(console, retriever_id, title="One")
    publish(console, retriever_id, title="Two")
    url = f"/v1/retrievers/{retriever_id}/versions/1/rollback"
    response = console.post(url, headers=owner_headers())
    assert response.status_code == 200, response.text
    assert response.json()["number"] == 3
    assert response.json()["current"] is True
    assert response.json()["published_by"] == "owner API"
    viewer = console.post(url, headers=owner_headers(VIEWER_KEY))
    assert viewer.status_code == 403
    for missing in ("9", "0", "x", "9" * 30):
        gone = console.post(
            f"/v1/retrievers/{retriever_id}/versions/{missing}/rollback", headers=owner_headers()
        )
        assert gone.status_code == 404, missing


def test_a_viewer_sees_versions_but_cannot_roll_back(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    publish(console, retriever_id, title="One")
    publish(console, retriever_id, title="Two")
    sign_in(console, VIEWER_KEY)
    page = console.get(editor_url(retriever_id, "versions")).text
    assert "Compare with now" in page
    assert "Roll back" not in page
    token = form_value(page, "csrf")
    refused = console.post(editor_url(retriever_id, "versions/1/rollback"), data={"csrf": token})
    assert refused.status_code == 403
    assert len(versions_of(console, retriever_id)) == 2


def test_rollback_without_the_token_is_refused(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    publish(console, retriever_id, title="One")
    publish(console, retriever_id, title="Two")
    for data in ({}, {"csrf": "forged"}):
        assert (
            console.post(editor_url(retriever_id, "versions/1/rollback"), data=data).status_code
            == 403
        )
    assert len(versions_of(console, retriever_id)) == 2


def test_versions_of_an_unknown_version_or_retriever_are_not_found(console: TestClient) -> None:
    retriever_id = new_retriever(console)
    assert console.get(editor_url(retriever_id, "versions/7")).status_code == 404
    assert console.get(editor_url(retriever_id, "versions/x")).status_code == 404
    assert console.get(editor_url("ret_none", "versions")).status_code == 404
    assert "Nothing published yet" in console.get(editor_url(retriever_id, "versions")).text
    api = console.get("/v1/retrievers/ret_none/versions", headers=owner_headers())
    assert api.status_code == 404


def test_versions_and_rollback_on_postgresql(
    make_settings: Callable[..., Settings], postgres_database: str
) -> None:
    settings = make_settings(database_url=postgres_database)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": test_console_editor.DOCUMENTS},
        ).raise_for_status()
        sign_in(client, OWNER_KEY)
        retriever_id = new_retriever(client)
        publish(client, retriever_id, title="One")
        publish(client, retriever_id, title="Two", **{"theme.primary_color": "#C2185B"})
        assert "theme" in client.get(editor_url(retriever_id, "versions/1")).text
        rolled = client.post(
            f"/v1/retrievers/{retriever_id}/versions/1/rollback", headers=owner_headers()
        )
        assert rolled.status_code == 200, rolled.text
        assert [v["number"] for v in versions_of(client, retriever_id)] == [3, 2, 1]
        deleted = client.delete(f"/v1/retrievers/{retriever_id}", headers=owner_headers())
        assert deleted.status_code == 200, deleted.text


def test_hostile_values_are_inert_in_the_versions_and_their_difference(
    console: TestClient,
) -> None:
    retriever_id = new_retriever(console)
    hostile = "<script>alert(1)</script><img src=x onerror=alert(1)>"
    publish(console, retriever_id, title=hostile, description=hostile)
    publish(console, retriever_id, title="Plain")
    for path in ("versions", "versions/1"):
        page = console.get(editor_url(retriever_id, path)).text
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    assert (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
        in console.get(editor_url(retriever_id, "versions/1")).text
    )


def test_a_stored_key_is_named_by_its_label(console: TestClient) -> None:
    services = console.app.state.services  # type: ignore[attr-defined]
    key = services.keys.create_key("acme", "Ada's laptop", Role.EDITOR)
    retriever_id = new_retriever(console)
    sign_in(console, key)
    publish(console, retriever_id, title="One")
    (version,) = versions_of(console, retriever_id)
    assert version["published_by"] == "Ada's laptop, editor key (acme, console)"
    assert key not in console.get(editor_url(retriever_id, "versions")).text
