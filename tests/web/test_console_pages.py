"""The console's pages over HTTP: uploads and their errors by row, a collection's documents,
deleting one, creating a retriever, and hostile values shown inert."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OWNER_KEY, display_config, owner_headers
from tests.web.test_console import csrf, sign_in

HOSTILE = [
    '<script>alert("x")</script>',
    '"><img src=x onerror=alert(1)>',
    "nul\x00byte",
    "x" * 10_000,
    "emoji 🔍✨👩‍💻",
    "{{ 7*7 }}",
]


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings()), raise_server_exceptions=False) as client:
        sign_in(client, OWNER_KEY)
        yield client


def upload(client: TestClient, collection: str, name: str, data: bytes) -> str:
    response = client.post(
        "/console/collections/upload",
        data={"csrf": csrf(client), "collection": collection},
        files={"file": (name, data, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    return response.text


def create(client: TestClient, **fields: object) -> object:
    data = {"csrf": csrf(client), "collection": "products", "mode": "hybrid", **fields}
    return client.post("/console/retrievers/new", data=data, follow_redirects=False)


def inert(html: str) -> None:
    """No markup of a hostile value took effect: every tag the page holds is the console's."""
    assert "<script" not in html
    assert "<img src=x" not in html
    assert "onerror=" not in html.replace("onerror=alert(1)&gt;", "")
    assert "\x00" not in html
    assert "49" not in re.findall(r">([^<]*)<", html)


def test_a_jsonl_upload_reports_its_bad_row_and_imports_the_rest(console: TestClient) -> None:
    rows = [
        json.dumps({"document_id": "1", "title": "Desk lamp", "price": 20}),
        "{not json",
        json.dumps({"document_id": "3", "title": "Sofa", "price": 300}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"document_id": "5", "title": "Kettle", "price": 40}),
    ]
    page = upload(console, "products", "products.jsonl", "\n".join(rows).encode())
    assert "Imported 3 documents into products" in page
    assert "<strong>Row 2</strong>: not JSON" in page
    assert "<strong>Row 4</strong>: not a JSON object" in page
    listing = console.get("/console/collections").text
    assert re.search(r"products</a></th>\s*<td class=\"num\"[^>]*>3</td>", listing)
    for field in ("title", "price"):
        assert f">{field}</li>" in listing


def test_csv_and_json_files_import_too(console: TestClient) -> None:
    page = upload(console, "from-csv", "items.csv", b"document_id,title,price\n1,Lamp,20\n2,Sofa\n")
    assert "Imported 1 document into from-csv" in page
    assert "<strong>Row 3</strong>: 2 cells where the header has 3" in page
    array = json.dumps([{"title": "A"}, 7, {"title": "B"}]).encode()
    page = upload(console, "from-json", "items.json", array)
    assert "Imported 2 documents into from-json" in page
    assert "<strong>Row 2</strong>: not a JSON object" in page


def test_an_upload_names_what_is_wrong_beside_its_field(console: TestClient) -> None:
    response = console.post(
        "/console/collections/upload",
        data={"csrf": csrf(console), "collection": "bad name!"},
        files={"file": ("a.jsonl", b"{}")},
    )
    assert response.status_code == 422
    assert 'id="collection-error"' in response.text
    response = console.post(
        "/console/collections/upload",
        data={"csrf": csrf(console), "collection": "ok"},
        files={"file": ("a.txt", b"{}")},
    )
    assert response.status_code == 422
    assert 'id="file-error"' in response.text


@pytest.mark.parametrize(
    ("typed", "example"),
    [
        ("My Books", "my-books"),
        ("  Café & Bar!! ", "caf-bar"),
        ("_hidden", "hidden"),
        ("x" * 80, "x" * 63),
        ('<b>"Tea"</b>', "b-tea-b"),
    ],
)
def test_a_bad_collection_name_says_what_is_allowed_and_keeps_the_name(
    console: TestClient, typed: str, example: str
) -> None:
    response = console.post(
        "/console/collections/upload",
        data={"csrf": csrf(console), "collection": typed},
        files={"file": ("a.csv", b"title\nLamp\n")},
    )
    assert response.status_code == 422
    error = re.search(r'<p class="field-error" id="collection-error">([^<]*)</p>', response.text)
    assert error
    assert "lowercase letters, digits" in error[1]
    assert f"{example}, for example" in error[1]
    shown = typed.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert f'value="{shown.replace(chr(34), "&#34;")}"' in response.text  # kept as typed
    assert "<b>" not in response.text
    assert "No collections in this namespace yet" in response.text  # nothing went in


