"""The search page's shopper features, rendered on the server (JavaScript off): the filters
panel with counts, sorting, highlighted matches, the detail view, similar items, page kinds."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    browse_config,
    display_config,
    local_backend,
    owner_headers,
    protect,
    publish_backend,
    publish_over_upstream,
)

EXPOSED = ["title", "description", "brand", "price", "in_stock", "tags", "released_at", "url"]


def _doc(n: int, title: str, brand: str, price: float, stock: bool, tags: list[str]) -> Any:
    return {
        "document_id": f"d{n}",
        "title": title,
        "description": f"{title}: a fine <i>thing</i> from {brand}",
        "brand": brand,
        "price": price,
        "in_stock": stock,
        "tags": tags,
        "released_at": f"2025-0{1 + n % 9}-1{n % 10}",
        "url": f"https://shop.example.com/{n}",
        "supplier": "Secret Supplier Ltd",
    }


DOCUMENTS = [
    _doc(1, "Travel headphones", "Lumen", 129, True, ["audio", "travel"]),
    _doc(2, "Studio headphones", "Crema", 249, True, ["audio"]),
    _doc(3, "Travel speaker", "Lumen", 59, False, ["audio", "travel"]),
    _doc(4, "Travel mug", "Crema", 19.5, True, ["kitchen", "travel"]),
    _doc(5, "Espresso grinder", "Kestrel", 310, True, ["kitchen"]),
    _doc(6, "Desk lamp", "Lumen", 45, False, ["home"]),
]


@pytest.fixture
def client(make_settings: Callable[..., Settings], database_url: str) -> Iterator[TestClient]:
    settings = make_settings(database_url=database_url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        added = test_client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        assert added.status_code == 200, added.text
        yield test_client


def publish(client: TestClient, name: str = "shop", **changes: Any) -> str:
    card = {"card_fields": ["description", "price", "in_stock", "brand"], **changes.pop("card", {})}
    config = browse_config(
        exposed_fields=EXPOSED,
        field_config={
            "price": {"format": "number", "format_options": {"prefix": "$", "decimals": 2}},
            "in_stock": {
                "format": "boolean",
                "format_options": {"true_label": "In stock", "false_label": "Sold out"},
            },
        },
        components={"show_filters": True, "result_card": card},
        **changes,
    )
    return publish_backend(client, name, local_backend(), config)


def titles(html: str) -> list[str]:
    html = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", html)
    found = re.findall(r'<h2 class="title">(?:<a [^>]*>)?(.*?)(?:</a>)?</h2>', html)
    return [re.sub(r"</?mark>", "", title) for title in found]


def options(html: str, field: str) -> dict[str, tuple[int, bool]]:
    """The panel's checkboxes for a field: {label: (count, checked)}."""
    found = re.findall(
        rf'<input type="checkbox" name="f\.{field}" value="[^"]*" form="search"( checked)?> '
        r'<span class="o-label">([^<]*)</span> <span class="count">(\d+)</span>',
        html,
    )
    return {label: (int(count), bool(checked)) for checked, label, count in found}


def test_the_panel_offers_fields_with_few_values_with_counts(client: TestClient) -> None:
    publish(client)
    page = client.get("/r/shop").text
    legends = re.findall(r"<legend>([^<]*)</legend>", page)
    # Strings, booleans and lists with repeating values, and numbers as a range; never the
    # titles, descriptions, URLs or dates (each differs), nor a field that is not exposed.
    assert legends == ["Brand", "Price", "In stock", "Tags"]
    assert options(page, "brand") == {
        "Lumen": (3, False),
        "Crema": (2, False),
        "Kestrel": (1, False),
    }
    assert options(page, "in_stock") == {"In stock": (4, False), "Sold out": (2, False)}
    assert options(page, "tags")["travel"] == (3, False)
    assert 'name="f.price.min" form="search" step="any" inputmode="decimal" value="" ' in page
    assert 'placeholder="19.5"' in page
    assert 'placeholder="310"' in page
    assert "Supplier" not in page
    assert "Secret" not in page
    assert page.count('type="submit" form="search"') >= 1  # works as a plain GET form


