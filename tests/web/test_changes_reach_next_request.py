"""A publisher's change reaches the next request, and nothing kept in memory for one retriever
(or one published version of it) is served for another: the parts of pages, the filters panel,
the answers kept for `query_cache_seconds`, the rate-limit windows, the password, the theme.

Each test changes a retriever through the owner API, as a publisher would, and reads the public
page or the execute right after."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.services.catalog import CACHE_SECONDS
from app.web.app import create_app
from tests.helpers import (
    OTHER_KEY,
    OTHER_NAMESPACE,
    browse_config,
    local_backend,
    owner_headers,
    protect,
    publish_backend,
)

EXECUTE = "/v1/public/retrievers/{name}/execute"
SUPPLIERS = ("Acme Hidden Supplier", "Globex Hidden Supplier")


@pytest.fixture
def lamps(client: TestClient) -> TestClient:
    """Six lamps, each with a supplier (a field a publisher may expose, then take back) and a
    cost, in the "products" collection."""
    documents = [
        {
            "document_id": f"d{n}",
            "title": f"Lamp {n}",
            "description": "A desk lamp",
            "supplier": SUPPLIERS[n % 2],
            "cost": 10 + n,
        }
        for n in range(6)
    ]
    response = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": documents}
    )
    assert response.status_code == 200, response.text
    return client


def _config(exposed: list[str], **overrides: Any) -> dict[str, Any]:
    return browse_config(
        exposed_fields=exposed,
        field_config={},
        components={"show_filters": True},
        **overrides,
    )


def _republish(client: TestClient, retriever_id: str, name: str, config: dict[str, Any]) -> None:
    """Unpublished, then published again under the same name: how a publisher who exposed a
    field by mistake takes it back in one step (a new publish, not an update)."""
    gone = client.delete(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers())
    assert gone.status_code == 200, gone.text
    again = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={
            "public_name": name,
            "display_config": config,
            "rate_limit_config": {"tier": "unlimited"},
        },
    )
    assert again.status_code == 200, again.text


def _shows_lamp_one(page: str) -> bool:
    """Whether a page lists (or is) the lamp d1, its title marked where a query matched."""
    return "Lamp 1" in page or "<mark>Lamp</mark> 1" in page


def _patch(client: TestClient, retriever_id: str, **body: Any) -> None:
    response = client.patch(
        f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers(), json=body
    )
    assert response.status_code == 200, response.text


def _execute(client: TestClient, name: str, **headers: str) -> Any:
    return client.post(
        EXECUTE.format(name=name), json={"inputs": {"query": "lamp"}}, headers=headers
    )


def test_a_field_taken_back_by_publishing_again_leaves_the_filters_panel(lamps: TestClient) -> None:
    retriever_id = publish_backend(
        lamps, "lamps", local_backend(), _config(["title", "description", "supplier", "cost"])
    )
    before = lamps.get("/r/lamps")
    assert SUPPLIERS[0] in before.text  # offered as a filter while it is exposed
    assert "Cost: low to high" in before.text
    _republish(lamps, retriever_id, "lamps", _config(["title", "description"]))
    after = lamps.get("/r/lamps")
    assert after.status_code == 200
    assert _shows_lamp_one(after.text)
    assert SUPPLIERS[0] not in after.text
    assert SUPPLIERS[1] not in after.text
    assert "Cost: low to high" not in after.text


def test_a_field_taken_back_by_publishing_again_leaves_the_kept_answers(
    lamps: TestClient,
) -> None:
    kept = {"query_cache_seconds": 300}
    exposed = ["title", "description", "supplier"]
    retriever_id = publish_backend(
        lamps, "lamps", local_backend(), _config(exposed, extensions=kept)
    )
    first = _execute(lamps, "lamps").json()["documents"]
    assert {d["supplier"] for d in first} == set(SUPPLIERS)
    _republish(lamps, retriever_id, "lamps", _config(["title", "description"], extensions=kept))
    again = _execute(lamps, "lamps")
    assert again.status_code == 200
    documents = again.json()["documents"]
    assert documents
    assert all("supplier" not in d for d in documents), documents[0]


def _warm(client: TestClient, name: str) -> None:
    """Every part a page and an execute keep, made and read again (the frame, the form, the
    results block, the card plan, the windows)."""
    for _ in range(2):
        assert client.get(f"/r/{name}").status_code == 200
        assert client.get(f"/r/{name}?query=lamp").status_code == 200
        assert client.get(f"/r/{name}/embed?query=lamp").status_code == 200
        assert _execute(client, name).status_code == 200


@pytest.fixture
def shown(lamps: TestClient) -> tuple[TestClient, str]:
    """ "lamps", showing each lamp's supplier, its parts kept."""
    config = _config(["title", "description", "supplier"])
    retriever_id = publish_backend(lamps, "lamps", local_backend(), config)
    _warm(lamps, "lamps")
    assert SUPPLIERS[0] in lamps.get("/r/lamps?query=lamp").text
    return lamps, retriever_id


