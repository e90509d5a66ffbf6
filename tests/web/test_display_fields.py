"""Display-config fields the SDK documents, each doing what it says on the page (or refused by
name when nothing here can do it)."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.web.app import create_app
from tests.helpers import browse_config, local_backend, owner_headers

DOCUMENTS = [
    {
        "document_id": "a",
        "name": "A very long product name that goes on and on",
        "summary": "S" * 300,
        "picture": "https://img.example.com/a.png",
        "release_year": 2019,
        "units_sold": 12000,
    }
]


@pytest.fixture
def site(make_settings: Any) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings())) as client:
        client.post(
            "/v1/collections/things/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        client.headers["X-Test-Retriever"] = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={
                "retriever_name": "things",
                "backend": {**local_backend("things"), "search_fields": ["name"]},
            },
        ).json()["retriever_id"]
        yield client


def _config(**overrides: Any) -> dict[str, Any]:
    config = browse_config(exposed_fields=["name", "summary", "picture"], field_config={})
    config["components"] = {}
    config.update(overrides)
    return config


def _publish(client: TestClient, config: dict[str, Any]) -> Any:
    rid = client.headers["X-Test-Retriever"]
    client.delete(f"/v1/retrievers/{rid}/publish", headers=owner_headers())
    return client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "things", "display_config": config},
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"template_type": "my-own-template"}, "template_type"),
        ({"components": {"result_card": {"card_style": "neon"}}}, "card_style"),
        ({"field_mappings": {"subtitle": "name"}}, "field_mappings"),
        ({"field_mappings": {"title": "secret"}}, "field_mappings"),
        ({"seo": {"structured_data": {"type": "not a type"}}}, "structured_data"),
        (
            {"seo": {"structured_data": {"additional_properties": {"x": "y" * 9000}}}},
            "structured_data",
        ),
        ({"og_image_url": "javascript:alert(1)"}, "og_image_url"),
    ],
)
def test_what_nothing_here_can_do_is_refused_by_name(
    site: TestClient, overrides: dict[str, Any], field: str
) -> None:
    refused = _publish(site, _config(**overrides))
    assert refused.status_code == 422, refused.text
    assert field in refused.text


def test_field_mappings_choose_the_title_thumbnail_and_description(site: TestClient) -> None:
    config = _config(
        field_mappings={"title": "name", "thumbnail": "picture", "description": "summary"},
        components={"result_card": {"truncate_description": 40}},
        field_config={"name": {"format": "text", "format_options": {"truncate_chars": 20}}},
    )
    assert _publish(site, config).status_code == 200
    page = site.get("/r/things").text
    title = re.search(r'<h2 class="title">(.*?)</h2>', page)
    assert title is not None
    # the title field's own truncate_chars; the title opens the detail view
    assert title.group(1) == '<a href="/r/things/d/a" data-detail>A very long product…</a>'
    assert '<div class="thumb"><img src="https://img.example.com/a.png"' in page
    summary = re.search(r'<p class="desc">(S+…)</p>', page)
    assert summary is not None
    assert len(summary.group(1)) == 40  # truncate_description, on the mapped field


def test_the_social_image_and_structured_data(site: TestClient) -> None:
    hostile = "</script><script>alert(1)</script>"
    config = _config(
        og_image_url="https://img.example.com/og.png",
        seo={
            "logo_url": "https://img.example.com/logo.png",
            "structured_data": {
                "type": "WebSite",
                "additional_properties": {"alternateName": hostile},
            },
        },
    )
    assert _publish(site, config).status_code == 200
    page = site.get("/r/things").text
    assert '<meta property="og:image" content="https://img.example.com/og.png">' in page
    assert '<meta name="twitter:image" content="https://img.example.com/og.png">' in page
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert block is not None
    assert "<" not in block.group(1)  # nothing in it can close the element
    data = json.loads(block.group(1))
    assert data["@type"] == "WebSite"
    assert data["logo"] == "https://img.example.com/logo.png"
    assert data["alternateName"] == hostile
    assert data["url"].endswith("/r/things")


def test_an_inputs_examples_and_description_guide_the_form(site: TestClient) -> None:
    query = {
        "field_name": "query",
        "label": "Search",
        "required": False,
        "field_schema": {
            "type": "string",
            "examples": ["red lamp"],
            "description": "Words from the name",
        },
    }
    assert _publish(site, _config(inputs=[query])).status_code == 200
    page = html.unescape(site.get("/r/things").text)
    assert 'placeholder="e.g. red lamp"' in page
    assert '<p class="help" id="in-query-help">Words from the name</p>' in page


def test_the_title_fields_label_names_it_for_screen_readers(site: TestClient) -> None:
    config = _config(
        field_config={
            "name": {
                "format": "text",
                "format_options": {"label": "Product Name", "truncate_chars": 60},
            }
        }
    )
    assert _publish(site, config).status_code == 200
    page = site.get("/r/things").text
    assert '<h2 class="title"><span class="visually-hidden">Product Name: </span>' in page


def test_a_year_shows_as_a_year_on_cards_and_in_the_detail_view(site: TestClient) -> None:
    config = _config(exposed_fields=["name", "summary", "picture", "release_year", "units_sold"])
    assert _publish(site, config).status_code == 200
    for page in (site.get("/r/things").text, site.get("/r/things/d/a").text):
        assert re.search(r">2019<", page)
        assert "2,019" not in page
        assert re.search(r">12,000<", page)  # a quantity keeps its separators


def test_a_label_the_publisher_set_shows_on_the_card(site: TestClient) -> None:
    config = _config(
        exposed_fields=["name", "summary", "release_year", "units_sold"],
        field_config={"release_year": {"format_options": {"label": "Year"}}},
    )
    assert _publish(site, config).status_code == 200
    page = site.get("/r/things").text
    # Seen before the value (a colon after it for screen readers); a field without a label of
    # its own is named for screen readers only.
    assert (
        '<span class="m-label">Year</span><span class="visually-hidden">:</span> 2019</li>' in page
    )
    assert '<span class="visually-hidden">Units sold: </span>12,000</li>' in page


def test_a_fields_cut_shortens_cards_and_the_detail_view_shows_it_whole(site: TestClient) -> None:
    config = _config(
        exposed_fields=["name", "summary"],
        field_config={"summary": {"format_options": {"truncate_chars": 30}}},
    )
    assert _publish(site, config).status_code == 200
    card = site.get("/r/things").text
    assert re.search(r">S{29}…<", card)
    assert "S" * 31 not in card
    assert "S" * 300 in site.get("/r/things/d/a").text
