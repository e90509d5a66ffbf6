"""A page of tabs to test: two collections (a shop and a help centre, each with a field that is
never exposed), their retrievers published, one more behind a password and one over an
upstream that is down, and the page over them."""

from __future__ import annotations

from typing import Any

from tests.helpers import browse_config, owner_headers, protect, publish_backend
from tests.servers import free_port

SECRET = "Secret Supplier Ltd"
PASSWORD = "open sesame"

PRODUCTS = [
    {
        "document_id": "p1",
        "title": "Desk lamp",
        "description": "A warm lamp",
        "price": 45,
        "supplier": SECRET,
    },
    {
        "document_id": "p2",
        "title": "Floor lamp",
        "description": "A tall lamp",
        "price": 120,
        "supplier": SECRET,
    },
    {
        "document_id": "p3",
        "title": "Travel mug",
        "description": "Keeps tea hot",
        "price": 19,
        "supplier": SECRET,
    },
]
ARTICLES = [
    {
        "document_id": "a1",
        "title": "Fixing a lamp",
        "description": "When the lamp flickers",
        "price": 0,
        "supplier": SECRET,
    },
    {
        "document_id": "a2",
        "title": "Returns",
        "description": "How to send a lamp back",
        "price": 0,
        "supplier": SECRET,
    },
]


def config(title: str) -> dict[str, Any]:
    """A display config exposing title, description and price (never the supplier)."""
    shown = browse_config(exposed_fields=["title", "description", "price"], field_config={})
    shown.update(title=title, components={})
    # Framed by pages served from the test machine (the embed tests' host site).
    shown["extensions"] = {"frame_ancestors": ["http://localhost:*", "http://127.0.0.1:*"]}
    return shown


def local(collection: str) -> dict[str, Any]:
    return {"type": "local", "collection": collection, "search_fields": ["title", "description"]}


def build(client: Any, *, all_tab: dict[str, Any] | None = None, **page: Any) -> dict[str, str]:
    """The retrievers (ids by public name) and the page "everything" over them: tabs
    products, help, locked (a password) and broken (an upstream that is down)."""
    for collection, documents in (("products", PRODUCTS), ("articles", ARTICLES)):
        added = client.post(
            f"/v1/collections/{collection}/documents",
            headers=owner_headers(),
            json={"documents": documents},
        )
        assert added.status_code == 200, added.text
    ids = {
        "shop": publish_backend(client, "shop", local("products"), config("Shop")),
        "help-centre": publish_backend(client, "help-centre", local("articles"), config("Help")),
        "locked": publish_backend(client, "locked", local("articles"), config("Staff notes")),
    }
    protect(client, ids["locked"], PASSWORD)
    client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "up-key", "secret_value": "k"},
    )
    down = {
        "type": "mixpeek",
        "base_url": f"http://127.0.0.1:{free_port()}",
        "retriever_id": "r",
        "namespace": "n",
        "api_key_secret_name": "up-key",
    }
    ids["broken"] = publish_backend(client, "broken", down, config("Partner catalog"))
    body = {
        "slug": "everything",
        "meta": {"title": "Everything we have", "description": "Shop, help and more"},
        "tabs": [
            {"tab_id": "products", "label": "Products", "retriever_id": ids["shop"]},
            {"tab_id": "help", "label": "Help", "retriever_id": ids["help-centre"]},
            {"tab_id": "staff", "label": "Staff", "retriever_id": ids["locked"]},
            {"tab_id": "partners", "label": "Partners", "retriever_id": ids["broken"]},
        ],
        **page,
    }
    if all_tab is not None:
        body["all_tab"] = all_tab
    created = client.post("/v1/pages", headers=owner_headers(), json=body)
    assert created.status_code == 201, created.text
    ids["page"] = created.json()["page_id"]
    return ids


def shop_page(client: Any, retriever_id: str, tab_id: str = "products") -> None:
    """The page "shop" of one tab over `retriever_id`, a hero of its own: it takes the place
    of the published retriever shop's single-tab page."""
    created = client.post(
        "/v1/pages",
        headers=owner_headers(),
        json={
            "slug": "shop",
            "meta": {"title": "The shop, dressed up"},
            "tabs": [{"tab_id": tab_id, "label": "Products", "retriever_id": retriever_id}],
            "hero": {"headline": "Our shop"},
        },
    )
    assert created.status_code == 201, created.text
