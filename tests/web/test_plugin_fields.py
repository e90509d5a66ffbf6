"""A field drawn by a plugin, as the server renders it: checked on publish and patch, framed
from a sandboxed document, sent only exposed fields, and text without JavaScript."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.adapters.store import plugins as plugin_rows
from app.web.app import create_app
from app.web.assets import asset_url
from tests.helpers import NAMESPACE, browse_config, local_backend, owner_headers
from tests.web.test_plugins import BAD_ENTRY_URLS

STARS = "<!doctype html><p id=stars></p><script>/* draws stars */</script>"
DOCUMENTS = [
    {"document_id": "a", "title": "Lamp", "description": "Warm", "rating": 4.5, "cost": 3},
    {"document_id": "b", "title": "Desk", "description": "Oak", "rating": 2, "cost": 9},
]


def _plain(**overrides: Any) -> dict[str, Any]:
    return browse_config(
        exposed_fields=["title", "description", "rating"],
        components={"result_card": {"field_order": ["description", "rating"]}},
        **{"field_config": {}, **overrides},
    )


def _config(**options: Any) -> dict[str, Any]:
    return _plain(
        field_config={
            "rating": {
                "format": "plugin",
                "format_options": {"plugin": "star-rating", "label": "Rating", **options},
            }
        },
    )


@pytest.fixture
def site(make_settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings())) as client:
        client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        rid = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "lamps", "backend": local_backend()},
        ).json()["retriever_id"]
        client.headers["X-Test-Retriever"] = rid
        yield client


def _plugin(client: TestClient, **fields: Any) -> dict[str, Any]:
    body = {"tag": "star-rating", "name": "Star rating", "blob": STARS, **fields}
    created = client.post("/v1/plugins", headers=owner_headers(), json=body)
    assert created.status_code == 201, created.text
    plugin: dict[str, Any] = created.json()
    return plugin


def _publish(client: TestClient, config: dict[str, Any]) -> Any:
    rid = client.headers["X-Test-Retriever"]
    return client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "lamps",
            "display_config": config,
            "rate_limit_config": {"tier": "unlimited"},
        },
    )


def _messages(page: str) -> list[dict[str, Any]]:
    found = re.findall(r'data-message="([^"]*)"', page)
    return [json.loads(html.unescape(m)) for m in found]


def test_a_plugin_field_is_a_sandboxed_frame_over_its_text(site: TestClient) -> None:
    plugin = _plugin(site, parameters={"max": 5, "color": "#D97706"})
    assert _publish(site, _config(parameters={"max": 10})).status_code == 200
    page = site.get("/r/lamps")
    assert page.status_code == 200
    frames = re.findall(r"<iframe[^>]*>", page.text)
    assert len(frames) == 2
    for frame in frames:
        assert 'sandbox="allow-scripts"' in frame
        assert "allow-same-origin" not in frame
        assert f'src="/plugins/frame/{plugin["plugin_id"]}/1.0.0"' in frame
        assert 'loading="lazy"' in frame
        assert 'title="Rating, drawn by the Star rating plugin"' in frame
    # The text the page shows without JavaScript, or before the frame answers.
    assert '<div class="plugin-text">4.5</div>' in page.text
    messages = _messages(page.text)
    assert messages[0] == {
        "field": "rating",
        "value": 4.5,
        "parameters": {"max": 10, "color": "#D97706"},  # the field's over the plugin's
    }
    policy = page.headers["content-security-policy"]
    assert "frame-src 'self';" in policy
    assert f'<script src="{asset_url("plugins.js")}" defer>' in page.text


def test_a_plugin_draws_the_description_on_cards_too(site: TestClient) -> None:
    _plugin(site)
    config = _plain(
        field_config={
            "description": {"format": "plugin", "format_options": {"plugin": "star-rating"}}
        }
    )
    assert _publish(site, config).status_code == 200
    page = site.get("/r/lamps").text
    # Each card's description is in the plugin's frame, as the detail view has it.
    assert [m["field"] for m in _messages(page)] == ["description", "description"]
    assert len(re.findall(r"<iframe[^>]*>", page)) == 2
    assert '<p class="desc">' not in page
    detail = site.get("/r/lamps/d/a").text
    assert [m["field"] for m in _messages(detail)] == ["description"]


def test_read_document_sends_only_the_cards_exposed_fields(site: TestClient) -> None:
    _plugin(site, permissions=["read_document"])
    _publish(site, _config())
    message = _messages(site.get("/r/lamps").text)[0]
    assert message["document"] == {"title": "Lamp", "description": "Warm"}
    assert message["document_id"] == "a"
    assert "cost" not in json.dumps(message)  # not exposed: never in the page


def test_the_frame_document_is_sandboxed_by_its_own_policy(site: TestClient) -> None:
    plugin = _plugin(site, permissions=["network:https://api.example.com", "open_links"])
    frame = site.get(f"/plugins/frame/{plugin['plugin_id']}/1.0.0")
    assert frame.status_code == 200
    assert frame.text == STARS
    policy = frame.headers["content-security-policy"]
    assert policy.startswith("sandbox allow-scripts allow-popups allow-popups-to-escape-sandbox;")
    assert "default-src 'none'" in policy
    assert "connect-src https://api.example.com;" in policy
    assert "form-action 'none'" in policy
    assert site.get(f"/plugins/frame/{plugin['plugin_id']}/9.9.9").status_code == 404
    bare = _plugin(site, tag="bare-one")
    policy = site.get(f"/plugins/frame/{bare['plugin_id']}/1.0.0").headers[
        "content-security-policy"
    ]
    assert "connect-src 'none'" in policy
    assert "allow-popups" not in policy


def test_a_drafts_frame_is_not_served(site: TestClient) -> None:
    plugin = _plugin(site, is_draft=True)
    assert site.get(f"/plugins/frame/{plugin['plugin_id']}/1.0.0").status_code == 404


@pytest.mark.parametrize(
    ("setup", "options", "field"),
    [
        ({}, {}, "format_options.plugin"),  # no plugin at all
        ({"is_draft": True}, {}, "format_options.plugin"),
        ({"tag": "other-one"}, {}, "format_options.plugin"),
        ({}, {"version": "2.0.0"}, "format_options.version"),
    ],
)
def test_a_page_may_name_only_a_plugin_it_can_show(
    site: TestClient, setup: dict[str, Any], options: dict[str, Any], field: str
) -> None:
    if setup:
        _plugin(site, **setup)
    elif options:
        _plugin(site)
    refused = _publish(site, _config(**options))
    assert refused.status_code == 422, refused.text
    assert f"display_config.field_config.rating.{field}" in refused.text
    assert site.get("/r/lamps").status_code == 404  # nothing was published


def test_a_patch_is_checked_too(site: TestClient) -> None:
    assert _publish(site, _plain()).status_code == 200
    rid = site.headers["X-Test-Retriever"]
    refused = site.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"display_config": _config()},
    )
    assert refused.status_code == 422, refused.text
    assert "field_config.rating.format_options.plugin" in refused.text
    _plugin(site)
    accepted = site.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"display_config": _config()},
    )
    assert accepted.status_code == 200, accepted.text


def test_a_page_follows_the_plugins_version_unless_pinned(site: TestClient) -> None:
    plugin = _plugin(site)
    _publish(site, _config())
    site.patch("/v1/plugins/star-rating", headers=owner_headers(), json={"blob": "<p>v2</p>"})
    assert f"/plugins/frame/{plugin['plugin_id']}/1.0.1" in site.get("/r/lamps").text

    rid = site.headers["X-Test-Retriever"]
    site.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"display_config": _config(version="1.0.0")},
    )
    assert f"/plugins/frame/{plugin['plugin_id']}/1.0.0" in site.get("/r/lamps").text
    assert site.get(f"/plugins/frame/{plugin['plugin_id']}/1.0.0").text == STARS


def test_an_entry_point_plugin_is_framed_from_its_origin(site: TestClient) -> None:
    _plugin(site, blob=None, url="https://plugins.example.com/stars/index.html")
    _publish(site, _config(height=40))
    page = site.get("/r/lamps")
    assert 'src="https://plugins.example.com/stars/index.html"' in page.text
    assert 'data-height="40"' in page.text
    assert "frame-src https://plugins.example.com;" in page.headers["content-security-policy"]


def _policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as the browser reads it: its directives by name."""
    assert "," not in header  # a comma would start a second policy
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in directives, f"{name} twice in {header}"
        directives[name] = sources
    return directives


