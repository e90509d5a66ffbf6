"""A page whose tabs share inputs: a shop and a help centre both filter by `kind` (a list of
choices, each its own), and only the shop by `in_stock` (a box to tick). Each collection holds
a field that is never exposed."""

from __future__ import annotations

from typing import Any

from tests.helpers import browse_config, owner_headers, publish_backend

SECRET = "Secret Supplier Ltd"

PRODUCTS = [
    {"document_id": "p1", "title": "Desk lamp", "kind": "lamp", "in_stock": True},
    {"document_id": "p2", "title": "Floor lamp", "kind": "lamp", "in_stock": False},
    {"document_id": "p3", "title": "Lamp mug", "kind": "mug", "in_stock": True},
]
ARTICLES = [
    {"document_id": "a1", "title": "Fixing a lamp", "kind": "lamp"},
    {"document_id": "a2", "title": "Returning a lamp", "kind": "returns"},
]


def _input(name: str, label: str, schema: dict[str, Any], order: int) -> dict[str, Any]:
    return {
        "field_name": name,
        "label": label,
        "field_schema": schema,
        "order": order,
        "required": False,
    }


def config(title: str, kinds: list[str], stock: bool) -> dict[str, Any]:
    shown = browse_config(exposed_fields=["title", "kind", "in_stock"], field_config={})
    inputs = [
        {**shown["inputs"][0], "label": "Search", "order": 0},
        _input("kind", "Kind", {"type": "string", "enum": kinds}, 1),
    ]
    if stock:
        inputs.append(_input("in_stock", "In stock", {"type": "boolean"}, 2))
    shown.update(title=title, components={}, inputs=inputs)
    return shown


def build(client: Any) -> dict[str, str]:
    """The page "shared" over the retrievers "gear" and "gear-help", with its All tab."""
    for collection, documents in (("gear", PRODUCTS), ("gear-articles", ARTICLES)):
        body = [{**d, "supplier": SECRET} for d in documents]
        added = client.post(
            f"/v1/collections/{collection}/documents",
            headers=owner_headers(),
            json={"documents": body},
        )
        assert added.status_code == 200, added.text
    ids = {
        "gear": publish_backend(
            client, "gear", _local("gear"), config("Gear", ["lamp", "mug"], True)
        ),
        "gear-help": publish_backend(
            client,
            "gear-help",
            _local("gear-articles"),
            config("Gear help", ["lamp", "returns"], False),
        ),
    }
    created = client.post(
        "/v1/pages",
        headers=owner_headers(),
        json={
            "slug": "shared",
            "meta": {"title": "Gear and help"},
            "tabs": [
                {"tab_id": "products", "label": "Products", "retriever_id": ids["gear"]},
                {"tab_id": "help", "label": "Help", "retriever_id": ids["gear-help"]},
            ],
            "all_tab": {"enabled": True, "mode": "grouped", "per_tab": 10},
        },
    )
    assert created.status_code == 201, created.text
    return ids


def _local(collection: str) -> dict[str, Any]:
    return {"type": "local", "collection": collection, "search_fields": ["title"]}
