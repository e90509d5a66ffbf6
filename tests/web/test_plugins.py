"""The plugin registry's owner API: Cortex's calls, DatoCMS's JSON:API update, versions,
drafts, roles and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.web.app import create_app
from tests.helpers import NAMESPACE, OTHER_KEY, OTHER_NAMESPACE, OWNER_KEY, owner_headers

VIEWER_KEY = "viewer-key-0123456789abc"
EDITOR_KEY = "editor-key-0123456789abc"
STARS = "<!doctype html><p id=stars></p><script>/* draws stars */</script>"


@pytest.fixture
def site(make_settings: Any) -> Iterator[TestClient]:
    keys = [
        f"{NAMESPACE}:{OWNER_KEY}",
        f"{NAMESPACE}:{VIEWER_KEY}@viewer",
        f"{NAMESPACE}:{EDITOR_KEY}@editor",
        f"{OTHER_NAMESPACE}:{OTHER_KEY}",
    ]
    with TestClient(create_app(make_settings(api_keys=keys))) as client:
        yield client


def _create(client: TestClient, key: str = EDITOR_KEY, **fields: Any) -> Any:
    body = {"tag": "star-rating", "name": "Star rating", "blob": STARS, **fields}
    return client.post("/v1/plugins", headers=owner_headers(key), json=body)


def test_create_read_and_list(site: TestClient) -> None:
    created = _create(site, description="Stars for a 0-5 rating", parameters={"max": 5})
    assert created.status_code == 201, created.text
    plugin = created.json()
    assert plugin["plugin_id"].startswith("plg_")
    assert plugin["version"] == "1.0.0"
    assert plugin["meta"] == {"version": 1}
    assert plugin["is_draft"] is False
    assert plugin["minimum_role_required"] == "viewer"
    assert plugin["blob"] is None  # never unless asked
    viewer = owner_headers(VIEWER_KEY)
    by_tag = site.get("/v1/plugins/star-rating", headers=viewer).json()
    by_id = site.get(f"/v1/plugins/{plugin['plugin_id']}", headers=viewer).json()
    assert by_tag == by_id
    with_blob = site.get("/v1/plugins/star-rating?include_blob=true", headers=viewer).json()
    assert with_blob["blob"] == STARS
    listing = site.get("/v1/plugins", headers=viewer).json()
    assert listing["total"] == 1
    assert listing["page"] == 0
    assert listing["page_size"] == 250
    assert listing["plugins"][0]["tag"] == "star-rating"


def test_cortex_camel_case_names_are_accepted(site: TestClient) -> None:
    created = _create(site, isDraft=True, minimumRoleRequired="editor", iconTag="star")
    plugin = created.json()
    assert (plugin["is_draft"], plugin["minimum_role_required"], plugin["icon_tag"]) == (
        True,
        "editor",
        "star",
    )


def test_drafts_are_listed_only_when_asked(site: TestClient) -> None:
    _create(site, tag="draft-one", is_draft=True)
    _create(site, tag="final-one")
    headers = owner_headers()
    assert [p["tag"] for p in site.get("/v1/plugins", headers=headers).json()["plugins"]] == [
        "final-one"
    ]
    listed = site.get("/v1/plugins?include_drafts=true", headers=headers).json()
    assert listed["total"] == 2


def test_a_plugin_above_the_callers_role_is_not_there(site: TestClient) -> None:
    _create(site, tag="editors-only", minimum_role_required="editor")
    viewer = owner_headers(VIEWER_KEY)
    assert site.get("/v1/plugins/editors-only", headers=viewer).status_code == 404
    assert site.get("/v1/plugins", headers=viewer).json()["total"] == 0
    assert site.get("/v1/plugins/editors-only", headers=owner_headers()).status_code == 200


def test_roles(site: TestClient) -> None:
    refused = _create(site, key=VIEWER_KEY)
    assert refused.status_code == 403
    assert "editor role" in refused.json()["error"]["message"]
    _create(site)
    deleted = site.delete("/v1/plugins/star-rating", headers=owner_headers(EDITOR_KEY))
    assert deleted.status_code == 403
    assert site.delete("/v1/plugins/star-rating", headers=owner_headers()).status_code == 204
    assert site.get("/v1/plugins/star-rating", headers=owner_headers()).status_code == 404


def test_plugins_are_per_namespace(site: TestClient) -> None:
    _create(site)
    other = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
    assert site.get("/v1/plugins/star-rating", headers=other).status_code == 404
    assert _create(site, key=OTHER_KEY).status_code == 403  # its key is for globex
    mine = site.post(
        "/v1/plugins",
        headers=other,
        json={"tag": "star-rating", "name": "Theirs", "url": "https://plugins.example/stars"},
    )
    assert mine.status_code == 201  # the same tag in another namespace


def test_a_tag_is_unique_in_its_namespace(site: TestClient) -> None:
    _create(site)
    again = _create(site)
    assert again.status_code == 409
    assert "star-rating" in again.json()["error"]["message"]


def test_every_new_body_is_a_new_immutable_version(site: TestClient) -> None:
    _create(site)
    editor = owner_headers(EDITOR_KEY)
    renamed = site.patch("/v1/plugins/star-rating", headers=editor, json={"name": "Stars"})
    assert renamed.json()["version"] == "1.0.0"  # no new body, no new version
    assert renamed.json()["meta"] == {"version": 2}
    newer = site.patch("/v1/plugins/star-rating", headers=editor, json={"blob": "<p>v2</p>"})
    assert newer.json()["version"] == "1.0.1"
    chosen = site.patch(
        "/v1/plugins/star-rating", headers=editor, json={"blob": "<p>v3</p>", "version": "2.0.0"}
    )
    assert chosen.json()["version"] == "2.0.0"
    taken = site.patch(
        "/v1/plugins/star-rating", headers=editor, json={"blob": "<p>v4</p>", "version": "2.0.0"}
    )
    assert taken.status_code == 409
    versions = site.get("/v1/plugins/star-rating/versions", headers=editor).json()["versions"]
    assert [v["version"] for v in versions] == ["1.0.0", "1.0.1", "2.0.0"]
    back = site.patch("/v1/plugins/star-rating", headers=editor, json={"version": "1.0.0"})
    assert back.json()["version"] == "1.0.0"
    blob = site.get("/v1/plugins/star-rating?include_blob=1", headers=editor).json()["blob"]
    assert blob == STARS


def test_cortex_replace_needs_its_fields(site: TestClient) -> None:
    _create(site)
    editor = owner_headers(EDITOR_KEY)
    partial = site.put("/v1/plugins/star-rating", headers=editor, json={"name": "x"})
    assert partial.status_code == 422
    replaced = site.put(
        "/v1/plugins/star-rating",
        headers=editor,
        json={
            "name": "Stars",
            "url": "https://plugins.example/stars",
            "isDraft": False,
            "minimumRoleRequired": "viewer",
        },
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["url"] == "https://plugins.example/stars"
    assert replaced.json()["version"] == "1.0.1"


def test_a_cortex_replace_sets_what_it_does_not_send_back_to_a_creates_defaults(
    site: TestClient,
) -> None:
    editor = owner_headers(EDITOR_KEY)
    plugin = _create(
        site,
        description="Stars that fetch reviews",
        icon_tag="star",
        parameters={"max": 5},
        permissions=["network:https://api.example.com", "read_document", "open_links"],
    ).json()
    frame = f"/plugins/frame/{plugin['plugin_id']}/1.0.0"
    assert (
        "connect-src https://api.example.com;" in site.get(frame).headers["content-security-policy"]
    )
    body = {"name": "Stars", "blob": STARS, "isDraft": False, "minimumRoleRequired": "viewer"}
    replaced = site.put("/v1/plugins/star-rating", headers=editor, json=body)
    assert replaced.status_code == 200, replaced.text
    plugin = replaced.json()
    # What a create of the same body has, field for field.
    fresh = _create(site, tag="fresh-one", name="Stars").json()
    defaulted = ("description", "icon_tag", "parameters", "permissions", "is_draft")
    assert {k: plugin[k] for k in defaulted} == {k: fresh[k] for k in defaulted}
    assert plugin["permissions"] == []
    assert (plugin["version"], plugin["meta"]) == ("1.0.0", {"version": 2})  # the same body
    policy = site.get(frame).headers["content-security-policy"]
    assert "connect-src 'none'" in policy  # its network access is gone
    assert "allow-popups" not in policy
    # A new body is a new version, as with a create or an update.
    newer = site.put("/v1/plugins/star-rating", headers=editor, json={**body, "blob": "<p>2</p>"})
    assert (newer.json()["version"], newer.json()["meta"]) == ("1.0.1", {"version": 3})
    versions = site.get("/v1/plugins/star-rating/versions", headers=editor).json()["versions"]
    assert [v["version"] for v in versions] == ["1.0.0", "1.0.1"]
    # PATCH stays the partial update.
    site.patch("/v1/plugins/star-rating", headers=editor, json={"permissions": ["open_links"]})
    kept = site.patch("/v1/plugins/star-rating", headers=editor, json={"name": "Star rating"})
    assert kept.json()["permissions"] == ["open_links"]


def test_the_datocms_json_api_update(site: TestClient) -> None:
    plugin = _create(site).json()
    headers = {**owner_headers(EDITOR_KEY), "Content-Type": "application/vnd.api+json"}
    body = {
        "data": {
            "type": "plugin",
            "id": plugin["plugin_id"],
            "attributes": {
                "description": "Now with halves",
                "package_version": "1.1.0",
                "url": "https://plugins.example/stars",
            },
        },
        "meta": {"current_version": 1},
    }
    updated = site.put("/v1/plugins/star-rating", headers=headers, content=_json(body))
    assert updated.status_code == 200, updated.text
    assert updated.headers["content-type"].startswith("application/vnd.api+json")
    answer = updated.json()
    assert answer["data"]["id"] == plugin["plugin_id"]
    assert answer["data"]["attributes"]["description"] == "Now with halves"
    assert answer["data"]["attributes"]["package_version"] == "1.1.0"
    assert answer["data"]["attributes"]["name"] == "Star rating"  # not sent, unchanged
    assert answer["meta"] == {"version": 2}
    stale = site.put("/v1/plugins/star-rating", headers=headers, content=_json(body))
    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["current_version"] == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tag": "X"}, "tag"),
        ({"tag": "-bad-"}, "tag"),
        ({"tag": "ab"}, "tag"),
        ({"url": "https://plugins.example/x"}, "body"),  # both blob and url
        ({"blob": None}, "body"),  # neither
        ({"blob": "x" * (256 * 1024 + 1)}, "blob"),
        ({"blob": None, "url": "http://plugins.example/x"}, "url"),
        ({"permissions": ["read_cookies"]}, "permissions"),
        ({"permissions": ["network:http://evil.example"]}, "permissions"),
        ({"version": "1.0"}, "version"),
        ({"minimum_role_required": "admin"}, "minimum_role_required"),
        ({"parameters": {"x": "y" * 17_000}}, "parameters"),
    ],
)
def test_bad_plugins_are_refused_and_nothing_is_stored(
    site: TestClient, fields: dict[str, Any], field: str
) -> None:
    refused = _create(site, **fields)
    assert refused.status_code == 422, refused.text
    assert field in refused.text
    assert site.get("/v1/plugins?include_drafts=true", headers=owner_headers()).json()["total"] == 0


# Each would reach a page's Content-Security-Policy as more than one origin.
BAD_ENTRY_URLS = [
    "https://evil.example,script-src",
    "https://evil.example;script-src 'unsafe-inline'",
    "https://evil.example/x'y",
    'https://evil.example/x"y',
    "https://user:secret@evil.example/x",
    "https://evil.example/a b",
    "https://evil.example:99999/x",
    "http://evil.example/x",
    "javascript:alert(1)",
]


@pytest.mark.parametrize("url", BAD_ENTRY_URLS)
def test_an_entry_point_is_an_https_origin_and_a_path(site: TestClient, url: str) -> None:
    editor = owner_headers(EDITOR_KEY)
    created = _create(site, blob=None, url=url)
    assert created.status_code == 422, created.text
    assert created.json()["error"]["details"]["errors"][0]["field"] == "url"
    _create(site, blob=None, url="https://plugins.example:8443/stars/index.html?v=2#top")
    replace = {"name": "Stars", "url": url, "is_draft": False, "minimum_role_required": "viewer"}
    for method, body in (("PUT", replace), ("PATCH", {"url": url})):
        refused = site.request(method, "/v1/plugins/star-rating", headers=editor, json=body)
        assert refused.status_code == 422, (method, refused.text)
        assert refused.json()["error"]["details"]["errors"][0]["field"] == "url"
    kept = site.get("/v1/plugins/star-rating", headers=editor).json()
    assert kept["url"] == "https://plugins.example:8443/stars/index.html?v=2#top"


@pytest.mark.parametrize(
    "query", ["page=-1", "page_size=0", "page_size=1001", "include_drafts=maybe"]
)
def test_bad_list_parameters(site: TestClient, query: str) -> None:
    assert site.get(f"/v1/plugins?{query}", headers=owner_headers()).status_code == 422


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()