def test_picked_values_filter_and_keep_the_other_values_counted(client: TestClient) -> None:
    publish(client)
    page = client.get("/r/shop?f.brand=Lumen&f.brand=Kestrel&f.in_stock=true").text
    assert sorted(titles(page)) == ["Espresso grinder", "Travel headphones"]
    # A field's own picks do not narrow its counts: Crema still shows what it would add.
    assert options(page, "brand") == {
        "Lumen": (1, True),
        "Kestrel": (1, True),
        "Crema": (2, False),
    }
    assert options(page, "in_stock") == {"In stock": (2, True), "Sold out": (2, False)}
    chips = re.findall(
        r'<a class="chip chip--on" href="([^"]*)" aria-label="Remove filter ([^"]*)"', page
    )
    assert [label for _, label in chips] == ["Brand: Lumen", "Brand: Kestrel", "In stock: In stock"]
    assert chips[0][0] == "/r/shop?f.brand=Kestrel&amp;f.in_stock=true"
    assert '<a class="clear" href="/r/shop">Clear all</a>' in page
    assert "3 results" not in page
    assert "2 results" in page


def test_a_price_range_and_its_bad_input(client: TestClient) -> None:
    publish(client)
    page = client.get("/r/shop?f.price.min=40&f.price.max=130").text
    assert sorted(titles(page)) == ["Desk lamp", "Travel headphones", "Travel speaker"]
    assert 'aria-label="Remove filter Price: 40 to 130"' in page
    assert 'value="40"' in page
    assert 'value="130"' in page
    # Reversed ends are read the right way round.
    assert sorted(titles(client.get("/r/shop?f.price.min=130&f.price.max=40").text)) == sorted(
        titles(page)
    )
    bad = client.get("/r/shop?f.price.min=cheap&f.price.max=1e400")
    assert bad.status_code == 200
    assert "Price from must be a number; it is left out." in bad.text
    assert "Price to must be a number between" in bad.text
    assert len(titles(bad.text)) == 6


def test_sorting_from_the_results_header(client: TestClient) -> None:
    publish(client)
    page = client.get("/r/shop").text
    menu = re.findall(r'<option value="(-?[a-z_]+)"[^>]*>([^<]*)</option>', page)
    assert ("price", "Price: low to high") in menu
    assert ("-released_at", "Released at: newest first") in menu
    cheap = titles(client.get("/r/shop?sort=price").text)
    assert cheap[:2] == ["Travel mug", "Desk lamp"]
    dear = client.get("/r/shop?sort=-price").text
    assert titles(dear)[0] == "Espresso grinder"
    assert '<option value="-price" selected>' in dear
    assert titles(client.get("/r/shop?sort=supplier").text) == titles(page)  # not offered


def test_matched_words_are_marked_and_everything_else_escaped(client: TestClient) -> None:
    publish(client)
    page = client.get("/r/shop?query=headphones").text
    assert (
        '<a href="/r/shop/d/d1?query=headphones" data-detail>Travel <mark>headphones</mark></a>'
        in page
    )
    assert "a fine &lt;i&gt;thing&lt;/i&gt;" in page
    assert "<i>thing" not in page


def test_the_detail_view_has_its_own_url(client: TestClient) -> None:
    publish(client, card={"modal_fields": ["price", "brand", "url"], "show_find_similar": True})
    page = client.get("/r/shop/d/d1?query=travel")
    assert page.status_code == 200
    html = page.text
    assert '<h1 id="detail-title">Travel headphones</h1>' in html
    assert re.findall(r"<dt>([^<]*)</dt>", html) == ["Price", "Brand", "Url"]
    assert '<a href="/r/shop?query=travel">← Back to results</a>' in html
    assert '<a class="button" href="https://shop.example.com/1"' in html
    similar = "/r/shop?query=travel&amp;similar_to=d1"  # the search kept for the way back
    assert f'<a class="button button--quiet" href="{similar}">Find similar</a>' in html
    assert "Secret" not in html
    assert "in_stock" not in html
    fragment = client.get("/r/shop/d/d1", headers={"X-Partial": "detail"})
    assert fragment.text.startswith('<article class="detail"')
    assert "<html" not in fragment.text
    missing = client.get("/r/shop/d/nope")
    assert missing.status_code == 404
    assert "No result &#39;nope&#39; in this search." in missing.text
    assert 'action="/"' in missing.text  # a search box and a way back


def test_find_similar_lists_the_items_most_like_one(client: TestClient) -> None:
    publish(client, card={"show_find_similar": True})
    page = client.get("/r/shop").text
    assert '<a class="similar" href="/r/shop?similar_to=d1">Find similar' in page
    similar = client.get("/r/shop?similar_to=d1").text
    found = titles(similar)
    assert "Travel headphones" not in found
    assert found[0] in ("Studio headphones", "Travel speaker")
    assert "Similar to <strong>Travel headphones</strong>" in similar
    assert '<a class="chip chip--on" href="/r/shop">Similar items' in similar
    unknown = client.get("/r/shop?similar_to=nothing-like-it")
    assert unknown.status_code == 422
    assert "similar_to: no document" in unknown.text