@pytest.mark.parametrize("url", [u for u in BAD_ENTRY_URLS if u.startswith("https://")])
def test_an_odd_stored_entry_point_cannot_change_the_pages_policy(
    site: TestClient, url: str
) -> None:
    _plugin(site)
    _plugin(site, tag="odd-one", name="Odd", blob=None, url="https://plugins.example.com/odd")
    # As if stored before entry points were checked as they are now.
    with site.app.state.services.store.write() as tx:  # type: ignore[attr-defined]
        row = plugin_rows.get(tx.conn, NAMESPACE, "odd-one")
        assert row is not None
        plugin_rows.update(tx.conn, row.replace(url=url))
    odd = {"format": "plugin", "format_options": {"plugin": "odd-one", "label": "About"}}
    config = _config()
    config["field_config"]["description"] = odd
    assert _publish(site, config).status_code == 200
    page = site.get("/r/lamps")
    policy = _policy(page.headers["content-security-policy"])
    assert list(policy) == [
        "default-src",
        "script-src",
        "style-src",
        "img-src",
        "connect-src",
        "frame-src",
        "form-action",
        "base-uri",
        "frame-ancestors",
    ]
    assert policy["script-src"] == ["'self'"]
    assert policy["frame-src"] == ["'self'"]  # the star plugin's frames; no other origin
    assert len(re.findall("<iframe", page.text)) == 2  # the odd one shows its text
    assert '<div class="plugin-text">Warm</div>' not in page.text
    assert "Warm" in page.text


