"""The pages, rendered on the server: what a browser with JavaScript off would get."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    FakeClock,
    display_config,
    local_backend,
    owner_headers,
    protect,
    publish_over_upstream,
)
from tests.servers import free_port

HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>"
DOCUMENTS = [
    {
        "document_id": f"d{n}",
        "title": f"Lamp {n}",
        "description": "A warm desk lamp",
        "price": 10 + n,
        "in_stock": n % 2 == 0,
        "category": "Home" if n % 3 else "Office",
        "url": f"https://shop.example.com/{n}",
        "image_url": "/static/demo/products/desk-lamp.svg",
        "released_at": "2025-01-15",
        "internal_cost": 3,
    }
    for n in range(45)
] + [
    {
        "document_id": "evil",
        "title": HOSTILE,
        "description": HOSTILE,
        "price": HOSTILE,
        "url": "javascript:alert(1)",
        "image_url": "javascript:alert(1)",
        "category": "Home",
    },
]
INPUTS = [
    {
        "field_name": "query",
        "field_schema": {"type": "string"},
        "label": "Search",
        "placeholder": "Try lamp",
        "helper_text": "Words or their start",
        "suggestions": ["lamp", "desk"],
        "required": False,
    },
    {
        "field_name": "category",
        "field_schema": {"type": "string", "enum": ["Home", "Office"]},
        "label": "Category",
        "required": False,
        "order": 1,
    },
    {
        "field_name": "in_stock",
        "field_schema": {"type": "boolean"},
        "label": "In stock",
        "required": False,
        "order": 2,
    },
    {
        "field_name": "photo",
        "field_schema": {"type": "image"},
        "label": "Photo",
        "required": False,
        "order": 3,
    },
]
CONFIG = display_config(
    inputs=INPUTS,
    exposed_fields=["title", "description", "price", "url", "image_url", "released_at", "category"],
    field_config={
        "price": {"format": "number", "format_options": {"decimals": 2, "prefix": "$"}},
        "url": {"format": "url", "format_options": {"show_domain": True}},
        "image_url": {"format": "image"},
        "released_at": {"format": "date", "format_options": {"date_format": "MMM DD, YYYY"}},
    },
    components={
        "result_card": {
            "show_score": True,
            "field_order": ["description", "price", "url", "released_at"],
        }
    },
    seo={
        "meta_title": "Lamps",
        "meta_description": "Find a lamp",
        "og_image_url": "https://cdn.example.com/og.png",
        "canonical_url": "https://lamps.example.com/",
    },
    markdowns=[
        {"title": "About", "content": "**Bold** [x](javascript:alert(1)) <script>no</script>"}
    ],
    custom_cta={"label": "Help", "markdown_content": "Ask *us*"},
    external_links=[{"name": "Docs", "url": "https://docs.example.com"}],
    extensions={"frame_ancestors": ["https://host.example.com", "http://localhost:*"]},
)


@pytest.fixture
def site(make_settings: Callable[..., Settings], clock: FakeClock) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(), clock=clock)) as client:
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
        response = client.post(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={
                "public_name": "lamps",
                "display_config": CONFIG,
                "rate_limit_config": {"tier": "unlimited"},
            },
        )
        assert response.status_code == 200, response.text
        client.headers["X-Test-Retriever"] = rid
        yield client


def test_the_query_in_the_url_renders_results_on_the_server(site: TestClient) -> None:
    page = site.get("/r/lamps?query=lamp&page=2")
    assert page.status_code == 200
    html = page.text
    assert "45 results, showing 21\u201340" in html  # an en dash
    assert html.count('<li class="card"') == 20
    assert 'value="lamp"' in html
    assert 'href="/r/lamps?query=lamp"' in html  # previous page
    assert 'href="/r/lamps?query=lamp&amp;page=3"' in html
    assert "$30.00" in html
    assert ">shop.example.com</a>" in html
    assert "Jan 15, 2025</time>" in html
    assert "internal_cost" not in html


def test_filters_from_the_url(site: TestClient) -> None:
    html = site.get("/r/lamps?category=Office&in_stock=true").text
    assert "8 results" in html
    assert '<option value="Office" selected>' in html
    assert 'name="in_stock" value="true" checked' in html


def test_form_controls_follow_the_field_schema(site: TestClient) -> None:
    html = site.get("/r/lamps").text
    assert '<label for="in-query">Search</label>' in html
    assert 'type="search"' in html
    assert 'placeholder="Try lamp"' in html
    assert 'aria-describedby="in-query-help"' in html
    assert '<select id="in-category" name="category">' in html
    assert 'type="checkbox" id="in-in_stock"' in html
    assert 'type="file" id="in-photo" name="photo" accept="image/*"' in html
    assert 'href="?query=lamp" data-field="query" data-value="lamp"' in html  # a chip


def test_a_page_past_the_last_result(site: TestClient) -> None:
    page = site.get("/r/lamps?query=lamp&page=9")
    assert page.status_code == 200
    assert "Page 9 is past the last of 45 results." in page.text
    assert 'rel="prev"' in page.text  # a way back


def test_empty_and_zero_result_states(site: TestClient) -> None:
    assert "No results for this search" in site.get("/r/lamps?query=zebra").text
    # A config whose query is required waits for one.
    rid = site.headers["X-Test-Retriever"]
    site.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"display_config": display_config()},
    )
    html = site.get("/r/lamps").text
    assert "Enter a search to see results." in html
    assert '<li class="card"' not in html


def test_result_values_are_escaped(site: TestClient) -> None:
    html = site.get("/r/lamps?query=script").text
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "onerror=alert(1)>" not in html
    assert 'href="javascript:' not in html
    assert 'src="javascript:' not in html


def test_markdown_panels_cta_and_links(site: TestClient) -> None:
    html = site.get("/r/lamps").text
    assert "<summary>About</summary>" in html
    assert "<strong>Bold</strong>" in html
    assert "<script>no</script>" not in html
    assert 'href="javascript' not in html
    assert "<summary>Help</summary>" in html
    assert "<em>us</em>" in html
    assert (
        '<a href="https://docs.example.com" rel="noopener noreferrer" target="_blank">Docs</a>'
        in html
    )


def test_seo_open_graph_and_twitter_tags(site: TestClient) -> None:
    html = site.get("/r/lamps").text
    assert "<title>Lamps</title>" in html
    assert '<meta name="description" content="Find a lamp">' in html
    assert '<link rel="canonical" href="https://lamps.example.com/">' in html
    assert '<meta property="og:image" content="https://cdn.example.com/og.png">' in html
    assert '<meta property="og:title" content="Lamps">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_a_change_of_the_config_shows_in_the_next_page(site: TestClient) -> None:
    """The parts of a page drawn once per config (its head, its frame, its cards' fields)
    follow a change at once."""
    before = site.get("/r/lamps?query=lamp").text
    assert '<meta name="description" content="Find a lamp">' in before
    assert "$10.00" in before
    assert "<summary>About</summary>" in before
    rid = site.headers["X-Test-Retriever"]
    config = {
        **CONFIG,
        "title": "Desk lamps",
        "markdowns": [{"title": "Delivery", "content": "In two days"}],
        "seo": {**CONFIG["seo"], "meta_description": "Lamps for every desk"},
        "field_config": {**CONFIG["field_config"], "price": {"format": "number"}},
    }
    response = site.patch(
        f"/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"display_config": config}
    )
    assert response.status_code == 200, response.text
    after = site.get("/r/lamps?query=lamp").text
    assert '<meta name="description" content="Lamps for every desk">' in after
    assert "$10.00" not in after
    assert '<span class="visually-hidden">Price: </span>10<' in after
    assert "<h1>Desk lamps</h1>" in after
    assert "<summary>Delivery</summary>" in after
    assert "<summary>About</summary>" not in after


def test_two_searches_of_one_config_each_get_their_own_parts(site: TestClient) -> None:
    """The second page of a config is drawn around what the first left (its head, bars,
    panels): each still carries its own nonce, query, filters and results."""
    pages = [site.get(f"/r/lamps?query={word}") for word in ("desk", "floor", "desk")]
    nonces = []
    for page in pages:
        nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
        assert nonce
        assert f'<style nonce="{nonce.group(1)}">' in page.text
        nonces.append(nonce.group(1))
    assert len(set(nonces)) == 3
    box = re.compile(r'<input id="in-query" name="query" type="search" value="([^"]*)"')
    assert [box.findall(page.text) for page in pages] == [["desk"], ["floor"], ["desk"]]
    assert pages[0].text.replace(nonces[0], "") != pages[1].text.replace(nonces[1], "")
    same = [
        re.sub(r'data-execution-id="[^"]*"', "", p.text.replace(n, ""))
        for p, n in zip(pages, nonces, strict=True)
    ]
    assert same[0] == same[2]  # the same search twice: the same page, nonce and id aside
    embed = site.get("/r/lamps/embed?query=desk&origin=https://host.example.com").text
    assert 'class="bar"' not in embed
    assert box.findall(embed) == ["desk"]
    assert 'data-parent-origin="https://host.example.com"' in embed


def test_a_form_of_search_boxes_carries_each_requests_own_text(site: TestClient) -> None:
    """A form of search boxes alone is drawn once per config with a gap for each box's text:
    every page still shows its own query, escaped, and the embed its own form."""
    rid = site.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "plain", "backend": local_backend()},
    ).json()["retriever_id"]
    plain = {
        "title": "Plain",
        "inputs": [{"field_name": "query", "label": "Search", "field_schema": {"type": "string"}}],
        "exposed_fields": ["title", "description"],
    }
    published = site.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "plain", "display_config": plain},
    )
    assert published.status_code == 200, published.text
    box = re.compile(r'<input id="in-query" name="query" type="search" value="([^"]*)"')
    for url, shown in [
        ("/r/plain?query=lamp", "lamp"),
        ("/r/plain?query=" + HOSTILE, "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&gt;&lt;img"),
        ("/r/plain", ""),
        ("/r/plain?query=desk", "desk"),
        ("/r/plain/embed?query=warm", "warm"),
    ]:
        page = site.get(url)
        assert page.status_code == 200
        assert box.findall(page.text)[0].startswith(shown)
        assert (
            '<form id="search" class="search" role="search" method="get" action="'
            + url.split("?")[0]
            + '">'
            in page.text
        )
    assert "<script>alert" not in site.get("/r/plain?query=" + HOSTILE).text


def test_security_headers_and_framing(site: TestClient) -> None:
    page = site.get("/r/lamps")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'self' https://host.example.com http://localhost:*" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce
    assert f'<style nonce="{nonce.group(1)}">' in page.text
    assert "<script>" not in page.text  # no inline script at all
    assert re.search(r"<[a-z]+[^>]*\sstyle=", page.text) is None  # nor style attributes
    assert page.headers["x-content-type-options"] == "nosniff"
    assert site.get("/r/lamps").headers["content-security-policy"] != policy  # fresh nonce


def test_the_embed_page_and_its_parent_origin(site: TestClient) -> None:
    embed = site.get("/r/lamps/embed?origin=https://host.example.com")
    assert embed.status_code == 200
    assert 'class="bar"' not in embed.text  # no site chrome
    assert 'data-parent-origin="https://host.example.com"' in embed.text
    stranger = site.get("/r/lamps/embed?origin=https://evil.example.com")
    assert "data-parent-origin" not in stranger.text
    local = site.get("/r/lamps/embed?origin=http://localhost:5173")
    assert 'data-parent-origin="http://localhost:5173"' in local.text


def test_embed_js_is_served(site: TestClient) -> None:
    script = site.get("/embed.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "event.origin !== server" in script.text


def test_friendly_error_pages(site: TestClient) -> None:
    missing = site.get("/r/nope")
    assert missing.status_code == 404
    assert "<h1>Nothing here</h1>" in missing.text
    assert site.get("/no/such/page").status_code == 404
    assert "text/html" in site.get("/no/such/page").headers["content-type"]
    assert site.get("/v1/no/such").headers["content-type"].startswith("application/json")


def test_a_rate_limited_page_is_the_publishers_page_saying_how_long_to_wait(
    site: TestClient, clock: FakeClock
) -> None:
    rid = site.headers["X-Test-Retriever"]
    site.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"rate_limit_config": {"tier": "standard", "requests_per_minute": 1}},
    )
    assert site.get("/r/lamps").status_code == 200
    page = site.get("/r/lamps?query=desk")
    assert page.status_code == 429
    assert page.headers["Retry-After"] == "50"
    assert "RateLimit" in page.headers
    # The publisher's page, themed, with its own search box and the words searched...
    assert "<title>Lamps</title>" in page.text
    assert "--primary:#007AFF" in page.text
    assert '<form id="search" class="search" role="search" method="get" action="/r/lamps">' in (
        page.text
    )
    assert re.search(r'<input id="in-query" name="query" type="search" value="desk"', page.text)
    # ...saying how long to wait (the script counts down and searches again).
    assert "Too many searches just now." in page.text
    assert 'data-retry-after="50"' in page.text
    assert '<span class="seconds">50</span>' in page.text
    assert '<a href="/r/lamps?query=desk">search again</a>' in page.text
    assert "Find a search" not in page.text  # not the directory's box


def _form_token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_the_password_form(site: TestClient) -> None:
    rid = site.headers["X-Test-Retriever"]
    protect(site, rid, "open sesame")
    locked = site.get("/r/lamps?query=lamp")
    assert locked.status_code == 200
    assert 'type="password"' in locked.text
    assert '<li class="card"' not in locked.text
    token = _form_token(locked.text)
    wrong = site.post(
        "/r/lamps/unlock", data={"password": "nope", "token": token, "next": "/r/lamps?query=lamp"}
    )
    assert "That password is not right." in wrong.text
    assert "set-cookie" not in wrong.headers
    right = site.post(
        "/r/lamps/unlock",
        data={"password": "open sesame", "token": token, "next": "/r/lamps?query=lamp"},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/r/lamps?query=lamp"
    cookie = right.headers["set-cookie"].split(";")[0]
    opened = site.get("/r/lamps?query=lamp", headers={"Cookie": cookie})
    assert opened.status_code == 200
    assert '<li class="card"' in opened.text


def test_the_password_form_refuses_forgery(site: TestClient) -> None:
    rid = site.headers["X-Test-Retriever"]
    protect(site, rid, "open sesame")
    token = _form_token(site.get("/r/lamps").text)
    no_token = site.post("/r/lamps/unlock", data={"password": "open sesame"})
    assert no_token.status_code == 400
    other_site = site.post(
        "/r/lamps/unlock",
        data={"password": "open sesame", "token": token},
        headers={"Origin": "https://evil.example.com"},
    )
    assert other_site.status_code == 403
    off_site = site.post(
        "/r/lamps/unlock",
        data={"password": "open sesame", "token": token, "next": "https://evil.example.com/"},
        follow_redirects=False,
    )
    assert off_site.headers["location"] == "/r/lamps"  # never redirected away


def test_the_directory_page(site: TestClient) -> None:
    html = site.get("/").text
    assert '<a href="/r/lamps">' in html
    assert "1 search" in html
    assert "0 searches" in site.get("/?q=zebra").text


def test_the_partial_results_fragment(site: TestClient) -> None:
    fragment = site.get("/r/lamps?query=lamp", headers={"X-Partial": "results"})
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<section class="hits"')
    assert '<p class="status" role="status"' in fragment.text
    assert "<html" not in fragment.text


def test_pages_are_compressed(site: TestClient) -> None:
    page = site.get("/r/lamps", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"


def test_publish_warns_about_poor_contrast_as_the_page_draws_it(site: TestClient) -> None:
    rid = site.headers["X-Test-Retriever"]
    theme = {"primary_color": "#FFE066", "background_color": "#FFFFFF", "text_color": "#AAAAAA"}
    response = site.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"display_config": {**CONFIG, "theme": theme}},
    )
    assert response.status_code == 200
    warnings = response.json()["warnings"]
    assert any(w.startswith("theme: text_color #AAAAAA has a contrast of") for w in warnings)
    # The page draws its yellow buttons with dark text, and its links darker: no button
    # warning, and a word on the links' colour.
    assert "--accent:#FFE066;--on-accent:#111827" in site.get("/r/lamps").text
    assert not any("button" in w for w in warnings)
    assert any(w.startswith("theme: links are drawn in #") for w in warnings)


@pytest.mark.parametrize(
    "origins",
    [
        ["javascript:alert(1)"],
        ["https://a.example.com; script-src *"],
        "https://a.example.com",
        ["https://a.example.com/path"],
        ["*.example.com"],
    ],
)
def test_bad_frame_ancestors_are_refused(site: TestClient, origins: Any) -> None:
    rid = site.headers["X-Test-Retriever"]
    response = site.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"display_config": {**CONFIG, "extensions": {"frame_ancestors": origins}}},
    )
    assert response.status_code == 422
    assert "frame_ancestors" in response.json()["error"]["message"]


def test_a_backend_that_is_down_gets_a_friendly_message(site: TestClient) -> None:
    publish_over_upstream(site, "down", f"http://127.0.0.1:{free_port()}", CONFIG, "sk_upstream")
    page = site.get("/r/down?query=lamp")
    assert page.status_code == 502
    assert "The search backend could not be reached." in page.text
    assert "sk_upstream" not in page.text
    assert '<form id="search" class="search"' in page.text  # the form stays, to try again


def test_the_theme_css_is_served_as_validated_not_html_escaped(
    make_settings: Callable[..., Settings],
) -> None:
    theme = {"font_family": "'Helvetica Neue', \"Segoe UI\", Arial", "primary_color": "#112233"}
    with TestClient(create_app(make_settings())) as client:
        rid = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "fonts", "backend": local_backend()},
        ).json()["retriever_id"]
        client.post(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={"public_name": "fonts", "display_config": display_config(theme=theme)},
        )
        page = client.get("/r/fonts").text
    style = re.search(r"<style nonce=\"[^\"]+\">(.*?)</style>", page, re.S)
    assert style is not None
    assert "--font:'Helvetica Neue', \"Segoe UI\", Arial;" in style.group(1)
    assert "&#39;" not in style.group(1)
    assert "&#34;" not in style.group(1)


def test_static_files_are_fingerprinted_and_cached_for_good(site: TestClient) -> None:
    page = site.get("/r/lamps").text
    css = re.search(r'<link rel="stylesheet" href="(/static/app\.[0-9a-f]{10}\.css)">', page)
    assert css is not None
    served = site.get(css.group(1))
    assert served.status_code == 200
    assert served.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert served.content == site.get("/static/app.css").content
    assert site.get("/static/app.css").headers["Cache-Control"] == "public, max-age=3600"
    # A stale fingerprint is not the file as it is now: not found, never cached for good.
    stale = site.get("/static/app.0000000000.css")
    assert stale.status_code == 404
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    assert site.get("/static/..%2Fpyproject.0123456789.toml").status_code == 404