def test_a_name_with_nothing_to_keep_gets_no_example(console: TestClient) -> None:
    response = console.post(
        "/console/collections/upload",
        data={"csrf": csrf(console), "collection": "!!!"},
        files={"file": ("a.csv", b"title\nLamp\n")},
    )
    assert response.status_code == 422
    assert "for example" not in response.text.split('id="collection-error"')[1].split("</p>")[0]


def test_an_upload_leads_on_to_a_search_page_over_it(console: TestClient) -> None:
    page = upload(console, "my-books", "b.csv", b"title,price\nDune,18.5\n")
    link = re.search(
        r'<a class="button" href="([^"]*)">Make a search page over my-books →</a>', page
    )
    assert link
    assert link[1] == "/console/retrievers/new?collection=my-books"
    form = console.get(link[1]).text
    assert '<option value="my-books" selected>' in form
    assert 'name="collection" value="my-books"' in form


def test_a_collection_is_browsed_and_searched_by_page(console: TestClient) -> None:
    rows = [json.dumps({"document_id": f"d{i:02}", "title": f"Item {i}"}) for i in range(25)]
    rows.append(json.dumps({"document_id": "lamp", "title": "Brass lamp"}))
    upload(console, "products", "p.jsonl", "\n".join(rows).encode())
    first = console.get("/console/collections/products")
    assert "26 documents, page 1" in first.text
    assert first.text.count("<tr>") == 21  # the header and 20 documents
    assert 'href="/console/collections/products?page=2"' in first.text
    second = console.get("/console/collections/products?page=2")
    assert second.text.count("<tr>") == 7
    found = console.get("/console/collections/products?q=brass")
    assert "1 match for “brass”" in found.text
    assert "Brass lamp" in found.text
    assert console.get("/console/collections/products?page=0").status_code == 422
    assert console.get("/console/collections/nothing-here").status_code == 404


def test_deleting_a_collection_asks_first(console: TestClient) -> None:
    upload(console, "products", "p.jsonl", b'{"title": "Lamp"}\n')
    confirm = console.get("/console/collections/products/delete")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text
    assert console.get("/console/collections/products").status_code == 200  # still there
    response = console.post(
        "/console/collections/products/delete", data={"csrf": csrf(console)}, follow_redirects=False
    )
    assert response.status_code == 303
    assert "Deleted the collection products" in console.get(response.headers["location"]).text
    assert console.get("/console/collections/products").status_code == 404


def test_a_collection_a_retriever_searches_is_not_deleted(console: TestClient) -> None:
    upload(console, "products", "p.jsonl", b'{"title": "Lamp"}\n')
    assert create(console, retriever_name="shop", search_fields="title").status_code == 303
    response = console.post("/console/collections/products/delete", data={"csrf": csrf(console)})
    assert response.status_code == 409
    assert "searched by retrievers" in response.text


def test_a_retriever_is_created_over_a_collection(console: TestClient) -> None:
    upload(console, "products", "p.jsonl", b'{"title": "Lamp", "brand": "Acme", "price": 3}\n')
    form = console.get("/console/retrievers/new?collection=products").text
    assert 'name="search_fields" value="title" checked' in form
    assert 'name="search_fields" value="price">' in form
    response = create(console, retriever_name="shop", search_fields=["title", "brand"])
    assert response.status_code == 303
    # Straight on to the new retriever's page editor, with every field offered.
    assert re.fullmatch(r"/console/retrievers/[^/?]+\?done=created", response.headers["location"])
    page = console.get(response.headers["location"]).text
    assert "Created the retriever shop" in page
    assert "<h1>Page of shop</h1>" in page
    assert "Not published yet" in page
    for field in ("title", "brand", "price"):
        assert f"<span>Show {field} on the page" in page
    found = console.get("/v1/retrievers", headers=owner_headers()).json()["results"]
    assert found[0]["backend"]["search_fields"] == ["title", "brand"]
    assert found[0]["backend"]["mode"] == "hybrid"


def test_over_a_collection_without_meaning_the_form_defaults_to_words(
    console: TestClient,
) -> None:
    upload(console, "products", "p.jsonl", b'{"title": "Lamp"}\n')
    form = console.get("/console/retrievers/new?collection=products").text
    # Hybrid would search by words alone: the mode the collection can do is chosen.
    assert 'name="mode" value="keyword" checked' in form
    assert 'name="mode" value="hybrid" checked' not in form
    # One line: what it is now, and where meaning is turned on.
    assert (
        'Keyword for now; turn on meaning on <a href="/console/collections/products#embedding">'
        "the collection's page</a> to use Hybrid." in form
    )
    page = console.get("/console/collections/products").text
    assert (
        '<a class="button" href="/console/retrievers/new?collection=products">'
        "Make a search page over this collection</a>" in page
    )
    # Chosen as it comes, the retriever searches by words and the list says so.
    response = create(console, retriever_name="shop", search_fields="title", mode="keyword")
    assert response.status_code == 303
    found = console.get("/v1/retrievers", headers=owner_headers()).json()["results"]
    assert found[0]["backend"]["mode"] == "keyword"


