"""What a retriever searches, and changing it: a stage that names no fields searches the text
fields its page exposes, and PATCH /v1/retrievers/{id} changes the fields, name, description
and stored display config, checked as on create."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import OTHER_KEY, OTHER_NAMESPACE, browse_config, local_backend, owner_headers

DOCUMENTS = [
    {
        "document_id": "a",
        "title": "Brass lamp",
        "description": "Warm light for a desk",
        "supplier_notes": "zanzibar margin 40%",
        "price": 30,
    },
    {
        "document_id": "b",
        "title": "Oak desk",
        "description": "Solid and plain",
        "supplier_notes": "late again",
        "price": 200,
    },
]
SDK_STAGE = {"stage_name": "search", "config": {"stage_id": "feature_search", "parameters": {}}}


@pytest.fixture
def site(client: TestClient) -> TestClient:
    client.post(
        "/v1/collections/catalog/documents",
        headers=owner_headers(),
        json={"documents": DOCUMENTS},
    ).raise_for_status()
    return client


def _config(exposed: list[str], **overrides: Any) -> dict[str, Any]:
    return browse_config(
        **{"exposed_fields": exposed, "field_config": {}, "components": {}, **overrides}
    )


def _create(client: TestClient, **body: Any) -> Any:
    fields = {"retriever_name": "notes", **body}
    if "backend" not in fields:
        fields.update(collection_identifiers=["catalog"], stages=[SDK_STAGE])
    return client.post("/v1/retrievers", headers=owner_headers(), json=fields)


def _publish(client: TestClient, retriever_id: str, config: dict[str, Any]) -> Any:
    return client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={
            "public_name": "notes",
            "display_config": config,
            "rate_limit_config": {"tier": "unlimited"},
        },
    )


def _found(client: TestClient, query: str) -> list[str]:
    answer = client.post("/v1/public/retrievers/notes/execute", json={"inputs": {"query": query}})
    assert answer.status_code == 200, answer.text
    return [d["document_id"] for d in answer.json()["documents"]]


def _patch(client: TestClient, retriever_id: str, **body: Any) -> Any:
    return client.patch(f"/v1/retrievers/{retriever_id}", headers=owner_headers(), json=body)


def _error_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    field: str = response.json()["error"]["details"]["errors"][0]["field"]
    return field


def test_a_stage_without_fields_publishes_with_a_private_field_left_out(
    site: TestClient,
) -> None:
    created = _create(site).json()
    rid = created["retriever_id"]
    # Until a page shows it, the owner's retriever searches every text field.
    assert created["backend"]["search_fields"] == ["title", "description", "supplier_notes"]
    published = _publish(site, rid, _config(["title", "description", "price"]))
    assert published.status_code == 200, published.text
    assert _found(site, "zanzibar") == []  # a word only in the private field
    assert _found(site, "brass") == ["a"]
    read = site.get(f"/v1/retrievers/{rid}", headers=owner_headers()).json()
    assert read["backend"]["search_fields"] == ["title", "description"]
    assert read["stages"][0]["config"]["parameters"]["fields"] == ["title", "description"]
    public = site.get("/v1/public/retrievers/notes/config").json()
    stages = public["display_config"]["retriever_config"]["stages"]
    assert stages[0]["parameters"]["fields"] == ["title", "description"]
    # The page's exposed fields change: the fields searched follow, the private one never.
    publish = f"/v1/retrievers/{rid}/publish"
    narrowed = site.patch(
        publish, headers=owner_headers(), json={"display_config": _config(["title"])}
    )
    assert narrowed.status_code == 200, narrowed.text
    assert (_found(site, "warm"), _found(site, "brass")) == ([], ["a"])
    widened = _config(["title", "description"])
    assert site.patch(publish, headers=owner_headers(), json={"display_config": widened}).is_success
    assert (_found(site, "warm"), _found(site, "zanzibar")) == (["a"], [])


def test_a_stage_without_fields_created_with_a_display_config_searches_what_it_exposes(
    site: TestClient,
) -> None:
    created = _create(site, display_config=_config(["title", "price"]))
    assert created.status_code == 200, created.text
    assert created.json()["backend"]["search_fields"] == ["title"]
    # A page that exposes no text field leaves nothing to search: said, not guessed.
    refused = _create(site, retriever_name="numbers", display_config=_config(["price"]))
    assert _error_field(refused) == "display_config.exposed_fields"
    assert "name the fields to search" in refused.json()["error"]["message"]


def test_patch_changes_the_fields_a_published_retriever_searches(site: TestClient) -> None:
    backend = {**local_backend("catalog"), "search_fields": ["title", "description"]}
    rid = _create(site, backend=backend).json()["retriever_id"]
    # Answers cached for a minute: the change must not wait for them.
    config = _config(["title", "description"], extensions={"query_cache_seconds": 60})
    assert _publish(site, rid, config).status_code == 200
    assert _found(site, "warm") == ["a"]

    changed = _patch(site, rid, backend={**backend, "search_fields": ["title"]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["retriever"]["backend"]["search_fields"] == ["title"]
    assert _found(site, "warm") == []  # the page sees it at once
    public = site.get("/v1/public/retrievers/notes/config").json()
    assert public["display_config"]["retriever_config"]["stages"][0]["parameters"]["fields"] == [
        "title"
    ]

    # The SDK's shape: the collection stays when only the stages are sent.
    stage = {
        "stage_name": "search",
        "config": {"stage_id": "full_text_search", "parameters": {"fields": ["description"]}},
    }
    by_stages = _patch(site, rid, stages=[stage])
    assert by_stages.status_code == 200, by_stages.text
    assert by_stages.json()["retriever"]["collection_identifiers"] == ["catalog"]
    assert _found(site, "warm") == ["a"]

    # Never a field the page does not expose; nothing changes.
    hidden = {**stage, "config": {**stage["config"], "parameters": {"fields": ["supplier_notes"]}}}
    refused = _patch(site, rid, stages=[hidden])
    assert _error_field(refused) == "stages[0].config.parameters.fields"
    assert "supplier_notes" in refused.json()["error"]["message"]
    assert "/publish" in refused.json()["error"]["message"]  # how to expose it first
    refused = _patch(site, rid, backend={**backend, "search_fields": ["supplier_notes"]})
    assert _error_field(refused) == "backend.search_fields"
    assert _found(site, "zanzibar") == []
    read = site.get(f"/v1/retrievers/{rid}", headers=owner_headers()).json()
    assert read["backend"]["search_fields"] == ["description"]


def test_patch_changes_the_name_description_schema_and_stored_display_config(
    site: TestClient,
) -> None:
    rid = _create(site, description="Notes").json()["retriever_id"]
    _create(site, retriever_name="taken")
    changed = _patch(
        site,
        rid,
        retriever_name="lamps",
        description="Lamps and desks",
        input_schema={"query": {"type": "string"}},
        display_config=_config(["title", "price"]),
    )
    assert changed.status_code == 200, changed.text
    retriever = changed.json()["retriever"]
    assert retriever["retriever_name"] == "lamps"
    assert retriever["description"] == "Lamps and desks"
    assert retriever["input_schema"] == {"query": {"type": "string"}}
    assert retriever["display_config"]["exposed_fields"] == ["title", "price"]
    # Its default search fields follow the display config a publish will use.
    assert retriever["backend"]["search_fields"] == ["title"]
    assert site.get(f"/v1/retrievers/{rid}", headers=owner_headers()).json() == retriever
    cleared = _patch(site, rid, description="")
    assert cleared.json()["retriever"]["description"] is None
    assert _patch(site, rid, retriever_name="taken").status_code == 409
    # Published with the stored config, as the publish call promises.
    published = site.post(
        f"/v1/retrievers/{rid}/publish", headers=owner_headers(), json={"public_name": "notes"}
    )
    assert published.status_code == 200, published.text
    assert _found(site, "warm") == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"description": None}, "body"),
        ({"retriever_name": "no/slash"}, "retriever_name"),
        ({"description": 3}, "description"),
        ({"display_config": {"title": "x"}}, "display_config.inputs"),
        ({"backend": {"type": "local", "collection": "catalog"}}, "backend.local.search_fields"),
        ({"stages": [{"stage_name": "x", "config": {"stage_id": "llm"}}]}, "stages[0]"),
        ({"collection_identifiers": ["catalog", "other"]}, "collection_identifiers"),
        ({"tags": ["x"]}, "body"),
        ({"budget_limits": {}}, "budget_limits"),
        ({"backend": local_backend("catalog"), "stages": [SDK_STAGE]}, "body"),
    ],
)
def test_bad_patches_are_refused_by_name_and_change_nothing(
    site: TestClient, body: dict[str, Any], field: str
) -> None:
    created = _create(site).json()
    refused = _patch(site, created["retriever_id"], **body)
    assert _error_field(refused).startswith(field), refused.text
    read = site.get(f"/v1/retrievers/{created['retriever_id']}", headers=owner_headers())
    assert read.json() == created


def test_patch_is_an_editors_call_in_its_namespace(site: TestClient) -> None:
    rid = _create(site).json()["retriever_id"]
    other = site.patch(
        f"/v1/retrievers/{rid}",
        headers=owner_headers(OTHER_KEY, OTHER_NAMESPACE),
        json={"description": "mine"},
    )
    assert other.status_code == 404
    assert _patch(site, "ret_missing", description="x").status_code == 404


def test_patch_moves_an_upstream_only_where_its_key_may_go(site: TestClient) -> None:
    site.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "upstream-key", "secret_value": "sk_live_upstream"},
    ).raise_for_status()
    upstream = {
        "type": "mixpeek",
        "base_url": "https://api.example.test",
        "retriever_id": "ret_upstream",
        "namespace": "upstream-ns",
        "api_key_secret_name": "upstream-key",
    }
    rid = _create(site, backend=upstream).json()["retriever_id"]
    moved = _patch(site, rid, backend={**upstream, "retriever_id": "ret_other"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["retriever"]["stages"][0]["config"]["stage_id"] == "mixpeek_retriever"
    # The key is sent only to the upstream it was first used with, whoever moves it.
    elsewhere = _patch(site, rid, backend={**upstream, "base_url": "https://keys.example.test"})
    assert _error_field(elsewhere) == "backend.api_key_secret_name"
    with_collection = _patch(site, rid, collection_identifiers=["catalog"])
    assert _error_field(with_collection) == "collection_identifiers"
    read = site.get(f"/v1/retrievers/{rid}", headers=owner_headers()).json()
    assert read["backend"]["retriever_id"] == "ret_other"


def test_a_published_page_keeps_what_its_backend_can_do(site: TestClient) -> None:
    rid = _create(site).json()["retriever_id"]
    config = _config(["title", "description"], components={"show_filters": True})
    assert _publish(site, rid, config).status_code == 200
    site.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "upstream-key", "secret_value": "sk_live_upstream"},
    ).raise_for_status()
    upstream = {
        "type": "mixpeek",
        "base_url": "https://api.example.test",
        "retriever_id": "ret_upstream",
        "namespace": "upstream-ns",
        "api_key_secret_name": "upstream-key",
    }
    refused = _patch(site, rid, backend=upstream)
    assert _error_field(refused) == "display_config.components.show_filters"
    assert _found(site, "brass") == ["a"]