def test_a_plugin_made_a_draft_later_leaves_the_text(site: TestClient) -> None:
    _plugin(site)
    _publish(site, _config())
    site.patch("/v1/plugins/star-rating", headers=owner_headers(), json={"is_draft": True})
    page = site.get("/r/lamps")
    assert "<iframe" not in page.text
    assert "4.5" in page.text
    assert "frame-src" not in page.headers["content-security-policy"]


def test_a_plugin_in_use_cannot_be_deleted(site: TestClient) -> None:
    _plugin(site)
    _publish(site, _config())
    refused = site.delete("/v1/plugins/star-rating", headers=owner_headers())
    assert refused.status_code == 409
    assert "lamps" in refused.json()["error"]["message"]
    assert refused.json()["error"]["details"]["used_by"] == ["lamps"]


def test_a_page_without_plugins_frames_nothing(site: TestClient) -> None:
    _publish(site, _plain())
    page = site.get("/r/lamps")
    assert "frame-src" not in page.headers["content-security-policy"]
    assert "plugins.js" not in page.text


def test_the_json_api_update_checks_the_id_and_the_attributes(site: TestClient) -> None:
    plugin = _plugin(site)
    headers = {**owner_headers(), "Content-Type": "application/vnd.api+json"}

    def put(body: dict[str, Any]) -> Any:
        return site.put("/v1/plugins/star-rating", headers=headers, content=json.dumps(body))

    wrong = put({"data": {"type": "plugin", "id": "plg_other", "attributes": {}}})
    assert wrong.status_code == 422
    assert "data.id" in wrong.text
    unknown = put({"data": {"type": "plugin", "attributes": {"proxyTag": "x"}}})
    assert unknown.status_code == 422
    assert "proxyTag" in unknown.text
    right = put({"data": {"type": "plugin", "id": plugin["plugin_id"], "attributes": {}}})
    assert right.status_code == 200


def test_a_retrievers_stored_config_is_checked_when_published(site: TestClient) -> None:
    _plugin(site)
    created = site.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "stored", "backend": local_backend(), "display_config": _config()},
    )
    assert created.status_code == 200, created.text
    site.patch("/v1/plugins/star-rating", headers=owner_headers(), json={"is_draft": True})
    refused = site.post(
        f"/v1/retrievers/{created.json()['retriever_id']}/publish",
        headers=owner_headers(),
        json={"public_name": "stored"},
    )
    assert refused.status_code == 422
    assert "is a draft" in refused.json()["error"]["message"]