def test_over_a_collection_that_computes_meaning_the_form_defaults_to_hybrid(
    console: TestClient,
) -> None:
    embedding = {"fields": ["title"]}
    put = console.put("/v1/collections/rooms/embedding", headers=owner_headers(), json=embedding)
    assert put.status_code == 200, put.text
    document = {"document_id": "sofa", "title": "Sofa"}
    sent = {"documents": [document]}
    assert (
        console.post(
            "/v1/collections/rooms/documents", headers=owner_headers(), json=sent
        ).status_code
        == 200
    )
    form = console.get("/console/retrievers/new?collection=rooms").text
    assert 'name="mode" value="hybrid" checked' in form
    assert "does not compute meaning" not in form


def test_a_published_retriever_shows_its_state(console: TestClient) -> None:
    upload(console, "products", "p.jsonl", b'{"title": "Lamp", "description": "Brass"}\n')
    create(console, retriever_name="shop", search_fields="title", mode="keyword")
    rid = console.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]
    console.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "pw", "secret_value": "the-secret-value-42"},
    )
    published = console.post(
        f"/v1/retrievers/{rid['retriever_id']}/publish",
        headers=owner_headers(),
        json={
            "public_name": "shop-page",
            "display_config": display_config(),
            "rate_limit_config": {"tier": "elevated"},
            "password_secret_name": "pw",
        },
    )
    assert published.status_code == 200, published.text
    page = console.get("/console/retrievers").text
    assert "Published" in page
    assert 'href="/r/shop-page"' in page
    assert "elevated" in page
    assert re.search(r"<td data-label=\"Password\"><span class=\"cell\">Yes</span></td>", page)
    everything = page + console.get("/console/collections").text
    everything += console.get("/console/collections/products").text
    everything += console.get("/console/retrievers/new").text
    # Neither a secret's value, nor the public key, nor the owner key, nor its hash.
    for hidden in ("the-secret-value-42", published.json()["public_api_key"], OWNER_KEY):
        assert hidden not in everything
    assert "prk_" not in everything


def test_errors_are_told_beside_their_fields(console: TestClient) -> None:
    upload(console, "products", "p.jsonl", b'{"title": "Lamp"}\n')
    response = create(console, retriever_name="bad/name", search_fields="title", mode="psychic")
    assert response.status_code == 422
    html = response.text
    assert 'id="name-error"' in html
    assert 'id="mode-error"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="bad/name"' in html  # what was sent is kept
    none = create(console, retriever_name="shop")
    assert none.status_code == 422
    assert 'id="fields-error"' in none.text
    assert create(console, retriever_name="shop", search_fields="title").status_code == 303
    taken = create(console, retriever_name="shop", search_fields="title")
    assert taken.status_code == 409
    assert "already exists" in taken.text


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_shown_inert(console: TestClient, value: str) -> None:
    # In a document's field names and values, and a collection named by it (refused).
    document = {"document_id": value[:200], "title": value, value[:100]: value}
    text = upload(console, "products", "p.jsonl", json.dumps(document).encode())
    inert(text)
    inert(console.get("/console/collections").text)
    inert(console.get("/console/collections/products").text)
    inert(console.get("/console/collections/products", params={"q": value}).text)
    inert(console.get("/console/retrievers/new?collection=products").text)
    # In every field of the new-retriever form, and the namespace switcher and sign-in form.
    response = create(
        console, retriever_name=value, description=value, search_fields=value, mode=value
    )
    assert response.status_code == 422
    inert(response.text)
    inert(upload_error(console, value))
    switched = console.post("/console/namespace", data={"csrf": csrf(console), "namespace": value})
    assert switched.status_code == 422
    inert(switched.text)
    console.cookies.clear()
    signed = console.post("/console/sign-in", data={"token": "x", "key": value, "namespace": value})
    inert(signed.text)
    inert(console.get("/console/sign-in", params={"next": value}).text)


def upload_error(client: TestClient, value: str) -> str:
    response = client.post(
        "/console/collections/upload",
        data={"csrf": csrf(client), "collection": value},
        files={"file": (value[:100] + ".jsonl", b"{}")},
    )
    assert response.status_code == 422
    return response.text


def test_the_namespace_is_shown_for_a_key_of_one(console: TestClient) -> None:
    page = console.get("/console/collections").text
    assert f"<strong>{NAMESPACE}</strong>" in page
    assert 'id="namespace-switch"' not in page