def test_find_similar_needs_no_query_and_keeps_the_search(client: TestClient) -> None:
    # The seed's config, as a publisher starts from it: the query input is required.
    config = display_config(
        exposed_fields=EXPOSED,
        components={"show_filters": True, "result_card": {"show_find_similar": True}},
    )
    assert config["inputs"][0]["required"] is True
    publish_backend(client, "shop", local_backend(), config)
    search = client.get("/r/shop?query=travel&f.brand=Lumen").text
    link = "/r/shop?query=travel&amp;f.brand=Lumen&amp;similar_to=d1"
    assert f'<a class="similar" href="{link}">Find similar' in search
    similar = client.get(link.replace("&amp;", "&"))
    assert similar.status_code == 200, similar.text[:500]
    # Like the travel headphones, within the Lumen filter; the query is not searched.
    assert titles(similar.text) == ["Travel speaker", "Desk lamp"]
    assert "Similar to <strong>Travel headphones</strong>" in similar.text
    back = '<a class="chip chip--on" href="/r/shop?query=travel&amp;f.brand=Lumen">Similar items'
    assert back in similar.text
    # The detail view's similar items, and the API's, need no query either.
    detail = client.get("/r/shop/d/d1")
    assert detail.status_code == 200
    assert client.get("/r/shop?similar_to=d1").status_code == 200
    answer = client.post("/v1/public/retrievers/shop/execute", json={"similar_to": "d1"})
    assert answer.status_code == 200, answer.text
    assert "d1" not in [d["document_id"] for d in answer.json()["documents"]]
    refused = client.post("/v1/public/retrievers/shop/execute", json={"inputs": {}})
    assert refused.status_code == 422
    assert "inputs.query" in refused.text


def test_the_page_says_which_words_it_left_out(client: TestClient) -> None:
    publish(client)
    page = client.get("/r/shop", params={"query": "red lamp"}).text
    assert titles(page) == ["Desk lamp"]
    assert "No results for <strong>red lamp</strong>; showing <strong>lamp</strong>:" in page
    answer = client.post(
        "/v1/public/retrievers/shop/execute", json={"inputs": {"query": "red lamp"}}
    ).json()
    assert answer["words_left_out"] == ["red"]
    assert [d["document_id"] for d in answer["documents"]] == ["d6"]
    # Every word found: nothing is said, nothing left out.
    whole = client.get("/r/shop", params={"query": "desk lamp"}).text
    assert "No results for" not in whole
    assert (
        "words_left_out"
        not in client.post(
            "/v1/public/retrievers/shop/execute", json={"inputs": {"query": "desk lamp"}}
        ).text
    )


def test_picks_the_panel_never_offered_cost_nothing(client: TestClient) -> None:
    publish(client, card={"show_find_similar": True})
    junk = [("f.brand", f"b{i}") for i in range(1000)] + [("f.tags", f"t{i}") for i in range(1000)]
    page = client.get("/r/shop", params=[*junk, ("f.brand", "Lumen"), ("f.brand", "Lumen")])
    assert page.status_code == 200
    # Only the offered value is a pick: one chip, and every link the page writes carries it
    # once and nothing of the rest.
    assert titles(page.text) == ["Travel headphones", "Travel speaker", "Desk lamp"]
    assert re.findall(r'aria-label="Remove filter ([^"]*)"', page.text) == ["Brand: Lumen"]
    assert "b999" not in page.text
    assert "t999" not in page.text
    assert page.text.count("f.brand=Lumen&amp;similar_to=") == 3
    assert len(page.text) < 60_000
    # A page of junk alone filters nothing.
    plain = client.get("/r/shop", params=junk)
    assert titles(plain.text) == titles(client.get("/r/shop").text)
    assert "Remove filter" not in plain.text


@pytest.mark.parametrize(
    ("action", "link"),
    [
        ("viewDetails", '<a href="/r/shop/d/d6" data-detail>Desk lamp</a>'),
        ("findSimilar", '<a href="/r/shop?similar_to=d6" data-detail>Desk lamp</a>'),
        ("none", '<h2 class="title">Desk lamp</h2>'),
    ],
)
def test_what_a_card_click_does(client: TestClient, action: str, link: str) -> None:
    publish(client, card={"card_click_action": action})
    assert link in client.get("/r/shop").text


