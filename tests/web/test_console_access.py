"""The console's access page over HTTP: rate limits, the password, the public key and the
sites that may embed a page, each form with good and bad input, CSRF and roles; no secret
value and no full key ever in a page."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OWNER_KEY, local_backend, owner_headers
from tests.web.test_console import EDITOR_KEY, VIEWER_KEY, add_documents, csrf, sign_in
from tests.web.test_console_pages import HOSTILE, inert

SECRET = "correct horse battery staple"


@pytest.fixture
def console(make_settings: Callable[..., Settings]) -> Iterator[TestClient]:
    keys = [f"{NAMESPACE}:{OWNER_KEY}", f"{NAMESPACE}:{VIEWER_KEY}@viewer"]
    keys.append(f"{NAMESPACE}:{EDITOR_KEY}@editor")
    with TestClient(create_app(make_settings(api_keys=keys)), raise_server_exceptions=False) as c:
        sign_in(c, OWNER_KEY)
        yield c


@pytest.fixture
def retriever(console: TestClient) -> dict[str, str]:
    """A published retriever: its id, its public key (as publishing gave it) and its path."""
    add_documents(console)
    made = console.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={
            "retriever_name": "products",
            "backend": {**local_backend(), "search_fields": ["title"]},
        },
    )
    retriever_id = made.json()["retriever_id"]
    config = {
        "title": "Products",
        "exposed_fields": ["title", "price"],
        "inputs": [{"field_name": "query", "label": "Search", "field_schema": {"type": "string"}}],
    }
    published = console.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"public_name": "product-search", "display_config": config},
    )
    assert published.status_code == 200, published.text
    key = published.json()["public_api_key"]
    return {"id": retriever_id, "key": key, "path": f"/console/retrievers/{retriever_id}/access"}


def post(client: TestClient, path: str, **fields: Any) -> Any:
    return client.post(path, data={"csrf": csrf(client), **fields}, follow_redirects=False)


def stored(client: TestClient, retriever_id: str) -> dict[str, Any]:
    answer = client.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers())
    body: dict[str, Any] = answer.json()
    return body


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error">([^<]*)</p>', html)
    assert found, f"no error beside {name}"
    return found[1]


def test_the_retrievers_list_leads_to_the_access_page(
    console: TestClient, retriever: dict[str, str]
) -> None:
    listing = console.get("/console/retrievers").text
    assert f'href="{retriever["path"]}"' in listing
    page = console.get(retriever["path"])
    assert page.status_code == 200
    assert "Rate limits" in page.text
    snippet = html.unescape(page.text)
    assert '/embed.js" data-retriever="product-search" async></script>' in snippet
    assert '/r/product-search/embed" title="Search"' in snippet
    assert retriever["key"] not in page.text
    assert console.get("/console/retrievers/ret_nope/access").status_code == 404


def test_an_unpublished_retriever_says_so(console: TestClient) -> None:
    add_documents(console)
    made = console.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "draft", "backend": local_backend()},
    ).json()
    path = f"/console/retrievers/{made['retriever_id']}/access"
    assert "not published yet" in console.get(path).text
    assert post(console, path, part="origins", origins="https://a.example").status_code == 404


def test_rate_limits_are_saved_and_bad_numbers_named_by_field(
    console: TestClient, retriever: dict[str, str]
) -> None:
    path = retriever["path"]
    saved = post(
        console,
        path,
        part="limits",
        enabled="on",
        tier="elevated",
        requests_per_minute="20",
        max_results_per_query="50",
        enable_ip_limits="on",
        max_requests_per_ip_hour="1,000",
    )
    assert saved.status_code == 303
    limits = stored(console, retriever["id"])["rate_limit_config"]
    assert limits["tier"] == "elevated"
    assert limits["requests_per_minute"] == 20
    assert limits["requests_per_hour"] is None
    assert limits["max_results_per_query"] == 50
    assert limits["enable_ip_limits"] is True
    assert limits["max_requests_per_ip_hour"] == 1000
    assert "Saved the rate limits." in console.get(saved.headers["location"]).text

    for field, value in [
        ("requests_per_minute", "ten"),
        ("requests_per_hour", "0"),
        ("requests_per_day", "-5"),
        ("max_results_per_query", "5000"),
        ("max_requests_per_ip_hour", "9" * 5000),
    ]:
        refused = post(console, path, part="limits", tier="standard", **{field: value})
        assert refused.status_code == 422, field
        assert field_error(refused.text, field), field
        assert f'id="{field}" name="{field}"' in refused.text
    refused = post(console, path, part="limits", tier="platinum")
    assert refused.status_code == 422
    assert "standard" in field_error(refused.text, "tier")
    assert stored(console, retriever["id"])["rate_limit_config"] == limits


def test_a_password_from_a_secret_by_name_and_cleared(
    console: TestClient, retriever: dict[str, str]
) -> None:
    path = retriever["path"]
    console.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "page-pw", "secret_value": SECRET},
    )
    missing = post(console, path, part="secret", secret_name="no-such-secret")
    assert missing.status_code == 422
    assert "does not exist" in field_error(missing.text, "secret_name")
    empty = post(console, path, part="secret", secret_name="  ")
    assert empty.status_code == 422
    assert field_error(empty.text, "secret_name")
    used = post(console, path, part="secret", secret_name="page-pw")
    assert used.status_code == 303
    assert stored(console, retriever["id"])["password_secret_name"] == "page-pw"
    page = console.get(used.headers["location"]).text
    assert "The page now asks for the password." in page
    assert "<code>page-pw</code>" in page
    assert SECRET not in page
    public = console.get("/v1/public/retrievers/product-search/config").json()
    assert public["password_protected"] is True
    cleared = post(console, path, part="clear-password")
    assert cleared.status_code == 303
    assert stored(console, retriever["id"])["password_protected"] is False


def test_a_typed_password_becomes_a_secret_never_shown(
    console: TestClient, retriever: dict[str, str]
) -> None:
    path = retriever["path"]
    for fields, where in [
        ({"new_secret_name": "bad name!", "password": SECRET}, "new_secret_name"),
        ({"new_secret_name": "pw", "password": ""}, "password"),
        ({"new_secret_name": "pw", "password": "line\nbreak"}, "password"),
        ({"new_secret_name": "pw", "password": "x" * 10_001}, "password"),
    ]:
        refused = post(console, path, part="password", **fields)
        assert refused.status_code == 422, fields
        assert field_error(refused.text, where), fields
        assert 'type="password"' in refused.text
        assert "line\nbreak" not in refused.text
    made = post(console, path, part="password", new_secret_name="pw", password=SECRET)
    assert made.status_code == 303
    assert stored(console, retriever["id"])["password_secret_name"] == "pw"
    verified = console.post(
        "/v1/public/retrievers/product-search/verify", json={"password": SECRET}
    )
    assert verified.json()["valid"] is True
    # The current password's secret gets a new value; another secret's name is refused.
    changed = post(console, path, part="password", new_secret_name="pw", password="new one")
    assert changed.status_code == 303
    verified = console.post(
        "/v1/public/retrievers/product-search/verify", json={"password": "new one"}
    )
    assert verified.json()["valid"] is True
    console.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "other", "secret_value": "other value"},
    )
    taken = post(console, path, part="password", new_secret_name="other", password=SECRET)
    assert taken.status_code == 422
    assert "exists already" in field_error(taken.text, "new_secret_name")
    for page in (console.get(path).text, taken.text, made.text):
        assert SECRET not in page
        assert "new one" not in page
        assert "other value" not in page


def test_framing_origins_are_checked_as_the_api_checks_them(
    console: TestClient, retriever: dict[str, str]
) -> None:
    path = retriever["path"]
    saved = post(
        console, path, part="origins", origins="https://shop.example\r\n\nhttp://localhost:*\n"
    )
    assert saved.status_code == 303
    config = stored(console, retriever["id"])["display_config"]
    assert config["extensions"]["frame_ancestors"] == ["https://shop.example", "http://localhost:*"]
    assert config["title"] == "Products"  # the rest of the page kept
    page = console.get("/r/product-search")
    assert (
        "frame-ancestors 'self' https://shop.example http://localhost:*"
        in (page.headers["content-security-policy"])
    )
    for typed in ("javascript:alert(1)", "shop.example", "https://a.example/path"):
        refused = post(console, path, part="origins", origins=typed)
        assert refused.status_code == 422, typed
        assert "is not an origin" in field_error(refused.text, "frame_ancestors")
    many = "\n".join(f"https://s{n}.example" for n in range(21))
    refused = post(console, path, part="origins", origins=many)
    assert "at most 20" in field_error(refused.text, "frame_ancestors")
    cleared = post(console, path, part="origins", origins="")
    assert cleared.status_code == 303
    assert "frame_ancestors" not in stored(console, retriever["id"])["display_config"].get(
        "extensions", {}
    )


def test_rotating_the_key_shows_the_new_one_once(
    console: TestClient, retriever: dict[str, str]
) -> None:
    path = retriever["path"]
    confirm = console.get(path + "/rotate-key")
    assert confirm.status_code == 200
    assert "stops working at once" in confirm.text
    rotated = post(console, path + "/rotate-key")
    assert rotated.status_code == 200
    new_key = re.search(r'id="new-key" class="mono" readonly value="(prk_[^"]+)"', rotated.text)
    assert new_key
    assert retriever["key"] not in rotated.text
    assert stored(console, retriever["id"])["public_api_key"] == new_key[1]
    run = "/v1/public/retrievers/product-search/execute"
    body = {"inputs": {"query": "lamp"}}
    old = console.post(run, json=body, headers={"X-Public-API-Key": retriever["key"]})
    assert old.status_code == 403
    new = console.post(run, json=body, headers={"X-Public-API-Key": new_key[1]})
    assert new.status_code == 200
    assert new_key[1] not in console.get(path).text  # shown once


def test_forms_without_their_token_are_refused(
    console: TestClient, retriever: dict[str, str]
) -> None:
    path = retriever["path"]
    for target, fields in [
        (path, {"part": "origins", "origins": "https://a.example"}),
        (path, {"part": "clear-password"}),
        (path + "/rotate-key", {}),
    ]:
        refused = console.post(target, data={"csrf": "forged", **fields})
        assert refused.status_code == 403
    assert stored(console, retriever["id"])["public_api_key"] == retriever["key"]
    assert post(console, path, part="nothing").status_code == 422


def test_a_viewer_reads_and_an_editor_may_not_touch_secrets_or_keys(
    console: TestClient, retriever: dict[str, str]
) -> None:
    path = retriever["path"]
    sign_in(console, VIEWER_KEY)
    page = console.get(path).text
    assert "Save the limits" not in page
    assert "Rotate the key" not in page
    for fields in ({"part": "limits", "tier": "unlimited"}, {"part": "clear-password"}):
        assert post(console, path, **fields).status_code == 403
    assert post(console, path + "/rotate-key").status_code == 403

    sign_in(console, EDITOR_KEY)
    page = console.get(path).text
    assert "Save the limits" in page
    assert "Rotate the key" not in page
    assert 'name="password"' not in page
    assert post(console, path, part="limits", tier="unlimited").status_code == 303
    refused = post(console, path, part="password", new_secret_name="pw", password=SECRET)
    assert refused.status_code == 403
    assert "owner" in refused.text
    assert console.get(path + "/rotate-key").status_code == 403
    assert post(console, path + "/rotate-key").status_code == 403
    assert stored(console, retriever["id"])["public_api_key"] == retriever["key"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_values_are_shown_inert(
    console: TestClient, retriever: dict[str, str], hostile: str
) -> None:
    path = retriever["path"]
    for fields in (
        {"part": "origins", "origins": hostile},
        {"part": "secret", "secret_name": hostile},
        {"part": "password", "new_secret_name": hostile, "password": hostile},
        {"part": "limits", "tier": hostile, "requests_per_minute": hostile},
    ):
        answer = post(console, path, **fields)
        assert answer.status_code in (303, 422), fields
        inert(answer.text)
