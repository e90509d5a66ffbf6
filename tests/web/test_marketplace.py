"""The plugin marketplace (seed 000): publish, change, unpublish, browse, install; trust tiers,
icons and readmes; the gallery pages."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.web.app import create_app
from app.web.assets import asset_url
from tests.helpers import NAMESPACE, OTHER_KEY, OTHER_NAMESPACE, OWNER_KEY, owner_headers

OPERATOR_KEY = "operator-key-0123456789abc"  # bound to no namespace, owner role
EDITOR_KEY = "editor-key-0123456789abc"
VIEWER_KEY = "viewer-key-0123456789abc"
STARS = "<!doctype html><p id=stars></p><script>/* draws stars */</script>"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()
HOSTILE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'viewBox="0 0 10 10" onload="alert(1)"><script>alert(2)</script>'
    '<circle cx="5" cy="5" r="4" fill="url(#g)" onclick="alert(3)"/>'
    '<rect width="1" height="1" fill="url(https://evil.example/x)"/>'
    '<use xlink:href="https://evil.example/sprite.svg#a"/>'
    '<foreignObject><iframe src="https://evil.example"/></foreignObject>'
    "<style>@import url(https://evil.example/x.css);</style></svg>"
)


@pytest.fixture
def site(make_settings: Any) -> Iterator[TestClient]:
    keys = [
        f"{NAMESPACE}:{OWNER_KEY}",
        f"{NAMESPACE}:{EDITOR_KEY}@editor",
        f"{NAMESPACE}:{VIEWER_KEY}@viewer",
        f"{OTHER_NAMESPACE}:{OTHER_KEY}",
        OPERATOR_KEY,
    ]
    with TestClient(create_app(make_settings(api_keys=keys))) as client:
        yield client


def _plugin(client: TestClient, tag: str = "star-rating", **fields: Any) -> dict[str, Any]:
    body = {"tag": tag, "name": tag.replace("-", " ").title(), "blob": STARS, **fields}
    created = client.post("/v1/plugins", headers=owner_headers(EDITOR_KEY), json=body)
    assert created.status_code == 201, created.text
    plugin: dict[str, Any] = created.json()
    return plugin


def _publish(
    client: TestClient, tag: str = "star-rating", key: str = EDITOR_KEY, **fields: Any
) -> Any:
    body = {"public_name": tag, **fields}
    return client.post(f"/v1/plugins/{tag}/publish", headers=owner_headers(key), json=body)


def test_publish_read_change_and_unpublish(site: TestClient) -> None:
    plugin = _plugin(site, description="Stars for a rating")
    published = _publish(
        site,
        tags=["rating", "stars"],
        category="Ratings",
        readme_markdown="# Stars",
        model_dependencies=[{"name": "none", "source": "builtin", "required": False}],
    )
    assert published.status_code == 201, published.text
    listing = published.json()
    assert listing["plugin_id"] == plugin["plugin_id"]
    assert listing["public_id"].startswith("ppub_")
    assert listing["public_name"] == "star-rating"
    assert listing["version"] == "1.0.0"
    assert listing["trust_tier"] == "community"
    assert listing["display_name"] == "Star Rating"
    assert listing["description"] == "Stars for a rating"  # the plugin's, when none is sent
    assert listing["capabilities"] == ["realtime"]
    assert listing["install_count"] == 0
    assert listing["is_active"] is True
    again = _publish(site)
    assert again.status_code == 409

    # A new body makes a new version; a PATCH moves the listing to it, changing only what
    # it sends.
    site.patch("/v1/plugins/star-rating", headers=owner_headers(), json={"blob": STARS + " "})
    changed = site.patch(
        f"/v1/plugins/{plugin['plugin_id']}/publish",
        headers=owner_headers(EDITOR_KEY),
        json={"description": "Now with half stars"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == "1.0.1"
    assert changed.json()["description"] == "Now with half stars"
    assert changed.json()["tags"] == ["rating", "stars"]
    assert changed.json()["category"] == "Ratings"
    read = site.get("/v1/plugins/star-rating/publish", headers=owner_headers(VIEWER_KEY))
    assert read.json() == changed.json()

    assert site.get("/v1/public/plugins/star-rating").status_code == 200
    gone = site.delete("/v1/plugins/star-rating/publish", headers=owner_headers(EDITOR_KEY))
    assert gone.status_code == 204
    assert site.get("/v1/plugins/star-rating/publish", headers=owner_headers()).status_code == 404
    assert site.get("/v1/public/plugins/star-rating").status_code == 404
    assert site.get("/v1/plugins/star-rating", headers=owner_headers()).status_code == 200


def test_only_an_operator_key_vouches_for_a_plugin(site: TestClient) -> None:
    _plugin(site)
    refused = _publish(site, trust_tier="verified")
    assert refused.status_code == 403
    assert "trust_tier" in refused.json()["error"]["message"]
    assert _publish(site, key=OWNER_KEY, trust_tier="official").status_code == 403
    assert _publish(site, trust_tier="community").status_code == 201
    vouched = site.patch(
        "/v1/plugins/star-rating/publish",
        headers=owner_headers(OPERATOR_KEY),
        json={"trust_tier": "verified"},
    )
    assert vouched.status_code == 200, vouched.text
    assert site.get("/v1/public/plugins/star-rating").json()["trust_tier"] == "verified"


def test_a_draft_is_never_in_the_marketplace(site: TestClient) -> None:
    _plugin(site, is_draft=True)
    refused = _publish(site)
    assert refused.status_code == 409
    assert "draft" in refused.json()["error"]["message"]
    site.patch("/v1/plugins/star-rating", headers=owner_headers(), json={"is_draft": False})
    assert _publish(site).status_code == 201
    site.patch("/v1/plugins/star-rating", headers=owner_headers(), json={"is_draft": True})
    assert site.get("/v1/public/plugins/star-rating").status_code == 404
    assert site.get("/v1/public/plugins").json()["total"] == 0


def test_roles_for_publishing(site: TestClient) -> None:
    _plugin(site)
    assert _publish(site, key=VIEWER_KEY).status_code == 403
    other = site.post(
        "/v1/plugins/star-rating/publish",
        headers=owner_headers(OTHER_KEY, OTHER_NAMESPACE),
        json={"public_name": "theirs"},
    )
    assert other.status_code == 404  # not a plugin of their namespace


def test_the_public_marketplace_searches_filters_and_pages(site: TestClient) -> None:
    for tag, category, tags in [
        ("star-rating", "Ratings", ["stars"]),
        ("price-chart", "Charts", ["prices", "history"]),
        ("sparkline", "Charts", ["history"]),
        ("hidden-one", "Charts", []),
    ]:
        _plugin(site, tag, description=f"The {tag} renderer")
        assert _publish(site, tag, category=category, tags=tags).status_code == 201
    site.patch("/v1/plugins/hidden-one/publish", headers=owner_headers(), json={"is_active": False})
    site.patch(
        "/v1/plugins/sparkline/publish",
        headers=owner_headers(OPERATOR_KEY),
        json={"trust_tier": "official"},
    )
    every = site.get("/v1/public/plugins").json()
    assert every["total"] == 3
    assert every["plugins"][0]["public_name"] == "sparkline"  # official first
    assert {c["name"]: c["count"] for c in every["categories"]} == {"Charts": 2, "Ratings": 1}

    def names(query: str) -> set[str]:
        return {p["public_name"] for p in site.get(f"/v1/public/plugins?{query}").json()["plugins"]}

    assert names("category=charts") == {"price-chart", "sparkline"}
    assert names("tag=history") == {"price-chart", "sparkline"}
    assert names("search=PRICE") == {"price-chart"}
    assert names("search=%25") == set()  # a LIKE wildcard is a character here
    paged = site.get("/v1/public/plugins?page=1&page_size=2").json()
    assert (paged["page"], paged["total_pages"], len(paged["plugins"])) == (1, 2, 1)
    assert site.get("/v1/public/plugins/hidden-one").status_code == 404


@pytest.mark.parametrize(
    "query", ["page=-1", "page_size=0", "page_size=101", "search=" + "x" * 201, "page=x"]
)
def test_bad_marketplace_queries(site: TestClient, query: str) -> None:
    refused = site.get(f"/v1/public/plugins?{query}")
    assert refused.status_code == 422
    assert query.split("=")[0] in refused.json()["error"]["message"]


def test_install_copies_the_listed_version_and_counts(site: TestClient) -> None:
    _plugin(site, parameters={"max": 5}, permissions=["read_document"])
    _publish(site)
    # A later version that is not listed yet is not what an install gets.
    site.patch("/v1/plugins/star-rating", headers=owner_headers(), json={"blob": "<p>v2</p>"})
    theirs = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
    listed = {"public_name": "star-rating"}
    installed = site.post("/v1/plugins/install", headers=theirs, json=listed)
    assert installed.status_code == 201, installed.text
    copy = installed.json()
    assert copy["tag"] == "star-rating"
    assert copy["version"] == "1.0.0"
    assert copy["parameters"] == {"max": 5}
    assert copy["permissions"] == ["read_document"]
    body = site.get("/v1/plugins/star-rating?include_blob=true", headers=theirs).json()
    assert body["blob"] == STARS
    assert site.get("/v1/public/plugins/star-rating").json()["install_count"] == 1
    twice = site.post("/v1/plugins/install", headers=theirs, json=listed)
    assert twice.status_code == 409
    assert site.get("/v1/public/plugins/star-rating").json()["install_count"] == 1


def test_install_under_another_tag(site: TestClient) -> None:
    _plugin(site)
    _publish(site)
    mine = owner_headers()
    taken = site.post("/v1/plugins/install", headers=mine, json={"public_name": "star-rating"})
    assert taken.status_code == 409
    assert "another tag" in taken.json()["error"]["message"]
    renamed = site.post(
        "/v1/plugins/install",
        headers=mine,
        json={"public_name": "star-rating", "tag": "my-stars"},
    )
    assert renamed.status_code == 201
    viewer = site.post(
        "/v1/plugins/install",
        headers=owner_headers(VIEWER_KEY),
        json={"public_name": "star-rating", "tag": "viewers-stars"},
    )
    assert viewer.status_code == 403
    missing = site.post("/v1/plugins/install", headers=mine, json={"public_name": "nope-nope"})
    assert missing.status_code == 404


def test_an_svg_icon_is_sanitised_and_served_inert(site: TestClient) -> None:
    _plugin(site)
    icon = base64.b64encode(HOSTILE_SVG.encode()).decode()
    listing = _publish(site, icon_base64=f"data:image/svg+xml;base64,{icon}").json()
    assert listing["icon_url"] == "/plugins/star-rating/icon"
    served = site.get(listing["icon_url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in served.headers["content-security-policy"]
    svg = served.text.lower()
    assert "<circle" in svg  # the drawing stays
    assert "url(#g)" in svg
    for hostile in ("script", "onload", "onclick", "evil.example", "foreignobject", "<style"):
        assert hostile not in svg, hostile


def test_a_png_icon_is_kept_byte_for_byte(site: TestClient) -> None:
    _plugin(site)
    listing = _publish(site, icon_base64=PNG).json()
    served = site.get(listing["icon_url"])
    assert served.headers["content-type"] == "image/png"
    assert served.content == base64.b64decode(PNG)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"icon_base64": base64.b64encode(b"GIF89a not allowed").decode()}, "icon_base64"),
        ({"icon_base64": base64.b64encode(b"<html><script>1</script>").decode()}, "icon_base64"),
        ({"icon_base64": "not base64 at all!"}, "icon_base64"),
        ({"icon_base64": "A" * 300_001}, "icon_base64"),
        (
            {"icon_base64": base64.b64encode(b'<!DOCTYPE svg [<!ENTITY a "b">]><svg/>').decode()},
            "icon_base64",
        ),
        ({"description": "x" * 1001}, "description"),
        ({"readme_markdown": "x" * 50_001}, "readme_markdown"),
        ({"category": "x" * 51}, "category"),
        ({"tags": ['"quoted"']}, "tags"),
        ({"tags": ["t"] * 21}, "tags"),
        ({"model_dependencies": [{"name": "m", "source": "ftp"}]}, "source"),
        ({"trust_tier": "gold"}, "trust_tier"),
        ({"public_name": "Not A Name"}, "public_name"),
        ({"sample_values": ["x" * 9000]}, "sample_values"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_listings_are_refused_and_nothing_is_stored(
    site: TestClient, fields: dict[str, Any], field: str
) -> None:
    _plugin(site)
    refused = _publish(site, **fields)
    assert refused.status_code == 422, refused.text
    assert field in refused.text
    assert site.get("/v1/public/plugins").json()["total"] == 0


def test_the_gallery_and_a_plugins_page(site: TestClient) -> None:
    _plugin(site, permissions=["read_document", "network:https://api.example.com"])
    _publish(
        site,
        category="Ratings",
        icon_base64=PNG,
        sample_values=[4.5, "<b>bold</b>"],
        readme_markdown="# Stars\n\n[x](javascript:alert(1)) <script>alert(1)</script>",
    )
    gallery = site.get("/plugins")
    assert gallery.status_code == 200
    assert '<img class="plugin-icon" src="/plugins/star-rating/icon"' in gallery.text
    assert "Community" in gallery.text
    assert "0 installs" in gallery.text
    assert 'href="/plugins?category=Ratings"' in gallery.text

    page = site.get("/plugins/star-rating")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Stars</h1>" in html  # the readme, as markdown
    assert 'href="javascript:' not in html
    assert "<script>alert" not in html
    assert "Reads the other fields shown on the same result card." in html
    assert "May connect to https://api.example.com." in html
    frames = re.findall(r"<iframe[^>]*>", html)
    assert len(frames) == 2  # one preview per sample value
    assert all('sandbox="allow-scripts"' in f and "allow-same-origin" not in f for f in frames)
    assert "&lt;b&gt;bold&lt;/b&gt;" in html  # the sample, escaped, as the fallback text
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    assert f'<script src="{asset_url("plugins.js")}" defer>' in html
    assert site.get("/plugins/nope-nope").status_code == 404


def test_a_hostile_listing_is_escaped_in_the_gallery(site: TestClient) -> None:
    _plugin(site, name='<img src=x onerror="alert(1)">')
    _publish(site, description="<script>alert(1)</script>", category="<b>c</b>")
    html = site.get("/plugins").text + site.get("/plugins/star-rating").text
    for hostile in ("<script>alert", "<img src=x", "<b>c</b>"):
        assert hostile not in html