def test_exposed_fields_changed_reach_the_next_page_and_execute(
    shown: tuple[TestClient, str],
) -> None:
    client, retriever_id = shown
    _patch(client, retriever_id, display_config=_config(["title", "description"]))
    for path in ("/r/lamps?query=lamp", "/r/lamps/embed?query=lamp", "/r/lamps", "/r/lamps/d/d1"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert _shows_lamp_one(page.text), path
        assert SUPPLIERS[1] not in page.text, path
    documents = _execute(client, "lamps").json()["documents"]
    assert documents
    assert all("supplier" not in d for d in documents)


def test_a_password_added_locks_the_next_page_and_execute(shown: tuple[TestClient, str]) -> None:
    client, retriever_id = shown
    protect(client, retriever_id, "open sesame")
    page = client.get("/r/lamps?query=lamp")
    assert 'type="password"' in page.text
    assert not _shows_lamp_one(page.text)
    assert SUPPLIERS[0] not in page.text
    assert _execute(client, "lamps").status_code == 401
    opened = _execute(client, "lamps", **{"X-Retriever-Password": "open sesame"})
    assert opened.status_code == 200
    assert opened.json()["documents"]


def test_a_theme_a_title_and_a_panel_changed_reach_the_next_page(
    shown: tuple[TestClient, str],
) -> None:
    client, retriever_id = shown
    config = _config(
        ["title", "description", "supplier"],
        title="Lamps Renamed",
        theme={"primary_color": "#ab12cd"},
        markdowns=[{"title": "Shipping terms", "content": "Ships in **two** days."}],
    )
    _patch(client, retriever_id, display_config=config)
    for path in ("/r/lamps", "/r/lamps?query=lamp", "/r/lamps/embed?query=lamp"):
        page = client.get(path).text
        assert "#ab12cd" in page.lower(), path
        assert "Shipping terms" in page, path
        assert "<strong>two</strong>" in page, path
        assert "Lamps Renamed" in page, path


def test_a_rate_limit_tier_changed_reaches_the_next_execute(shown: tuple[TestClient, str]) -> None:
    client, retriever_id = shown
    assert "ratelimit-policy" not in _execute(client, "lamps").headers  # unlimited
    _patch(client, retriever_id, rate_limit_config={"tier": "standard"})
    limited = _execute(client, "lamps")
    assert limited.status_code == 200
    assert '"minute";q=10;w=60' in limited.headers["ratelimit-policy"]
    _patch(client, retriever_id, rate_limit_config={"tier": "enterprise"})
    assert '"minute";q=100;w=60' in _execute(client, "lamps").headers["ratelimit-policy"]


def test_two_retrievers_of_one_collection_never_share_kept_parts(lamps: TestClient) -> None:
    """One shows the supplier and is themed; the other shows neither: asked in turn, each
    page and execute is its own, however often the other's parts were kept before it."""
    publish_backend(
        lamps,
        "open-lamps",
        local_backend(),
        _config(
            ["title", "description", "supplier"],
            title="Open Lamps",
            theme={"primary_color": "#ab12cd"},
        ),
    )
    publish_backend(lamps, "quiet-lamps", local_backend(), _config(["title", "description"]))
    for _ in range(3):
        for name in ("open-lamps", "quiet-lamps"):
            _warm(lamps, name)
    for path in ("/r/quiet-lamps", "/r/quiet-lamps?query=lamp", "/r/quiet-lamps/embed?query=lamp"):
        page = lamps.get(path).text
        assert _shows_lamp_one(page), path
        assert SUPPLIERS[0] not in page, path
        assert "#ab12cd" not in page.lower(), path
        assert "Open Lamps" not in page, path
    documents = _execute(lamps, "quiet-lamps").json()["documents"]
    assert documents
    allowed = {"document_id", "score", "title", "description", "highlights", "id"}
    assert all(set(d) <= allowed for d in documents), documents[0]
    assert SUPPLIERS[0] in lamps.get("/r/open-lamps?query=lamp").text


def test_a_password_changed_or_taken_off_reaches_the_next_page_and_execute(
    shown: tuple[TestClient, str],
) -> None:
    """A publisher who gave the password to the wrong people changes it: the cookie the old
    one set opens nothing more; taken off, the page is open to all."""
    client, retriever_id = shown
    protect(client, retriever_id, "open sesame")
    unlocked = client.post("/v1/public/retrievers/lamps/verify", json={"password": "open sesame"})
    assert unlocked.json() == {"valid": True}
    cookie = {"Cookie": unlocked.headers["set-cookie"].split(";")[0]}
    assert _shows_lamp_one(client.get("/r/lamps?query=lamp", headers=cookie).text)
    assert _execute(client, "lamps", **cookie).status_code == 200
    changed = client.put(
        "/v1/organizations/secrets/pw", headers=owner_headers(), json={"secret_value": "new one"}
    )
    assert changed.status_code == 200, changed.text
    page = client.get("/r/lamps?query=lamp", headers=cookie)
    assert 'type="password"' in page.text
    assert not _shows_lamp_one(page.text)
    assert _execute(client, "lamps", **cookie).status_code == 401
    old = _execute(client, "lamps", **{"X-Retriever-Password": "open sesame"})
    assert old.status_code == 403
    assert _execute(client, "lamps", **{"X-Retriever-Password": "new one"}).status_code == 200
    _patch(client, retriever_id, password_secret_name="")
    assert _shows_lamp_one(client.get("/r/lamps?query=lamp").text)
    assert _execute(client, "lamps").status_code == 200


def test_a_page_of_tabs_never_shows_another_organizations_retriever_that_took_a_tabs_name(
    shown: tuple[TestClient, str],
) -> None:
    """Acme's page has a tab over its retriever "lamps"; Acme unpublishes it, and Globex
    publishes a retriever of its own under the freed name: Acme's page must not show Globex's
    documents in Acme's tab (the page read before names the tab by the public name)."""
    client, retriever_id = shown
    created = client.post(
        "/v1/pages",
        headers=owner_headers(),
        json={
            "slug": "acme-shop",
            "meta": {"title": "Acme shop"},
            "tabs": [{"tab_id": "lamps", "label": "Lamps", "retriever_id": retriever_id}],
        },
    )
    assert created.status_code == 201, created.text
    assert _shows_lamp_one(client.get("/p/acme-shop?tab=lamps&query=lamp").text)
    gone = client.delete(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers())
    assert gone.status_code == 200, gone.text
    globex = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
    loaded = client.post(
        "/v1/collections/products/documents",
        headers=globex,
        json={"documents": [{"document_id": "g1", "title": "Globex lamp", "description": "x"}]},
    )
    assert loaded.status_code == 200, loaded.text
    theirs = client.post(
        "/v1/retrievers", headers=globex, json={"retriever_name": "l", "backend": local_backend()}
    ).json()["retriever_id"]
    published = client.post(
        f"/v1/retrievers/{theirs}/publish",
        headers=globex,
        json={"public_name": "lamps", "display_config": _config(["title", "description"])},
    )
    assert published.status_code == 200, published.text
    for path in ("/p/acme-shop?tab=lamps&query=lamp", "/p/acme-shop?query=lamp"):
        page = client.get(path)
        assert "Globex" not in page.text, path
        assert not _shows_lamp_one(page.text), path


@pytest.fixture
def proxied(make_settings: Any) -> Iterator[TestClient]:
    """The server behind a trusted proxy (127.0.0.1) that adds the peer it saw as a header
    line of its own (HAProxy's `option forwardfor`), after any the client sent."""
    settings = make_settings(trusted_proxies=["127.0.0.1/32"])
    with TestClient(
        create_app(settings), raise_server_exceptions=False, client=("127.0.0.1", 50000)
    ) as client:
        client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": [{"document_id": "d1", "title": "Lamp", "description": "x"}]},
        ).raise_for_status()
        config = _config(["title", "description"])
        retriever_id = publish_backend(client, "lamps", local_backend(), config)
        _patch(
            client,
            retriever_id,
            rate_limit_config={"enable_ip_limits": True, "max_requests_per_ip_hour": 2},
        )
        yield client


