"""A Typesense collection of the publisher's own, on the session's real Typesense node, for the
tests of the `typesense` backend: made with the typesense client and the node's admin key, as a
publisher makes one, with a search-only key scoped to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import typesense

from tests.servers import TypesenseServer

SCHEMA: list[dict[str, Any]] = [
    {"name": "title", "type": "string"},
    {"name": "tags", "type": "string[]", "facet": True},
    {"name": "brand", "type": "string", "facet": True},
    {"name": "price", "type": "float"},
    {"name": "stock", "type": "int32", "facet": True},
    {"name": "instock", "type": "bool", "facet": True},
    {"name": "supplier_cost", "type": "string"},  # never exposed
]
DOCUMENTS: list[dict[str, Any]] = [
    {"id": "p1", "title": "Brass desk lamp", "tags": ["home", "light"], "brand": "Lumen",
     "price": 40.0, "stock": 3, "instock": True, "supplier_cost": "hidden-cost-11"},
    {"id": "p2", "title": "Reading lamp <b>bright</b>", "tags": ["light"], "brand": "Lumen",
     "price": 25.5, "stock": 0, "instock": False, "supplier_cost": "hidden-cost-22"},
    {"id": "p3", "title": "Garden hose", "tags": ["garden", "home"], "brand": "Aqua",
     "price": 15.0, "stock": 12, "instock": True, "supplier_cost": "hidden-cost-33"},
    {"id": "p4", "title": "Floor lamp", "tags": ["home", "light"], "brand": "Aqua",
     "price": 80.0, "stock": 1, "instock": True, "supplier_cost": "hidden-cost-44"},
    {"id": "p 5/x", "title": "Lamp shade", "tags": ["light"], "brand": "Shade & Co",
     "price": 9.99, "stock": 7, "instock": True, "supplier_cost": "hidden-cost-55"},
]  # fmt: skip


@dataclass(frozen=True)
class Collection:
    """A collection on the node: its name, the node's URL and a search-only key for it."""

    name: str
    node: str
    search_key: str
    admin: typesense.Client


@pytest.fixture
def typesense_collection(typesense_server: TypesenseServer) -> Iterator[Collection]:
    node = f"http://127.0.0.1:{typesense_server.port}"
    admin = typesense.Client(
        {
            "nodes": [{"host": "127.0.0.1", "port": typesense_server.port, "protocol": "http"}],
            "api_key": typesense_server.api_key,
            "connection_timeout_seconds": 5,
        }
    )
    name = f"shop_{uuid.uuid4().hex[:10]}"
    admin.collections.create({"name": name, "fields": SCHEMA})
    admin.collections[name].documents.import_(DOCUMENTS, {"action": "create"})
    key = admin.keys.create(
        {"description": "search only", "actions": ["documents:search"], "collections": [name]}
    )
    try:
        yield Collection(name, node, str(key["value"]), admin)
    finally:
        admin.keys[key["id"]].delete()
        admin.collections[name].delete()
