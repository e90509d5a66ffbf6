"""The official Mixpeek SDK drives the owner API of a live server, and its response models
deserialize every answer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mixpeek
import pytest
from mixpeek.exceptions import ApiException

from app.web.app import create_app
from tests.helpers import NAMESPACE, OWNER_KEY, display_config, local_backend, seed_update
from tests.servers import LiveServer


@pytest.fixture
def api_client(live_server: LiveServer) -> Iterator[mixpeek.ApiClient]:
    configuration = mixpeek.Configuration(
        host=live_server.url, access_token=OWNER_KEY, api_key={"NamespaceHeader": NAMESPACE}
    )
    with mixpeek.ApiClient(configuration) as client:
        yield client


@pytest.fixture
def sdk_retriever_id(live_server: LiveServer) -> str:
    import httpx

    response = httpx.post(
        f"{live_server.url}/v1/retrievers",
        headers={"Authorization": f"Bearer {OWNER_KEY}", "X-Namespace": NAMESPACE},
        json={"retriever_name": "sdk-products", "backend": local_backend()},
    )
    assert response.status_code == 200, response.text
    value: str = response.json()["retriever_id"]
    return value


def test_sdk_publish_get_update_list_unpublish(
    api_client: mixpeek.ApiClient, sdk_retriever_id: str
) -> None:
    api = mixpeek.PublishedRetrieversApi(api_client)
    secrets = mixpeek.OrganizationSecretsApi(api_client)

    available = api.check_name_availability_retrievers_id_publish(sdk_retriever_id, "sdk-search")
    assert isinstance(available, mixpeek.PublicNameAvailabilityResponse)
    assert available.available is True

    published = api.publish_retriever(
        sdk_retriever_id,
        mixpeek.PublishRetrieverRequest(
            public_name="sdk-search",
            display_config=mixpeek.DisplayConfigInput.from_dict(display_config()),
            rate_limit_config=mixpeek.RateLimitConfig(tier=mixpeek.RateLimitTier.ELEVATED),
            tags=["sdk"],
        ),
    )
    assert isinstance(published, mixpeek.PublishRetrieverResponse)
    assert published.public_id.startswith("pub_")
    assert published.public_url.endswith("/r/sdk-search")
    assert published.public_api_key
    assert published.public_api_key.startswith("prk_")

    fetched = api.get_published_retriever_id_publish(sdk_retriever_id)
    assert isinstance(fetched, mixpeek.PublishedRetrieverResponse)
    assert fetched.public_name == "sdk-search"
    assert fetched.rate_limit_config.tier == mixpeek.RateLimitTier.ELEVATED
    assert fetched.display_config.title == "Product Search"
    assert fetched.display_config.inputs[0].field_name == "query"
    assert fetched.password_protected is False

    secrets.create_secret_organizations(
        mixpeek.CreateSecretRequest(secret_name="page-password", secret_value="open sesame")
    )
    seed = seed_update()
    updated = api.update_published_retriever_id_publish(
        sdk_retriever_id,
        mixpeek.UpdatePublishedRetrieverRequest(
            display_config=mixpeek.DisplayConfigInput.from_dict(seed["display_config"]),
            rate_limit_config=mixpeek.RateLimitConfig.from_dict(seed["rate_limit_config"]),
            password_secret_name="page-password",
            is_active=True,
        ),
    )
    assert isinstance(updated, mixpeek.PublishedRetrieverResponse)
    assert updated.password_protected is True
    assert updated.rate_limit_config.max_results_per_query == 50
    assert updated.display_config.markdowns is not None
    assert [m.title for m in updated.display_config.markdowns] == [
        "How it Works",
        "Search Guide",
        "About",
    ]
    assert updated.display_config.field_config is not None
    assert updated.display_config.field_config["price"].format_options is not None
    assert updated.display_config.field_config["price"].format_options.prefix == "$"

    deactivated = api.update_published_retriever_id_publish(
        sdk_retriever_id, mixpeek.UpdatePublishedRetrieverRequest(is_active=False)
    )
    assert deactivated.is_active is False
    assert deactivated.password_protected is True  # untouched by a PATCH that did not send it

    listing = api.list_published_retrievers(limit=10, offset=0)
    assert listing["total"] == 1
    entry = mixpeek.PublishedRetrieverResponse.from_dict(listing["results"][0])
    assert entry is not None
    assert entry.public_name == "sdk-search"

    deleted = api.unpublish_retriever_id_publish(sdk_retriever_id)
    assert isinstance(deleted, mixpeek.GenericDeleteResponse)
    assert deleted.success is True
    with pytest.raises(ApiException) as raised:
        api.get_published_retriever_id_publish(sdk_retriever_id)
    assert raised.value.status == 404
    error = mixpeek.ErrorResponse.from_json(raised.value.body)
    assert error is not None
    assert error.status == 404
    assert error.error.type == "not_found"


def test_sdk_secrets(api_client: mixpeek.ApiClient) -> None:
    secrets = mixpeek.OrganizationSecretsApi(api_client)
    created = secrets.create_secret_organizations(
        mixpeek.CreateSecretRequest(secret_name="upstream-key", secret_value="sk_live_abc")
    )
    assert isinstance(created, mixpeek.SecretResponse)
    assert created.created is True
    listing = secrets.list_secrets_organizations()
    assert isinstance(listing, mixpeek.SecretsListResponse)
    assert listing.secrets == ["upstream-key"]
    assert listing.count == 1
    replaced = secrets.update_secret_organizations_name(
        "upstream-key", mixpeek.UpdateSecretRequest(secret_value="sk_live_def")
    )
    assert replaced.updated is True
    deleted = secrets.delete_secret_organizations_name("upstream-key")
    assert deleted.deleted is True
    assert secrets.list_secrets_organizations().count == 0


def test_sdk_secrets_with_a_plain_key_are_the_organizations(make_settings: Any) -> None:
    """The simplest setup (docs/api.md): one key of every namespace, and no namespace sent."""
    plain = "plain-key-0123456789abcdef"
    with LiveServer(create_app(make_settings(api_keys=[plain]))) as server:
        configuration = mixpeek.Configuration(host=server.url, access_token=plain)
        with mixpeek.ApiClient(configuration) as client:
            secrets = mixpeek.OrganizationSecretsApi(client)
            created = secrets.create_secret_organizations(
                mixpeek.CreateSecretRequest(secret_name="org-key", secret_value="sk_live_1")
            )
            assert created.created is True
            assert secrets.list_secrets_organizations().secrets == ["org-key"]
            assert secrets.update_secret_organizations_name(
                "org-key", mixpeek.UpdateSecretRequest(secret_value="sk_live_2")
            ).updated
            # A namespace's call sees the organization's secret as one it can use.
            namespaced = secrets.list_secrets_organizations(_headers={"X-Namespace": "acme"})
            assert namespaced.secrets == ["org-key"]
            assert secrets.delete_secret_organizations_name("org-key").deleted is True
            assert secrets.list_secrets_organizations().count == 0


def test_sdk_errors_deserialize(api_client: mixpeek.ApiClient, sdk_retriever_id: str) -> None:
    api = mixpeek.PublishedRetrieversApi(api_client)
    with pytest.raises(ApiException) as raised:
        api.publish_retriever(
            sdk_retriever_id,
            mixpeek.PublishRetrieverRequest(
                public_name="sdk-search",
                display_config=mixpeek.DisplayConfigInput.from_dict(display_config()),
                password_secret_name="missing-secret",
            ),
        )
    assert raised.value.status == 422
    error = mixpeek.ErrorResponse.from_json(raised.value.body)
    assert error is not None
    assert error.success is False
    assert "missing-secret" in error.error.message


def test_sdk_with_a_wrong_key_gets_401(live_server: LiveServer, sdk_retriever_id: str) -> None:
    configuration = mixpeek.Configuration(
        host=live_server.url,
        access_token="wrong-key-000000000000",
        api_key={"NamespaceHeader": NAMESPACE},
    )
    with mixpeek.ApiClient(configuration) as client:
        api = mixpeek.PublishedRetrieversApi(client)
        with pytest.raises(ApiException) as raised:
            api.get_published_retriever_id_publish(sdk_retriever_id)
    assert raised.value.status == 401


@pytest.fixture
def public_retriever(live_server: LiveServer, sdk_retriever_id: str) -> str:
    import httpx

    headers = {"Authorization": f"Bearer {OWNER_KEY}", "X-Namespace": NAMESPACE}
    documents = [
        {
            "document_id": "d1",
            "title": "Wireless headphones",
            "description": "Bluetooth",
            "price": 99,
            "image_url": "/x.png",
            "cost": 40,
        },
        {
            "document_id": "d2",
            "title": "Desk lamp",
            "description": "Warm light",
            "price": 30,
            "cost": 9,
        },
    ]
    httpx.post(
        f"{live_server.url}/v1/collections/products/documents",
        headers=headers,
        json={"documents": documents},
    ).raise_for_status()
    httpx.post(
        f"{live_server.url}/v1/organizations/secrets",
        headers=headers,
        json={"secret_name": "pw", "secret_value": "letmein"},
    ).raise_for_status()
    httpx.post(
        f"{live_server.url}/v1/retrievers/{sdk_retriever_id}/publish",
        headers=headers,
        json={
            "public_name": "sdk-public",
            "display_config": display_config(),
            "password_secret_name": "pw",
        },
    ).raise_for_status()
    return "sdk-public"


def test_sdk_public_config_execute_verify_interactions(
    live_server: LiveServer, public_retriever: str
) -> None:
    configuration = mixpeek.Configuration(host=live_server.url)
    with mixpeek.ApiClient(configuration) as client:
        api = mixpeek.PublicRetrieverAPIApi(client)

        config = api.get_retriever_config_name(public_retriever)
        assert isinstance(config, mixpeek.PublicRetrieverConfigResponse)
        assert config.password_protected is True
        # Locked: the SDK's model still reads it, and it names no field until the password.
        assert config.display_config.exposed_fields == ["document_id"]
        assert config.display_config.inputs == []
        assert config.display_config.title

        assert (
            api.verify_password_retrievers_name(
                public_retriever, mixpeek.VerifyPasswordRequest(password="letmein")
            ).valid
            is True
        )
        assert (
            api.verify_password_retrievers_name(
                public_retriever, mixpeek.VerifyPasswordRequest(password="wrong")
            ).valid
            is False
        )

        request = mixpeek.RetrieverExecutionRequest(
            inputs={"query": "headphones"},
            pagination=mixpeek.Pagination1(
                mixpeek.OffsetPaginationParams(page_number=1, page_size=5)
            ),
        )
        with pytest.raises(ApiException) as raised:
            api.execute_retriever_name(public_retriever, request)
        assert raised.value.status == 401
        result = api.execute_retriever_name(
            public_retriever, request, x_retriever_password="letmein"
        )
        assert [d["document_id"] for d in result["documents"]] == ["d1"]
        assert set(result["documents"][0]) == {
            "document_id",
            "score",
            "title",
            "description",
            "price",
            "image_url",
            "highlights",
        }
        assert result["documents"][0]["highlights"]["title"].count("<mark>") == 1
        assert result["pagination"]["total"] == 1

        tracked = api.track_interaction_retrievers_name(
            public_retriever,
            mixpeek.PublicInteractionRequest(
                document_id="d1",
                interaction_type=[mixpeek.InteractionType.CLICK],
                position=0,
                execution_id=result["execution_id"],
            ),
            x_session_id="session-9",
        )  # no password: the SDK documents tracking as working without one
        assert tracked["success"] is True
        batch = api.track_interaction_batch_retrievers_name(
            public_retriever,
            mixpeek.PublicInteractionBatchRequest(
                interactions=[
                    mixpeek.PublicInteractionRequest(
                        document_id="d1",
                        interaction_type=[mixpeek.InteractionType.VIEW],
                        position=n,
                        execution_id=result["execution_id"],
                    )
                    for n in range(2)
                ]
            ),
            x_session_id="session-9",
        )
        assert batch["count"] == 2

        listing = api.list_retrievers(page=1, page_size=10)
        assert isinstance(listing, mixpeek.ListPublicRetrieversResponse)
        assert [r.public_name for r in listing.results] == ["sdk-public"]
        assert listing.results[0].password_protected is True
        assert api.list_retrievers(include_inactive=True).total_count == 1

        filtered = api.execute_retriever_name(
            public_retriever,
            mixpeek.RetrieverExecutionRequest(
                inputs={"query": "lamp"},
                filters={"OR": [{"field": "price", "operator": "lt", "value": 50}]},
            ),
            x_retriever_password="letmein",
        )
        assert [d["document_id"] for d in filtered["documents"]] == ["d2"]  # the $30 lamp
        with pytest.raises(ApiException) as refused:  # Mongo's syntax is not Mixpeek's tree
            api.execute_retriever_name(
                public_retriever,
                mixpeek.RetrieverExecutionRequest(
                    inputs={"query": "lamp"}, filters={"price": {"$gt": 1}}
                ),
                x_retriever_password="letmein",
            )
        assert refused.value.status == 422


def test_sdk_retrievers_create_get_list_delete(
    api_client: mixpeek.ApiClient, live_server: LiveServer
) -> None:
    import httpx

    httpx.post(
        f"{live_server.url}/v1/collections/catalog/documents",
        headers={"Authorization": f"Bearer {OWNER_KEY}", "X-Namespace": NAMESPACE},
        json={"documents": [{"document_id": "a", "title": "Lamp", "description": "Warm"}]},
    ).raise_for_status()
    api = mixpeek.RetrieversApi(api_client)
    created = api.create_retriever(
        mixpeek.CreateRetrieverRequest(
            retriever_name="from-the-sdk",
            collection_identifiers=["catalog"],
            stages=[
                mixpeek.StageConfigInput(
                    stage_name="search",
                    config={"stage_id": "feature_search", "parameters": {}},
                )
            ],
            input_schema={"query": mixpeek.RetrieverInputSchemaFieldInput(type="string")},
        )
    )
    assert isinstance(created, mixpeek.RetrieverConfig)
    retriever_id = created.retriever_id
    assert retriever_id is not None
    # A local retriever over the collection, searching its text fields by meaning and words.
    assert created.collection_identifiers == ["catalog"]
    assert created.stages[0].config["parameters"] == {
        "fields": ["title", "description"],
        "mode": "hybrid",
        "semantic_ratio": 0.5,
        "fusion": "rrf",
    }
    read = api.get_retriever(retriever_id)
    assert isinstance(read, mixpeek.RetrieverModelOutput)
    assert read.collection_identifiers == ["catalog"]
    assert read.stages[0].config["stage_id"] == "feature_search"
    listed = api.list_retrievers_get(limit=10)
    assert isinstance(listed, mixpeek.ListRetrieversResponse)
    assert [r.retriever_name for r in listed.results or []] == ["from-the-sdk"]
    searched = api.list_retrievers(
        list_retrievers_request=mixpeek.ListRetrieversRequest(search="SDK")
    )
    assert [r.retriever_id for r in searched.results or []] == [retriever_id]
    nothing = api.list_retrievers(list_retrievers_request=mixpeek.ListRetrieversRequest(search="x"))
    assert nothing.results == []
    # A stage no backend here can run is refused, naming it.
    with pytest.raises(ApiException) as raised:
        api.create_retriever(
            mixpeek.CreateRetrieverRequest(
                retriever_name="llm",
                collection_identifiers=["catalog"],
                stages=[
                    mixpeek.StageConfigInput(
                        stage_name="judge", config={"stage_id": "llm_filter", "parameters": {}}
                    )
                ],
            )
        )
    assert raised.value.status == 422
    assert "stages[0].config.stage_id" in str(raised.value.body)
    api.delete_retriever(retriever_id)
    assert api.list_retrievers_get().results == []


def test_sdk_publish_stats_reconcile_and_template(
    api_client: mixpeek.ApiClient, live_server: LiveServer, public_retriever: str
) -> None:
    published = mixpeek.PublishedRetrieversApi(api_client)
    stats = published.get_organization_publish_stats_retrievers()
    assert isinstance(stats, mixpeek.OrganizationPublishStatsResponse)
    assert (stats.current_count, stats.max_allowed, stats.remaining) == (1, 100, 99)
    assert stats.at_limit is False
    retriever_id = published.list_published_retrievers()["results"][0]["retriever_id"]
    state = published.reconcile_publish_state_retrievers(retriever_id, dry_run=True)
    assert state["state"] == "consistent"

    public = mixpeek.PublicRetrieverAPIApi(
        mixpeek.ApiClient(mixpeek.Configuration(host=live_server.url))
    )
    with pytest.raises(ApiException) as raised:
        public.get_retriever_template_name(public_retriever)  # behind its password
    assert raised.value.status == 401
    template = public.get_retriever_template_name(
        public_retriever, _headers={"X-Retriever-Password": "letmein"}
    )
    assert isinstance(template, mixpeek.PublicRetrieverTemplateResponse)
    assert template.collection_identifiers == ["products"]
    assert template.source_public_url.endswith(f"/r/{public_retriever}")
    assert template.display_config is not None


def test_sdk_marketplace_catalog_of_published_retrievers(
    live_server: LiveServer, public_retriever: str
) -> None:
    with mixpeek.ApiClient(mixpeek.Configuration(host=live_server.url)) as client:
        market = mixpeek.MarketplaceApi(client)
        catalog = market.get_marketplace_catalog()
        assert [listing.public_name for listing in catalog] == [public_retriever]
        assert catalog[0].password_secret_name is None  # a secret's name never leaves
        detail = market.get_marketplace_listing_by_name_catalog(public_retriever)
        assert isinstance(detail, mixpeek.MarketplaceListingDetail)
        assert str(detail.app_url).endswith(f"/r/{public_retriever}")
        assert market.get_marketplace_catalog(search="nothing like it") == []
        verified = market.verify_marketplace_listing_password_catalog_name(
            public_retriever, {"password": "letmein"}
        )
        assert verified["valid"] is True
        config = market.get_marketplace_listing_config_catalog_name(
            public_retriever, _headers={"X-Retriever-Password": "letmein"}
        )
        assert config["public_name"] == public_retriever
        result = market.execute_marketplace_retriever_catalog_name(
            public_retriever,
            mixpeek.RetrieverExecutionRequest(inputs={"query": "lamp"}),
            _headers={"X-Retriever-Password": "letmein"},
        )
        assert [d["document_id"] for d in result["documents"]] == ["d2"]
        template = market.get_marketplace_listing_template_catalog_name(
            public_retriever, _headers={"X-Retriever-Password": "letmein"}
        )
        assert template["source_public_name"] == public_retriever


def test_sdk_typeahead(api_client: mixpeek.ApiClient, live_server: LiveServer) -> None:
    import httpx

    documents = [
        {"document_id": str(n), "title": t, "brand": b}
        for n, (t, b) in enumerate(
            [("Lamp", "Lumen"), ("Desk", "Lumen"), ("Kettle", "Lux"), ("Chair", "Oak & Co")]
        )
    ]
    httpx.post(
        f"{live_server.url}/v1/collections/lumber/documents",
        headers={"Authorization": f"Bearer {OWNER_KEY}", "X-Namespace": NAMESPACE},
        json={"documents": documents},
    ).raise_for_status()
    api = mixpeek.RetrieversApi(api_client)
    found = api.typeahead_retrievers(q="lu", fields="brand", limit=5)
    assert isinstance(found, mixpeek.TypeaheadResponse)
    assert [(v.var_field, v.value, v.count) for v in found.values or []] == [
        ("brand", "Lumen", 2),
        ("brand", "Lux", 1),
    ]
    assert [c.collection_name for c in found.collections or []] == ["lumber"]
    assert found.suggestions == ["Lumen", "Lux", "lumber"]
    assert found.warnings  # no search history here, and it says so


def test_sdk_retriever_over_a_private_field_publishes_and_changes_its_fields(
    api_client: mixpeek.ApiClient, live_server: LiveServer
) -> None:
    import httpx

    documents = [
        {
            "document_id": "a",
            "title": "Brass lamp",
            "description": "Warm light",
            "notes": "zanzibar",
        },
        {"document_id": "b", "title": "Oak desk", "description": "Plain", "notes": "late"},
    ]
    httpx.post(
        f"{live_server.url}/v1/collections/stock/documents",
        headers={"Authorization": f"Bearer {OWNER_KEY}", "X-Namespace": NAMESPACE},
        json={"documents": documents},
    ).raise_for_status()
    retrievers = mixpeek.RetrieversApi(api_client)
    created = retrievers.create_retriever(
        mixpeek.CreateRetrieverRequest(
            retriever_name="stock",
            collection_identifiers=["stock"],
            stages=[
                mixpeek.StageConfigInput(
                    stage_name="search", config={"stage_id": "feature_search", "parameters": {}}
                )
            ],
        )
    )
    retriever_id = created.retriever_id
    assert retriever_id is not None
    config = display_config(
        exposed_fields=["title", "description"], components=None, field_config={}
    )
    published = mixpeek.PublishedRetrieversApi(api_client).publish_retriever(
        retriever_id,
        mixpeek.PublishRetrieverRequest(
            public_name="stock",
            display_config=mixpeek.DisplayConfigInput.from_dict(config),
            rate_limit_config=mixpeek.RateLimitConfig(tier=mixpeek.RateLimitTier.UNLIMITED),
        ),
    )
    assert published.public_url.endswith("/r/stock")

    with mixpeek.ApiClient(mixpeek.Configuration(host=live_server.url)) as public_client:
        public = mixpeek.PublicRetrieverAPIApi(public_client)

        def found(query: str) -> list[str]:
            request = mixpeek.RetrieverExecutionRequest(inputs={"query": query})
            answer = public.execute_retriever_name("stock", request)
            return [d["document_id"] for d in answer["documents"]]

        assert found("zanzibar") == []  # only in the field the page does not expose
        assert found("warm") == ["a"]

        stage = {"stage_id": "full_text_search", "parameters": {"fields": ["title"]}}
        patched = retrievers.patch_retriever(
            retriever_id,
            mixpeek.PatchRetrieverRequest(
                description="Stock, by title",
                stages=[mixpeek.StageConfigInput(stage_name="search", config=stage)],
            ),
        )
        assert isinstance(patched, mixpeek.PatchRetrieverResponse)
        assert patched.retriever.description == "Stock, by title"
        assert patched.retriever.stages[0].config["parameters"] == {"fields": ["title"]}
        assert found("warm") == []
        assert found("brass") == ["a"]

        hidden = {"stage_id": "full_text_search", "parameters": {"fields": ["notes"]}}
        with pytest.raises(ApiException) as raised:
            retrievers.patch_retriever(
                retriever_id,
                mixpeek.PatchRetrieverRequest(
                    stages=[mixpeek.StageConfigInput(stage_name="search", config=hidden)]
                ),
            )
        assert raised.value.status == 422
        assert "stages[0].config.parameters.fields" in str(raised.value.body)
        assert found("zanzibar") == []


def test_sdk_feature_search_finds_by_meaning_and_full_text_search_by_words(
    api_client: mixpeek.ApiClient, live_server: LiveServer
) -> None:
    import httpx

    owner = {"Authorization": f"Bearer {OWNER_KEY}", "X-Namespace": NAMESPACE}
    documents = [
        {"document_id": "sofa", "title": "Three-seat sofa", "description": "Grey linen"},
        {"document_id": "lamp", "title": "Desk lamp", "description": "Warm light"},
    ]
    base = f"{live_server.url}/v1/collections/rooms"
    httpx.put(f"{base}/embedding", headers=owner, json={"fields": ["title", "description"]})
    httpx.post(f"{base}/documents", headers=owner, json={"documents": documents})
    retrievers = mixpeek.RetrieversApi(api_client)
    published = mixpeek.PublishedRetrieversApi(api_client)
    config = display_config(
        exposed_fields=["title", "description"], components=None, field_config={}
    )
    for name, stage_id in (("by-meaning", "feature_search"), ("by-words", "full_text_search")):
        created = retrievers.create_retriever(
            mixpeek.CreateRetrieverRequest(
                retriever_name=name,
                collection_identifiers=["rooms"],
                stages=[
                    mixpeek.StageConfigInput(
                        stage_name="search", config={"stage_id": stage_id, "parameters": {}}
                    )
                ],
            )
        )
        assert created.retriever_id is not None
        published.publish_retriever(
            created.retriever_id,
            mixpeek.PublishRetrieverRequest(
                public_name=name,
                display_config=mixpeek.DisplayConfigInput.from_dict(config),
                rate_limit_config=mixpeek.RateLimitConfig(tier=mixpeek.RateLimitTier.UNLIMITED),
            ),
        )
    with mixpeek.ApiClient(mixpeek.Configuration(host=live_server.url)) as public_client:
        public = mixpeek.PublicRetrieverAPIApi(public_client)

        def found(name: str) -> list[str]:
            request = mixpeek.RetrieverExecutionRequest(inputs={"query": "couch"})
            answer = public.execute_retriever_name(name, request)
            return [d["document_id"] for d in answer["documents"]]

        assert found("by-meaning")[0] == "sofa"
        assert found("by-words") == []


def test_sdk_execute_with_a_query_vector(live_server: LiveServer) -> None:
    """A query's own vector goes in `inputs.embedding`, as Mixpeek's execute takes a
    pre-computed one; a bad one is an error the SDK reads."""
    import httpx

    owner = {"Authorization": f"Bearer {OWNER_KEY}", "X-Namespace": NAMESPACE}
    base = f"{live_server.url}/v1/collections/shapes"
    embedder = {"type": "provided", "field": "vector", "dimensions": 3}
    httpx.put(f"{base}/embedding", headers=owner, json={"fields": ["title"], "embedder": embedder})
    documents = [
        {"document_id": "round", "title": "Ball", "vector": [1, 0, 0]},
        {"document_id": "square", "title": "Box", "vector": [0, 1, 0]},
    ]
    httpx.post(f"{base}/documents", headers=owner, json={"documents": documents})
    config = display_config(exposed_fields=["title"], components=None, field_config={})
    config["inputs"][0]["required"] = False
    backend = {**local_backend("shapes"), "search_fields": ["title"]}
    created = httpx.post(
        f"{live_server.url}/v1/retrievers",
        headers=owner,
        json={"retriever_name": "shapes", "backend": backend},
    ).json()
    published = httpx.post(
        f"{live_server.url}/v1/retrievers/{created['retriever_id']}/publish",
        headers=owner,
        json={"public_name": "shapes", "display_config": config},
    )
    assert published.status_code == 200, published.text
    with mixpeek.ApiClient(mixpeek.Configuration(host=live_server.url)) as public_client:
        public = mixpeek.PublicRetrieverAPIApi(public_client)
        request = mixpeek.RetrieverExecutionRequest(inputs={"embedding": [0.1, 0.9, 0.0]})
        answer = public.execute_retriever_name("shapes", request)
        assert [d["document_id"] for d in answer["documents"]] == ["square", "round"]
        assert answer["documents"][0]["matched_by_meaning"] is True
        assert "vector" not in answer["documents"][0]
        with pytest.raises(ApiException) as raised:
            public.execute_retriever_name(
                "shapes", mixpeek.RetrieverExecutionRequest(inputs={"embedding": [1, 0]})
            )
        assert raised.value.status == 422
        assert "inputs.embedding must be a list of 3 numbers" in str(raised.value.body)
