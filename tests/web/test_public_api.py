"""The public API over the embedded engine: config, execute, verify, interactions, directory."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import display_config, local_backend, owner_headers, protect

DOCUMENTS = [
    {
        "document_id": "h1",
        "title": "Studio headphones",
        "description": "Closed back",
        "category": "Audio",
        "in_stock": True,
        "price": 199.0,
        "secret_cost": 61.5,
        "internal": {"supplier": "Acme"},
    },
    {
        "document_id": "h2",
        "title": "Wireless headphones",
        "description": "Noise cancelling",
        "category": "Audio",
        "in_stock": False,
        "price": 249.0,
        "secret_cost": 80.0,
    },
    {
        "document_id": "k1",
        "title": "Kettle",
        "description": "Pairs with headphones? No.",
        "category": "Kitchen",
        "in_stock": True,
        "price": 39.0,
        "secret_cost": 9.0,
    },
] + [
    {
        "document_id": f"f{n}",
        "title": f"Filler {n}",
        "description": "filler",
        "category": "Home",
        "in_stock": True,
        "price": n,
        "secret_cost": 1,
    }
    for n in range(40)
]

INPUTS = [
    {
        "field_name": "query",
        "field_schema": {"type": "string"},
        "label": "Search",
        "required": False,
    },
    {
        "field_name": "category",
        "field_schema": {"type": "string", "enum": ["Audio", "Kitchen", "Home"]},
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
]
EXPOSED = ["title", "description", "price", "category"]


@pytest.fixture
def public(client: TestClient) -> str:
    """A published retriever over DOCUMENTS; returns the execute URL."""
    upsert = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": DOCUMENTS}
    )
    assert upsert.status_code == 200, upsert.text
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "products", "backend": local_backend()},
    ).json()["retriever_id"]
    published = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "products",
            "rate_limit_config": {"max_results_per_query": 25},
            "display_config": display_config(
                inputs=INPUTS, exposed_fields=EXPOSED, field_config={}
            ),
        },
    )
    assert published.status_code == 200, published.text
    return "/v1/public/retrievers/products/execute"


def execute(client: TestClient, url: str, inputs: dict[str, Any], **body: Any) -> Any:
    return client.post(url, json={"inputs": inputs, **body})


def test_execute_returns_only_exposed_fields(client: TestClient, public: str) -> None:
    response = execute(client, public, {"query": "headphones"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["execution_id"].startswith("exe_")
    assert body["results"] == body["documents"]
    assert [d["document_id"] for d in body["documents"]][:2] == ["h1", "h2"]
    for document in body["documents"]:
        assert set(document) <= {"document_id", "score", "highlights", *EXPOSED}
        assert set(document.get("highlights", {})) <= set(EXPOSED)
    assert "secret_cost" not in response.text
    assert "supplier" not in response.text
    assert "in_stock" not in response.text  # a filter input, but not an exposed field


def test_filters_come_from_the_other_inputs(client: TestClient, public: str) -> None:
    body = execute(client, public, {"query": "headphones", "in_stock": True}).json()
    assert [d["document_id"] for d in body["documents"]] == ["h1", "k1"]  # h2 is out of stock
    body = execute(client, public, {"category": "Kitchen"}).json()
    assert [d["document_id"] for d in body["documents"]] == ["k1"]
    # Unticked boxes and empty selects filter nothing.
    body = execute(
        client, public, {"query": "headphones", "in_stock": False, "category": ""}
    ).json()
    assert body["pagination"]["total"] == 3


def test_the_filter_tree_narrows_the_results(client: TestClient, public: str) -> None:
    tree = {
        "AND": [
            {"field": "category", "operator": "eq", "value": "audio"},
            {"field": "price", "operator": "lt", "value": 220},
        ]
    }
    body = execute(client, public, {"query": "headphones"}, filters=tree).json()
    assert [d["document_id"] for d in body["documents"]] == ["h1"]
    body = execute(client, public, {}, filters={"category": "Kitchen"}).json()
    assert [d["document_id"] for d in body["documents"]] == ["k1"]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"secret_cost": 9.0}, "filters.secret_cost"),  # stored, but not exposed
        ({"field": "in_stock", "operator": "eq", "value": True}, "filters.field"),
        ({"field": "price", "operator": "geo_radius", "value": 1}, "filters.operator"),
        ({"OR": {"price": 1}}, "filters.OR"),
    ],
)
def test_a_filter_may_only_use_exposed_fields_and_known_operators(
    client: TestClient, public: str, filters: dict[str, Any], field: str
) -> None:
    refused = execute(client, public, {}, filters=filters)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"]["errors"][0]["field"] == field
    # Whether a hidden field holds a value never shows, not even as a count.
    assert "61.5" not in refused.text


def test_an_inputs_default_applies_when_it_is_left_empty(client: TestClient) -> None:
    client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": DOCUMENTS}
    )
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "defaults", "backend": local_backend()},
    ).json()["retriever_id"]
    inputs = [
        {**INPUTS[0]},
        {**INPUTS[1], "field_schema": {**INPUTS[1]["field_schema"], "default": "Kitchen"}},
    ]
    config = display_config(inputs=inputs, exposed_fields=EXPOSED, field_config={})
    published = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "defaults", "display_config": config},
    )
    assert published.status_code == 200, published.text
    url = "/v1/public/retrievers/defaults/execute"
    assert [d["document_id"] for d in execute(client, url, {}).json()["documents"]] == ["k1"]
    audio = execute(client, url, {"category": "Audio"}).json()["documents"]
    assert {d["document_id"] for d in audio} == {"h1", "h2"}
    # A default its own schema refuses is refused when published, naming it.
    inputs[1]["field_schema"]["default"] = "Garden"
    refused = client.patch(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"display_config": display_config(inputs=inputs, exposed_fields=EXPOSED)},
    )
    assert refused.status_code == 422
    assert "display_config.inputs[1].field_schema.default" in refused.text


def test_pagination_and_the_page_cap(client: TestClient, public: str) -> None:
    first = execute(
        client,
        public,
        {"query": "filler"},
        pagination={"method": "offset", "page_number": 1, "page_size": 15},
    ).json()
    second = execute(
        client,
        public,
        {"query": "filler"},
        pagination={"method": "offset", "page_number": 3, "page_size": 15},
    ).json()
    assert first["pagination"] == {
        "method": "offset",
        "page_number": 1,
        "page_size": 15,
        "returned": 15,
        "total": 40,
        "has_next": True,
    }
    assert second["pagination"]["returned"] == 10
    assert second["pagination"]["has_next"] is False
    capped = execute(client, public, {}, limit=500).json()
    assert len(capped["documents"]) == 25  # max_results_per_query
    assert capped["pagination"]["page_size"] == 25
    by_limit = execute(client, public, {}, limit=3).json()
    assert len(by_limit["documents"]) == 3


def test_the_keys_the_sdk_always_sends_are_accepted(client: TestClient, public: str) -> None:
    response = execute(
        client,
        public,
        {"query": "kettle"},
        stream=False,
        skip_cache=False,
        return_presigned_urls=False,
        return_vectors=False,
        filters=None,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("inputs", "field", "words"),
    [
        ({"query": 5}, "inputs.query", "must be text"),
        ({"query": ["a"]}, "inputs.query", "must be text"),
        ({"query": "x" * 1001}, "inputs.query", "at most 1000"),
        ({"category": "Garden"}, "inputs.category", "must be one of 'Audio', 'Kitchen', 'Home'"),
        ({"in_stock": "yes"}, "inputs.in_stock", "true or false"),
        ({"colour": "red"}, "inputs.colour", "not an input of this retriever"),
    ],
)
def test_inputs_are_checked_against_the_field_schema(
    client: TestClient, public: str, inputs: dict[str, Any], field: str, words: str
) -> None:
    response = execute(client, public, inputs)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["errors"][0]["field"] == field
    assert words in error["message"]


def test_a_required_input(client: TestClient) -> None:
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "r", "backend": local_backend()},
    ).json()["retriever_id"]
    client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={"public_name": "needs-query", "display_config": display_config()},
    )
    url = "/v1/public/retrievers/needs-query/execute"
    for inputs in ({}, {"query": ""}, {"query": "   "}, {"query": None}):
        response = execute(client, url, inputs)
        assert response.status_code == 422
        assert response.json()["error"]["message"] == "inputs.query is required."


@pytest.mark.parametrize(
    ("raw", "status", "words"),
    [
        (b"{", 422, "not valid JSON"),
        (b"[]", 422, "body: Input should be an object"),
        (b'{"inputs": []}', 422, "inputs"),
        (b'{"inputs": "query"}', 422, "inputs"),
        (b'{"pagination": {"method": "cursor"}}', 422, "pagination.method"),
        (b'{"pagination": {"page_size": 0}}', 422, "pagination.page_size"),
        (b'{"pagination": {"page_number": "2"}}', 422, "pagination.page_number"),
        (b'{"limit": 501}', 422, "limit"),
        (b'{"stream": true}', 422, "stream"),
        (b"", 422, "empty"),
    ],
)
def test_bad_execute_bodies(
    client: TestClient, public: str, raw: bytes, status: int, words: str
) -> None:
    response = client.post(public, content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert words in response.json()["error"]["message"]


def test_unknown_and_inactive_retrievers_are_404(client: TestClient, public: str) -> None:
    for path in ("/v1/public/retrievers/nope/execute", "/v1/public/retrievers/nope/config"):
        response = client.request("POST" if path.endswith("execute") else "GET", path, json={})
        assert response.status_code == 404
        assert "nope" in response.json()["error"]["message"]
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    client.patch(
        f"/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"is_active": False}
    )
    assert execute(client, public, {}).status_code == 404
    assert client.get("/v1/public/retrievers/products/config").status_code == 404
    assert client.get("/v1/public/retrievers/").json()["total_count"] == 0
    client.patch(f"/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"is_active": True})
    assert execute(client, public, {}).status_code == 200


def test_unpublishing_stops_the_public_api_at_once(client: TestClient, public: str) -> None:
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    assert execute(client, public, {}).status_code == 200
    client.delete(f"/v1/retrievers/{rid}/publish", headers=owner_headers())
    assert execute(client, public, {}).status_code == 404


def test_config_is_public_and_holds_no_secret(client: TestClient, public: str) -> None:
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    protect(client, rid, "s3cret-pass")
    response = client.get("/v1/public/retrievers/products/config")
    assert response.status_code == 200
    body = response.json()
    assert body["password_protected"] is True
    # Behind the password: what the password page shows, no field names, inputs or panels.
    assert set(body["display_config"]) <= {
        "title", "description", "logo_url", "icon_base64", "theme", "seo", "inputs",
        "exposed_fields",
    }  # fmt: skip
    assert body["display_config"]["exposed_fields"] == ["document_id"]
    assert body["display_config"]["inputs"] == []
    for hidden in ("s3cret-pass", "prk_", "password_secret_name", "acme", "namespace", "price"):
        assert hidden not in response.text
    unlocked = client.get(
        "/v1/public/retrievers/products/config", headers={"X-Retriever-Password": "s3cret-pass"}
    )
    assert unlocked.json()["display_config"]["exposed_fields"] == EXPOSED


def test_password_and_public_key(client: TestClient, public: str) -> None:
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    published = protect(client, rid, "open sesame")
    missing = execute(client, public, {})
    assert missing.status_code == 401
    assert "X-Retriever-Password" in missing.json()["error"]["message"]
    wrong = client.post(public, json={}, headers={"X-Retriever-Password": "open says me"})
    assert wrong.status_code == 403
    right = client.post(public, json={}, headers={"X-Retriever-Password": "open sesame"})
    assert right.status_code == 200
    assert client.post(
        "/v1/public/retrievers/products/verify", json={"password": "open sesame"}
    ).json() == {"valid": True}
    assert client.post(
        "/v1/public/retrievers/products/verify", json={"password": "nope"}
    ).json() == {"valid": False}
    assert client.post("/v1/public/retrievers/products/verify", json={}).status_code == 422
    key = published["public_api_key"]
    headers = {"X-Retriever-Password": "open sesame"}
    assert (
        client.post(public, json={}, headers={**headers, "X-Public-API-Key": key}).status_code
        == 200
    )
    bad_key = client.post(public, json={}, headers={**headers, "X-Public-API-Key": "prk_wrong"})
    assert bad_key.status_code == 403


def test_interactions_are_stored_for_the_publisher(client: TestClient, public: str) -> None:
    execution = execute(client, public, {"query": "kettle"}).json()
    response = client.post(
        "/v1/public/retrievers/products/interactions",
        json={
            "document_id": "k1",
            "interaction_type": ["click"],
            "position": 0,
            "execution_id": execution["execution_id"],
            "query_snapshot": {"query": "kettle"},
        },
        headers={"X-Session-Id": "sess-1"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["interaction_id"].startswith("int_")
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    listing = client.get(f"/v1/retrievers/{rid}/interactions", headers=owner_headers()).json()
    assert listing["total"] == 1
    recorded = listing["results"][0]
    assert recorded["document_id"] == "k1"
    assert recorded["interaction_types"] == ["click"]
    assert recorded["execution_id"] == execution["execution_id"]
    assert recorded["session_id"] == "sess-1"
    assert recorded["details"] == {"query_snapshot": {"query": "kettle"}}


@pytest.mark.parametrize(
    "body",
    [
        {"document_id": "k1", "interaction_type": ["teleport"], "position": 0, "execution_id": "e"},
        {"document_id": "k1", "interaction_type": [], "position": 0, "execution_id": "e"},
        {"document_id": "k1", "interaction_type": ["click"], "position": -1, "execution_id": "e"},
        {"interaction_type": ["click"], "position": 0, "execution_id": "e"},
        {"document_id": "k1", "interaction_type": ["click"], "position": 0},  # no execution_id
        {"document_id": "k1", "interaction_type": [1], "position": 0, "execution_id": "e"},
    ],
)
def test_bad_interactions(client: TestClient, public: str, body: dict[str, Any]) -> None:
    response = client.post("/v1/public/retrievers/products/interactions", json=body)
    assert response.status_code == 422


def _interaction(document_id: str, *types: str) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "interaction_type": list(types),
        "position": 0,
        "execution_id": "exe_1",
    }


def _recorded(client: TestClient) -> list[dict[str, Any]]:
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    listing = client.get(f"/v1/retrievers/{rid}/interactions", headers=owner_headers()).json()
    results: list[dict[str, Any]] = listing["results"]
    return results


def test_interaction_types_are_read_in_any_case(client: TestClient, public: str) -> None:
    url = "/v1/public/retrievers/products/interactions"
    response = client.post(url, json=_interaction("k1", "CLICK", "Add_To_Cart"))
    assert response.status_code == 200, response.text
    assert _recorded(client)[0]["interaction_types"] == ["click", "add_to_cart"]


def test_interactions_need_no_password_but_the_right_public_key(
    client: TestClient, public: str
) -> None:
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    protect(client, rid, "letmein")
    url = "/v1/public/retrievers/products/interactions"
    assert client.post(url, json=_interaction("k1", "view")).status_code == 200
    wrong = client.post(url, json=_interaction("k1", "view"), headers={"X-Public-API-Key": "x"})
    assert wrong.status_code == 403
    # Recording reads nothing: the search itself still needs the password.
    assert client.post(public, json={"inputs": {}}).status_code == 401


def test_a_batch_of_interactions(client: TestClient, public: str) -> None:
    url = "/v1/public/retrievers/products/interactions/batch"
    batch = {"interactions": [_interaction(f"f{n}", "VIEW") for n in range(3)]}
    response = client.post(url, json=batch, headers={"X-Session-ID": "sess-b"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert body["count"] == 3
    assert len(set(body["interaction_ids"])) == 3
    recorded = _recorded(client)
    assert {r["document_id"] for r in recorded} == {"f0", "f1", "f2"}
    assert {r["session_id"] for r in recorded} == {"sess-b"}
    # One bad item refuses the whole batch, naming it, and stores none of it.
    bad = {"interactions": [_interaction("a", "view"), _interaction("b", "teleport")]}
    refused = client.post(url, json=bad)
    assert refused.status_code == 422
    assert "interactions[1].interaction_type" in refused.text
    too_many = {"interactions": [_interaction("a", "view")] * 101}
    assert client.post(url, json=too_many).status_code == 422
    assert len(_recorded(client)) == 3


def test_a_batch_counts_each_interaction_against_the_limit(
    client: TestClient, public: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import interactions

    monkeypatch.setattr(interactions, "INTERACTIONS_PER_IP_HOUR", 5)
    url = "/v1/public/retrievers/products/interactions/batch"
    four = {"interactions": [_interaction("a", "view")] * 4}
    assert client.post(url, json=four).status_code == 200
    refused = client.post(url, json={"interactions": [_interaction("a", "view")] * 2})
    assert refused.status_code == 429
    single = client.post(
        "/v1/public/retrievers/products/interactions", json=_interaction("a", "view")
    )
    assert single.status_code == 200  # the refused batch gave its count back


def test_directory_lists_active_retrievers_with_search(client: TestClient, public: str) -> None:
    listing = client.get("/v1/public/retrievers/").json()
    assert listing["total_count"] == 1
    item = listing["results"][0]
    assert item["public_name"] == "products"
    assert item["public_url"] == "https://search.example.test/r/products"
    assert item["title"] == "Product Search"
    assert listing["stats"] == {"total_active": 1, "total_password_protected": 0, "total_open": 1}
    assert client.get("/v1/public/retrievers/?search=product").json()["total_count"] == 1
    assert client.get("/v1/public/retrievers/?search=zzz").json()["total_count"] == 0
    assert client.get("/v1/public/retrievers/?page_size=0").status_code == 422


def test_documents_with_integers_beyond_64_bits(client: TestClient, public: str) -> None:
    response = client.post(
        "/v1/collections/products/documents",
        headers=owner_headers(),
        json={"documents": [{"document_id": "big", "title": "Bignum", "price": 2**70}]},
    )
    assert response.status_code == 200
    found = execute(client, public, {"query": "bignum"}).json()["documents"]
    assert found[0]["price"] == pytest.approx(2**70)


def test_bad_document_batches(client: TestClient) -> None:
    url = "/v1/collections/products/documents"
    for body in (
        {"documents": []},
        {"documents": [1]},
        {"documents": [{"document_id": 5}]},
        {"documents": "x"},
        {},
    ):
        response = client.post(url, headers=owner_headers(), json=body)
        assert response.status_code == 422, body
    bad_name = client.post(
        "/v1/collections/Bad%20Name/documents",
        headers=owner_headers(),
        json={"documents": [{"title": "x"}]},
    )
    assert bad_name.status_code == 422
    assert client.post(url, json={"documents": [{"title": "x"}]}).status_code == 401


def test_what_execute_cannot_do_is_refused_and_what_it_meets_is_accepted(
    client: TestClient, public: str
) -> None:
    refused = execute(client, public, {}, expand=["related_id"])
    assert refused.status_code == 422
    assert "expand" in refused.text
    for flag in ("return_vectors", "return_presigned_urls"):
        answer = execute(client, public, {}, **{flag: True})
        assert answer.status_code == 422
        assert flag in answer.text
    # Reads here always see earlier writes: both consistency modes and a write token are met.
    met = execute(
        client, public, {"query": "kettle"}, consistency={"mode": "strong"}, write_token="w1"
    )
    assert met.status_code == 200
    assert execute(client, public, {}, consistency={"mode": "sloppy"}).status_code == 422


def test_typeahead_suggests_from_exposed_fields_only(client: TestClient, public: str) -> None:
    url = "/v1/public/retrievers/products/typeahead"
    found = client.get(f"{url}?q=HEAD")
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["query"] == "HEAD"
    assert body["suggestions"][0] == "headphones"  # the word, from the search fields
    assert {"field": "category", "value": "Home", "count": 40} not in body["values"]
    # Counted in the suggestions' own window, never in the searches the tier allows.
    assert found.headers["RateLimit"].startswith('"typeahead";r=119;')
    audio = client.get(f"{url}?q=aud").json()
    assert {"field": "category", "value": "Audio", "count": 2} in audio["values"]
    # secret_cost and internal.supplier are stored but hidden: never suggested.
    assert client.get(f"{url}?q=acm").json()["suggestions"] == []
    for bad in ("", "?q=", f"?q={'x' * 101}", "?q=a&limit=0", "?q=a&limit=21"):
        assert client.get(url + bad).status_code == 422


def test_typeahead_is_counted_and_locked_like_a_search(client: TestClient, public: str) -> None:
    rid = client.get("/v1/retrievers", headers=owner_headers()).json()["results"][0]["retriever_id"]
    protect(client, rid, "letmein")
    url = "/v1/public/retrievers/products/typeahead?q=head"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"X-Retriever-Password": "letmein"}).status_code == 200
