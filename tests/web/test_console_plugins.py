"""The console's plugins page over HTTP: what is installed, the marketplace's listings,
installing with one click (and under another tag when the listing's is taken),
uninstalling, CSRF and roles, and hostile listings shown inert."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OTHER_KEY, OTHER_NAMESPACE, OWNER_KEY, owner_headers
from tests.web.test_console import EDITOR_KEY, VIEWER_KEY, csrf, sign_in
from tests.web.test_console_pages import HOSTILE, inert

STARS = "<!doctype html><p id=stars></p><script>/* draws stars */</script>"


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    keys = [
        f"{NAMESPACE}:{OWNER_KEY}",
        f"{NAMESPACE}:{VIEWER_KEY}@viewer",
        f"{NAMESPACE}:{EDITOR_KEY}@editor",
        f"{OTHER_NAMESPACE}:{OTHER_KEY}",
    ]
    with TestClient(create_app(make_settings(api_keys=keys)), raise_server_exceptions=False) as c:
        sign_in(c, OWNER_KEY)
        yield c


def listed(
    client: TestClient,
    tag: str = "star-rating",
    description: str = "Stars out of five, to the half.",
    **fields: Any,
) -> None:
    """A plugin made and listed in the marketplace by another namespace."""
    other = owner_headers(OTHER_KEY, OTHER_NAMESPACE)
    body = {"tag": tag, "name": "Star rating", "blob": STARS, "version": "2.1.0"}
    made = client.post("/v1/plugins", headers=other, json={**body, **fields})
    assert made.status_code == 201, made.text
    listing = {"public_name": tag, "description": description}
    published = client.post(f"/v1/plugins/{tag}/publish", headers=other, json=listing)
    assert published.status_code == 201, published.text


def install(client: TestClient, public_name: str, **fields: str) -> Any:
    data = {"csrf": csrf(client), "public_name": public_name, **fields}
    return client.post("/console/plugins/install", data=data, follow_redirects=False)


def installed_tags(client: TestClient) -> set[str]:
    answer = client.get("/v1/plugins", headers=owner_headers()).json()
    return {plugin["tag"] for plugin in answer["plugins"]}


def test_a_listing_is_shown_as_the_marketplace_shows_it_and_installed(
    console: TestClient,
) -> None:
    listed(console)
    page = console.get("/console/plugins").text
    assert 'href="/console/plugins" aria-current="page"' in page
    assert "No plugins in this namespace yet." in page
    assert "Star rating" in page
    assert "Version 2.1.0" in page
    assert "Stars out of five, to the half." in page
    done = install(console, "star-rating")
    assert done.status_code == 303
    assert installed_tags(console) == {"star-rating"}
    page = console.get(done.headers["location"]).text
    assert "Installed the plugin star-rating." in page
    assert "<code>star-rating</code>" in page
    assert '<span class="badge badge--ok">Installed</span>' in page
    again = install(console, "star-rating")
    assert again.status_code == 409
    assert "installed in this namespace already" in again.text


def test_a_tag_taken_asks_for_another_beside_the_listing(console: TestClient) -> None:
    listed(console)
    mine = {"tag": "star-rating", "name": "My stars", "blob": STARS}
    console.post("/v1/plugins", headers=owner_headers(), json=mine)
    taken = install(console, "star-rating")
    assert taken.status_code == 409
    assert 'id="tag-error"' in taken.text
    assert 'aria-invalid="true"' in taken.text
    bad = install(console, "star-rating", tag="Not a tag!")
    assert bad.status_code == 422
    assert 'id="tag-error"' in bad.text
    done = install(console, "star-rating", tag="listed-stars")
    assert done.status_code == 303
    assert installed_tags(console) == {"star-rating", "listed-stars"}


def test_a_listing_that_is_not_there_is_refused_by_name(console: TestClient) -> None:
    for name in ("nope-nope", "", "<script>x</script>"):
        refused = install(console, name)
        assert refused.status_code in (404, 422), name
        assert 'class="field-error"' in refused.text or "alert" in refused.text
    assert installed_tags(console) == set()


def test_uninstalling_asks_first_and_needs_the_owner(console: TestClient) -> None:
    listed(console)
    install(console, "star-rating")
    path = "/console/plugins/star-rating/uninstall"
    confirm = console.get(path)
    assert confirm.status_code == 200
    assert "Uninstall Star rating?" in confirm.text
    assert console.post(path, data={"csrf": "forged"}).status_code == 403
    assert installed_tags(console) == {"star-rating"}
    done = console.post(path, data={"csrf": csrf(console)}, follow_redirects=False)
    assert done.status_code == 303
    assert installed_tags(console) == set()
    assert console.get(path).status_code == 404
    # Installed again, as if for the first time.
    assert install(console, "star-rating").status_code == 303


def test_a_plugin_in_use_is_not_uninstalled(console: TestClient) -> None:
    listed(console)
    install(console, "star-rating")
    headers = owner_headers()
    console.post(
        "/v1/collections/products/documents",
        headers=headers,
        json={"documents": [{"document_id": "1", "title": "Lamp", "rating": 4}]},
    )
    made = console.post(
        "/v1/retrievers",
        headers=headers,
        json={
            "retriever_name": "rated",
            "backend": {"type": "local", "collection": "products", "search_fields": ["title"]},
        },
    ).json()
    config = {
        "title": "Rated",
        "exposed_fields": ["title", "rating"],
        "inputs": [{"field_name": "query", "label": "Search", "field_schema": {"type": "string"}}],
        "field_config": {
            "rating": {"format": "plugin", "format_options": {"plugin": "star-rating"}}
        },
    }
    published = console.post(
        f"/v1/retrievers/{made['retriever_id']}/publish",
        headers=headers,
        json={"public_name": "rated", "display_config": config},
    )
    assert published.status_code == 200, published.text
    path = "/console/plugins/star-rating/uninstall"
    refused = console.post(path, data={"csrf": csrf(console)})
    assert refused.status_code == 409
    assert "rated" in refused.text
    assert installed_tags(console) == {"star-rating"}


def test_roles_viewer_reads_editor_installs_owner_uninstalls(console: TestClient) -> None:
    listed(console)
    sign_in(console, VIEWER_KEY)
    page = console.get("/console/plugins").text
    assert "Star rating" in page
    assert "/console/plugins/install" not in page
    assert install(console, "star-rating").status_code == 403
    sign_in(console, EDITOR_KEY)
    assert "/console/plugins/install" in console.get("/console/plugins").text
    assert install(console, "star-rating").status_code == 303
    page = console.get("/console/plugins").text
    assert "/uninstall" not in page
    assert console.get("/console/plugins/star-rating/uninstall").status_code == 403
    refused = console.post("/console/plugins/star-rating/uninstall", data={"csrf": csrf(console)})
    assert refused.status_code == 403
    assert installed_tags(console) == {"star-rating"}


def test_the_marketplace_is_searched_and_bad_queries_refused(console: TestClient) -> None:
    listed(console)
    listed(console, "price-chart", "A line of prices over time.", name="Price chart")
    assert "Price chart" not in console.get("/console/plugins?q=stars").text
    assert "Price chart" in console.get("/console/plugins?q=chart").text
    assert console.get("/console/plugins?page=-1").status_code == 422
    assert console.get("/console/plugins?page=" + "9" * 5000).status_code == 422
    assert console.get("/console/plugins?q=" + "x" * 5000).status_code == 422


def test_a_hostile_listing_is_inert(console: TestClient) -> None:
    listed(
        console,
        "hostile",
        "<script>alert(1)</script> {{ 7*7 }}",
        name='"><img src=x onerror=alert(1)>',
    )
    page = console.get("/console/plugins?q=" + "<script>")
    inert(page.text)
    install(console, "hostile")
    inert(console.get("/console/plugins").text)
    inert(console.get("/console/plugins/hostile/uninstall").text)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_tag_is_refused_beside_its_listing_and_inert(
    console: TestClient, hostile: str
) -> None:
    listed(console)
    console.post(
        "/v1/plugins",
        headers=owner_headers(),
        json={"tag": "star-rating", "name": "Mine", "blob": STARS},
    )
    refused = install(console, "star-rating", tag=hostile)
    assert refused.status_code in (409, 422)
    assert 'id="tag-error"' in refused.text
    inert(refused.text)
