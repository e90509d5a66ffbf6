"""The URL builder: every public link quoted the same way, and each one a route that serves it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from starlette.routing import Match, Route

from app import urls
from app.paths import PACKAGE, TEMPLATES_DIR
from app.web.views import detail, pages, plugin_pages, public

ODD_IDS = [
    "plain-42",
    "a/b/c",
    "what?now",
    "part#2",
    "two words",
    "100%",
    "a&b=c",
    "café ☕",
    "日本語",
    "../up",
]

ROUTES: list[Any] = [
    *pages.routes,
    *detail.routes,
    *plugin_pages.routes,
    *public.routes,
]


def _served(url: str, method: str = "GET") -> tuple[str, dict[str, Any]]:
    """The route a request for `url` reaches on this server, and the parameters it reads."""
    path = unquote(urlsplit(url).path)  # what the server matches: the decoded path
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    for route in ROUTES:
        match, child = route.matches(scope)
        if match is Match.FULL:
            assert isinstance(route, Route)
            return route.path, child["path_params"]
    raise AssertionError(f"no route serves {url}")


def test_a_page_and_its_siblings() -> None:
    assert urls.page("shop") == "/r/shop"
    assert urls.embed("shop") == "/r/shop/embed"
    assert urls.unlock("shop") == "/r/shop/unlock"
    assert urls.public_config("shop") == "/v1/public/retrievers/shop/config"
    assert urls.public_typeahead("shop") == "/v1/public/retrievers/shop/typeahead"
    assert urls.plugin("stars") == "/plugins/stars"
    assert urls.plugin_icon("stars") == "/plugins/stars/icon"
    assert urls.plugin_frame("plg_1", "1.0.0") == "/plugins/frame/plg_1/1.0.0"


@pytest.mark.parametrize("document_id", ODD_IDS)
def test_a_detail_link_reaches_its_document_whatever_the_id(document_id: str) -> None:
    url = urls.detail("shop", document_id)
    parts = urlsplit(url)
    assert parts.query == ""
    assert parts.fragment == ""
    assert _served(url) == (
        "/r/{public_name}/d/{document_id:path}",
        {"public_name": "shop", "document_id": document_id},
    )


def test_a_detail_link_keeps_the_search_for_the_way_back() -> None:
    url = urls.detail("shop", "a/b?c", "q=red+shoes&f.brand=Acme")
    assert url == "/r/shop/d/a%2Fb%3Fc?q=red+shoes&f.brand=Acme"


@pytest.mark.parametrize("document_id", ODD_IDS)
def test_a_similar_link_names_its_document_in_the_query(document_id: str) -> None:
    url = urls.similar("shop", document_id, "q=red&page=3&similar_to=old")
    assert urlsplit(url).path == "/r/shop"
    assert parse_qsl(urlsplit(url).query) == [("q", "red"), ("similar_to", document_id)]
    assert _served(url)[0] == "/r/{public_name}"


def test_each_sibling_is_a_route() -> None:
    assert _served(urls.page("shop")) == ("/r/{public_name}", {"public_name": "shop"})
    assert _served(urls.embed("shop"))[0] == "/r/{public_name}/embed"
    assert _served(urls.unlock("shop"), "POST")[0] == "/r/{public_name}/unlock"
    assert _served(urls.public_config("shop"))[0] == "/v1/public/retrievers/{public_name}/config"
    assert _served(urls.public_typeahead("shop"))[0] == (
        "/v1/public/retrievers/{public_name}/typeahead"
    )
    assert _served(urls.plugin("stars"))[0] == "/plugins/{public_name}"
    assert _served(urls.plugin_icon("stars"))[0] == "/plugins/{public_name}/icon"
    assert _served(urls.plugin_frame("plg_1", "1.0.0")) == (
        "/plugins/frame/{plugin_id}/{version}",
        {"plugin_id": "plg_1", "version": "1.0.0"},
    )


def test_a_segment_cannot_break_out_of_its_place() -> None:
    assert urls.page("a/b?c#d") == "/r/a%2Fb%3Fc%23d"
    assert urls.plugin_frame("x/../y", "1.0.0?z") == "/plugins/frame/x%2F..%2Fy/1.0.0%3Fz"


def test_a_query_is_kept_as_given_or_encoded_from_pairs() -> None:
    assert urls.with_query("/r/shop") == "/r/shop"
    assert urls.with_query("/r/shop", "") == "/r/shop"
    assert urls.with_query("/r/shop", []) == "/r/shop"
    assert urls.with_query("/r/shop", "q=a+b") == "/r/shop?q=a+b"
    assert urls.with_query("/r/shop", [("q", "a b"), ("f.tag", "x&y")]) == (
        "/r/shop?q=a+b&f.tag=x%26y"
    )


def test_the_gallery_leaves_out_what_is_not_chosen() -> None:
    assert urls.plugins() == "/plugins"
    assert urls.plugins(q="", category=None) == "/plugins"
    assert urls.plugins(category="Ratings") == "/plugins?category=Ratings"
    assert urls.plugins(page=0, q="star rating", category="A&B") == (
        "/plugins?page=0&q=star+rating&category=A%26B"
    )


def test_absolute_urls_are_under_the_public_base_url() -> None:
    assert urls.absolute("https://search.example.test", urls.page("shop")) == (
        "https://search.example.test/r/shop"
    )
    assert urls.absolute("https://example.test/", urls.detail("shop", "a b")) == (
        "https://example.test/r/shop/d/a%20b"
    )


def test_an_unlocked_form_only_leads_back_to_the_retriever_s_own_pages() -> None:
    for target in ("/r/shop", "/r/shop?q=a", "/r/shop/embed?x=1", "/r/shop/d/1"):
        assert urls.is_page_target("shop", target)
    for target in ("/r/shopping", "/r/other", "https://evil.test/r/shop", "//evil.test", "/"):
        assert not urls.is_page_target("shop", target)


def test_no_module_or_template_formats_a_public_path_by_hand() -> None:
    """The builder is the one place: a path like `/r/...` written elsewhere would drift from
    it (and skip its quoting). Route tables, which declare the paths, are the exception."""
    public = r"/(?:r|d|plugins|plugins/frame|v1/public/retrievers)/"
    by_hand = re.compile(
        rf"""f["'][^"']*{public}\{{"""  # an f-string: f"{base}/r/{name}"
        rf"""|["']{public}["']\s*[+~]"""  # a concatenation: "/r/" + name, "/r/" ~ name
        rf"""|{public}\{{\{{"""  # a template: /r/{{ name }}
    )
    sources = [p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "urls.py"]
    found = [
        f"{path.name}:{number}"
        for path in [*sources, *Path(TEMPLATES_DIR).glob("*.html")]
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if by_hand.search(line)
    ]
    assert found == []


def test_a_retriever_console_page_quotes_its_id_and_keeps_its_query() -> None:
    assert urls.console_retriever("ret_1") == "/console/retrievers/ret_1"
    assert urls.console_retriever("a/b?c", "insights") == "/console/retrievers/a%2Fb%3Fc/insights"
    path = urls.console_retriever("ret_1", "relevance", [("synonym", "a&b")])
    assert path == "/console/retrievers/ret_1/relevance?synonym=a%26b"
