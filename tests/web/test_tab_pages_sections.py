"""The sections around a page's tabs: a hero, a stats bar (a tab's document count and the
publisher's own numbers), a featured gallery through the exposure gate, markdown made inert,
and custom HTML in a sandboxed frame of its own document with its own CSP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import owner_headers
from tests.page_sites import SECRET, build
from tests.web.test_tab_pages import titles

HOSTILE_MARKDOWN = (
    "# Welcome\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2))\n\n"
    '<img src=x onerror="alert(3)">\n\n**Bold** and [a link](https://example.com)'
)
HOSTILE_HTML = (
    "<h2>Our partners</h2><script>parent.document.title='owned';"
    "fetch('/v1/retrievers',{credentials:'include'})</script>"
)


def sections() -> list[dict[str, Any]]:
    return [
        {"type": "hero", "order": 0},
        {"type": "stats-bar", "order": 1},
        {"type": "featured-gallery", "order": 2},
        {"type": "search-tabs", "order": 3},
        {
            "type": "markdown-content",
            "order": 4,
            "section_id": "about",
            "props": {"title": "About <us>", "markdown": HOSTILE_MARKDOWN},
        },
        {
            "type": "iframe-embed",
            "order": 5,
            "section_id": "partners",
            "props": {"title": "Partners", "html": HOSTILE_HTML, "height": "200px"},
        },
    ]


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        build(
            test_client,
            hero={
                "headline": "Find anything",
                "subheadline": "Shop and help",
                "background_color": "#102030",
                "text_color": "#FFFFFF",
                "cta_label": "Contact us",
                "cta_url": "https://example.com/contact",
            },
            stats=[
                {"label": "Products", "tab_id": "products"},
                {"label": "Happy customers", "value": "12,400+"},
            ],
            featured_gallery={
                "title": "Staff picks",
                "tab_id": "products",
                "document_ids": ["p2", "gone", "p1"],
            },
            sections=sections(),
        )
        yield test_client


def test_the_sections_are_in_their_order_around_the_tabs(client: TestClient) -> None:
    page = client.get("/p/everything?query=lamp")
    assert page.status_code == 200, page.text
    html = page.text
    places = [
        html.index(marker)
        for marker in (
            'class="page-hero"',
            'class="stats-bar"',
            'class="gallery"',
            'role="tablist"',
            'class="md-section"',
            'class="custom-frame"',
        )
    ]
    assert places == sorted(places)
    assert '<h1 id="page-title">Find anything</h1>' in html
    # The hero's headline is the page's heading (the markdown has one of its own).
    assert html.split('class="md-section"')[0].count("<h1") == 1
    assert '<a class="button" href="https://example.com/contact"' in html
    head = html.split("</head>")[0]
    styles = re.findall(r'<style nonce="[^"]+">([^<]*)</style>', head)
    assert any(".page-hero{background:#102030}" in style for style in styles)
    assert "style=" not in html.split("<body")[1]  # colours by class, never inline (the CSP)


def test_the_stats_bar_counts_a_tabs_documents_beside_the_publishers_numbers(
    client: TestClient,
) -> None:
    html = client.get("/p/everything").text
    stats = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert stats == {"Products": "3", "Happy customers": "12,400+"}


def test_the_gallery_shows_the_picked_documents_in_order_exposed_fields_only(
    client: TestClient,
) -> None:
    html = client.get("/p/everything").text
    gallery = html.split('class="gallery"')[1].split("</section>")[0]
    assert "Staff picks" in gallery
    assert titles(gallery) == ["Floor lamp", "Desk lamp"]  # "gone" is left out
    assert SECRET not in html


def test_markdown_is_rendered_inert(client: TestClient) -> None:
    html = client.get("/p/everything").text
    section = html.split('class="md-section"')[1].split("</section>")[0]
    assert "About &lt;us&gt;" in section
    assert "<strong>Bold</strong>" in section
    assert '<a href="https://example.com"' in section
    # Left as text, never as markup: no script, no javascript: link, no element to fire.
    for hostile in ("<script", 'href="javascript', "<img"):
        assert hostile not in section
    assert "&lt;script&gt;" in section or "alert(1)" not in section


def test_custom_html_runs_only_in_a_sandboxed_frame_with_its_own_policy(
    client: TestClient,
) -> None:
    page = client.get("/p/everything")
    html = page.text
    assert HOSTILE_HTML not in html
    frame = re.search(r'<iframe id="frame-partners" src="([^"]+)" sandbox="([^"]*)"', html)
    assert frame is not None
    assert frame.group(1) == "/p/everything/frame/partners"
    assert frame.group(2) == "allow-scripts"  # never allow-same-origin: an opaque origin
    assert "frame-src 'self'" in page.headers["content-security-policy"]
    document = client.get(frame.group(1))
    assert document.status_code == 200
    assert document.text == HOSTILE_HTML
    policy = document.headers["content-security-policy"]
    assert policy.startswith("sandbox allow-scripts;")
    assert "connect-src 'none'" in policy
    assert "allow-same-origin" not in policy
    assert client.get("/p/everything/frame/about").status_code == 404  # not a frame
    assert client.get("/p/everything/frame/nope").status_code == 404


def test_a_hostile_section_is_refused_by_field(client: TestClient) -> None:
    answer = client.patch(
        "/v1/pages/everything",
        headers=owner_headers(),
        json={"sections": [{"type": "iframe-embed", "props": {"html": "x", "height": "1px;}"}}]},
    )
    assert answer.status_code == 422
    fields = [e["field"] for e in answer.json()["error"]["details"]["errors"]]
    assert fields == ["sections[0].props.height"]