def test_a_clients_own_forwarded_line_never_counts_as_its_address(proxied: TestClient) -> None:
    """Two X-Forwarded-For lines are one list, in order (RFC 9110, 5.3): the client's forged
    line first, the proxy's after it. Read as the first line alone, each forged address would
    be a new client with a fresh per-address limit."""
    statuses = []
    for n in range(4):
        headers = [("X-Forwarded-For", f"198.51.100.{n}"), ("X-Forwarded-For", "203.0.113.9")]
        response = proxied.post(
            EXECUTE.format(name="lamps"), json={"inputs": {"query": "lamp"}}, headers=headers
        )
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429, 429]


def test_a_password_added_through_another_process_locks_a_quiet_page_at_once(
    shown: tuple[TestClient, str], settings: Any
) -> None:
    """Two processes over one store: the page, read once through the second and then left
    quiet (an idle worker), is locked for its next visitor there once the first adds a
    password, not served once more from what the second read before."""
    client, retriever_id = shown
    with TestClient(create_app(settings), raise_server_exceptions=False) as other:
        assert _shows_lamp_one(other.get("/r/lamps?query=lamp").text)
        protect(client, retriever_id, "open sesame")
        time.sleep(2 * CACHE_SECONDS + 0.5)  # quiet for longer than the catalog keeps a page
        page = other.get("/r/lamps?query=lamp")
        assert 'type="password"' in page.text
        assert not _shows_lamp_one(page.text)
        assert _execute(other, "lamps").status_code == 401
