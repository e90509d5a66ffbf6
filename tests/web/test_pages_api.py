"""The owner API of pages (`/v1/pages`): create, read, list, change, delete; roles and
namespaces; bad pages refused by field; slugs and public names as one set of URLs; on both
stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    NAMESPACE,
    OTHER_KEY,
    OTHER_NAMESPACE,
    OWNER_KEY,
    browse_config,
    local_backend,
    owner_headers,
    publish_local,
)

VIEWER = "viewer-key-0123456789abcd"
EDITOR = "editor-key-0123456789abcd"


@pytest.fixture
def client(make_settings: Callable[..., Settings], database_url: str) -> Iterator[TestClient]:
    keys = [
        f"{NAMESPACE}:{OWNER_KEY}",
        f"{OTHER_NAMESPACE}:{OTHER_KEY}",
        f"{NAMESPACE}:{VIEWER}@viewer",
        f"{NAMESPACE}:{EDITOR}@editor",
    ]
    settings = make_settings(database_url=database_url, api_keys=keys)
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def tabs(client: TestClient) -> dict[str, str]:
    """Two published retrievers: their ids by public name."""
    return {
        name: publish_local(client, name, ["title", "description", "price"])
        for name in ("shop", "help-centre")
    }


def page_body(ids: dict[str, str], **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "slug": "everything",
        "meta": {"title": "Everything we have"},
        "tabs": [
            {"tab_id": "products", "label": "Products", "retriever_id": ids["shop"]},
            {"tab_id": "help", "label": "Help", "retriever_id": ids["help-centre"]},
        ],
    }
    body.update(changes)
    return body


def create(
    client: TestClient, body: dict[str, Any], key: str = OWNER_KEY, namespace: str = NAMESPACE
) -> Any:
    return client.post("/v1/pages", headers=owner_headers(key, namespace), json=body)


def fields_named(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [error["field"] for error in response.json()["error"]["details"]["errors"]]


def test_a_page_is_created_read_listed_changed_and_deleted(
    client: TestClient, tabs: dict[str, str]
) -> None:
    created = create(client, page_body(tabs))
    assert created.status_code == 201, created.text
    page = created.json()
    assert page["page_id"].startswith("page_")
    assert page["url"] == "https://search.example.test/p/everything"
    assert [t["public_name"] for t in page["tabs"]] == ["shop", "help-centre"]
    assert page["all_tab"] == {"enabled": False, "label": "All", "mode": "merged", "per_tab": 5}
    assert page["version"] == 1
    # By id or by slug.
    for ref in (page["page_id"], "everything"):
        read = client.get(f"/v1/pages/{ref}", headers=owner_headers())
        assert read.status_code == 200
        assert read.json() == page
    listed = client.get("/v1/pages", headers=owner_headers()).json()
    assert listed["total"] == 1
    assert listed["results"][0]["slug"] == "everything"

    changed = client.patch(
        f"/v1/pages/{page['page_id']}",
        headers=owner_headers(),
        json={"meta": {"title": "All of it"}, "all_tab": {"enabled": True, "mode": "grouped"}},
    )
    assert changed.status_code == 200, changed.text
    after = changed.json()
    assert after["meta"]["title"] == "All of it"
    assert after["all_tab"]["mode"] == "grouped"
    assert after["tabs"] == page["tabs"]  # not sent: kept
    assert after["version"] == 2
    retabbed = client.patch(
        f"/v1/pages/{page['page_id']}",
        headers=owner_headers(),
        json={"tabs": [{"tab_id": "only", "label": "Only", "retriever_id": tabs["shop"]}]},
    )
    assert retabbed.status_code == 200, retabbed.text
    only = {"tab_id": "only", "label": "Only", "retriever_id": tabs["shop"]}
    assert retabbed.json()["tabs"] == [
        {**only, "description": None, "order": None, "public_name": "shop"}
    ]

    gone = client.delete(f"/v1/pages/{page['page_id']}", headers=owner_headers())
    assert gone.status_code == 200
    assert client.get(f"/v1/pages/{page['page_id']}", headers=owner_headers()).status_code == 404


def test_a_viewer_reads_an_editor_changes_an_owner_deletes(
    client: TestClient, tabs: dict[str, str]
) -> None:
    assert create(client, page_body(tabs), VIEWER).status_code == 403
    created = create(client, page_body(tabs), EDITOR)
    assert created.status_code == 201
    url = f"/v1/pages/{created.json()['page_id']}"
    assert client.get(url, headers=owner_headers(VIEWER)).status_code == 200
    patch = {"meta": {"title": "New"}}
    assert client.patch(url, headers=owner_headers(VIEWER), json=patch).status_code == 403
    assert client.patch(url, headers=owner_headers(EDITOR), json=patch).status_code == 200
    assert client.delete(url, headers=owner_headers(EDITOR)).status_code == 403
    assert client.delete(url, headers=owner_headers()).status_code == 200


def test_another_namespace_sees_nothing(client: TestClient, tabs: dict[str, str]) -> None:
    page = create(client, page_body(tabs)).json()
    other = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
    for ref in (page["page_id"], page["slug"]):
        assert client.get(f"/v1/pages/{ref}", headers=other).status_code == 404
        answer = client.patch(f"/v1/pages/{ref}", headers=other, json={"is_active": False})
        assert answer.status_code == 404
        assert client.delete(f"/v1/pages/{ref}", headers=other).status_code == 404
    assert client.get("/v1/pages", headers=other).json()["total"] == 0
    # Nor may a page there name this namespace's retrievers.
    body = page_body(tabs, slug="theirs")
    assert fields_named(create(client, body, OTHER_KEY, OTHER_NAMESPACE)) == [
        "tabs[0].retriever_id"
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slug": "No Spaces"}, "slug"),
        ({"slug": "ab"}, "slug"),
        ({"tabs": []}, "tabs"),
        ({"meta": {}}, "meta.title"),
        ({"tabs": [{"tab_id": "Bad Key", "label": "x", "retriever_id": "r"}]}, "tabs[0].tab_id"),
        ({"stats": [{"label": "Docs"}]}, "stats[0]"),
        ({"hero": {"headline": "Hi", "background_color": "red;}"}}, "hero.background_color"),
        ({"hero": {"headline": "Hi", "cta_url": "javascript:alert(1)"}}, "hero.cta_url"),
        ({"sections": [{"type": "carousel"}]}, "sections[0].type"),
        ({"all_tab": {"mode": "zipped"}}, "all_tab.mode"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_a_bad_page_is_a_422_naming_the_field(
    client: TestClient, tabs: dict[str, str], change: dict[str, Any], field: str
) -> None:
    assert fields_named(create(client, page_body(tabs, **change))) == [field]


def test_rules_across_fields_are_422s_naming_the_field(
    client: TestClient, tabs: dict[str, str]
) -> None:
    body = page_body(tabs)
    twice = [*body["tabs"], {**body["tabs"][0], "label": "Again"}]
    assert fields_named(create(client, page_body(tabs, tabs=twice))) == ["tabs[2].tab_id"]
    merged = [{**body["tabs"][0], "tab_id": "all"}]
    assert fields_named(create(client, page_body(tabs, tabs=merged))) == ["tabs[0].tab_id"]
    unknown = [{**body["tabs"][0], "retriever_id": "ret_nope"}]
    assert fields_named(create(client, page_body(tabs, tabs=unknown))) == ["tabs[0].retriever_id"]
    stat = [{"label": "Docs", "tab_id": "blog"}]
    assert fields_named(create(client, page_body(tabs, stats=stat))) == ["stats[0].tab_id"]
    sections = [{"type": "markdown-content", "props": {"markdown": ""}}]
    named = fields_named(create(client, page_body(tabs, sections=sections)))
    assert named == ["sections[0].props.markdown"]
    sections = [{"type": "hero", "props": {"headline": "x"}}]
    assert fields_named(create(client, page_body(tabs, sections=sections))) == ["sections[0].props"]
    # Nothing was written by any of them.
    assert client.get("/v1/pages", headers=owner_headers()).json()["total"] == 0


def test_an_unpublished_retriever_cannot_be_a_tab(client: TestClient) -> None:
    draft = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "draft", "backend": local_backend()},
    ).json()["retriever_id"]
    body = page_body({"shop": draft, "help-centre": draft})
    answer = create(client, body)
    assert fields_named(answer) == ["tabs[0].retriever_id"]
    assert "publish it first" in answer.json()["error"]["message"]


def test_slugs_and_public_names_are_one_set_of_urls(
    client: TestClient, tabs: dict[str, str]
) -> None:
    assert create(client, page_body(tabs)).status_code == 201
    assert create(client, page_body(tabs)).status_code == 409  # the slug is taken
    # Another retriever's public name is not a slug to take...
    assert create(client, page_body(tabs, slug="shop")).status_code == 409
    # ...except as that retriever's own single-tab page.
    single = page_body(tabs, slug="shop", tabs=page_body(tabs)["tabs"][:1])
    assert create(client, single).status_code == 201
    # A retriever may not be published under a page's slug.
    third = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "third", "backend": local_backend()},
    ).json()["retriever_id"]
    available = client.get(
        f"/v1/retrievers/{third}/publish/availability?name=everything", headers=owner_headers()
    ).json()
    assert available["available"] is False
    published = client.post(
        f"/v1/retrievers/{third}/publish",
        headers=owner_headers(),
        json={"public_name": "everything", "display_config": browse_config(field_config={})},
    )
    assert published.status_code == 409


def test_a_slug_can_change_and_frees_the_old_one(client: TestClient, tabs: dict[str, str]) -> None:
    page = create(client, page_body(tabs)).json()
    moved = client.patch(
        f"/v1/pages/{page['page_id']}", headers=owner_headers(), json={"slug": "all-of-it"}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["url"].endswith("/p/all-of-it")
    assert create(client, page_body(tabs)).status_code == 201  # "everything" is free again
    clash = client.patch(
        f"/v1/pages/{page['page_id']}", headers=owner_headers(), json={"slug": "everything"}
    )
    assert clash.status_code == 409