def test_page_kinds_choose_the_look_and_layout(client: TestClient) -> None:
    publish(client, template_type="document-search", layout=None)
    page = client.get("/r/shop").text
    assert 'class="page tpl--document-search"' in page
    assert "results--list" in page
    publish(client, "gallery", template_type="portrait-gallery", layout={"mode": "grid"})
    gallery = client.get("/r/gallery").text
    assert "tpl--portrait-gallery" in gallery
    assert "results--grid" in gallery


def test_named_filters_and_reserved_names_are_checked(client: TestClient) -> None:
    publish(client, "named", extensions={"filters": ["tags", "brand"]})
    page = client.get("/r/named").text
    assert re.findall(r"<legend>([^<]*)</legend>", page) == ["Tags", "Brand"]
    for extensions, words in (
        ({"filters": ["supplier"]}, "extensions.filters names supplier, not in exposed_fields"),
        ({"filters": "brand"}, "extensions.filters must be a list"),
    ):
        response = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={
                "retriever_name": "bad",
                "backend": local_backend(),
                "display_config": browse_config(exposed_fields=EXPOSED, extensions=extensions),
            },
        )
        assert response.status_code == 422
        assert words in response.text
    config = browse_config(exposed_fields=EXPOSED)
    config["inputs"][0]["field_name"] = "page"
    response = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "bad", "backend": local_backend(), "display_config": config},
    )
    assert response.status_code == 422
    assert "inputs[0].field_name 'page' is a parameter of the search page" in response.text


def test_a_page_over_an_upstream_cannot_ask_for_engine_features(client: TestClient) -> None:
    config = browse_config(exposed_fields=EXPOSED, components={"show_filters": True})
    with pytest.raises(AssertionError, match=r"components\.show_filters: the filters panel"):
        publish_over_upstream(client, "upstream", "https://search.example.com", config, "sk_x")


HOSTILE = ["\x00", "a" * 5000, "<script>x</script>", "' OR 1=1 --", "1e308", "nan", "-inf"]
HOSTILE += ["\uff11\uff12", "\\", "%", "_", "true", "[]", "f.brand", "../d1"]


def test_hostile_page_parameters_never_break_the_page(client: TestClient) -> None:
    publish(client, card={"show_find_similar": True})
    for value in HOSTILE:
        for params in (
            {"f.brand": value},
            {"f.price.min": value, "f.price.max": value},
            {"sort": value},
            {"similar_to": value},
            {"f.in_stock": value, "f.tags": value, "page": value},
            {"query": value, "f.brand": "Lumen", "sort": "-price"},
            {value: value},
        ):
            response = client.get("/r/shop", params=params)
            assert response.status_code in (200, 422), (params, response.text[:300])
            assert "<script>x" not in response.text
            if response.status_code == 422:
                # Only a similar_to that names no document, or text past the 1,000 characters
                # a value or query may have, each refused with what is wrong.
                message = re.findall(r'<span class="error">([^<]*)</span>', response.text)
                assert "similar_to" in params or value == "a" * 5000, message
                assert message
                assert "similar_to: no document" in message[0] or "1000 characters" in message[0]
        detail = client.get("/r/shop/d/" + quote(value, safe=""))
        assert detail.status_code == 404, (value, detail.text[:300])
    many = client.get("/r/shop", params=[("f.brand", f"b{i}") for i in range(3000)])
    assert many.status_code == 200
    assert "Remove filter" not in many.text  # no brand is called that: nothing is picked


def test_a_detail_view_behind_a_password_asks_for_it_and_comes_back(client: TestClient) -> None:
    protect(client, publish(client), "open sesame")
    asked = client.get("/r/shop/d/d1?query=lamp")
    assert asked.status_code == 200
    assert 'type="password"' in asked.text
    assert "Travel headphones" not in asked.text
    token = re.search(r'name="token" value="([^"]+)"', asked.text)
    target = re.search(r'name="next" value="([^"]+)"', asked.text)
    assert token is not None
    assert target is not None
    assert target.group(1) == "/r/shop/d/d1?query=lamp"
    unlocked = client.post(
        "/r/shop/unlock",
        data={
            "token": token.group(1),
            "next": "/r/shop/d/d1?query=lamp",
            "password": "open sesame",
        },
        follow_redirects=False,
    )
    assert unlocked.status_code == 303
    assert unlocked.headers["location"] == "/r/shop/d/d1?query=lamp"
    cookie = unlocked.headers["set-cookie"].split(";")[0]  # Secure: the test client is http
    shown = client.get("/r/shop/d/d1?query=lamp", headers={"Cookie": cookie})
    assert '<h1 id="detail-title">Travel headphones</h1>' in shown.text
