"""Bad input: each gets a clear 4xx naming the field, and leaves stored data as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import display_config, local_backend, owner_headers


@pytest.fixture
def unchanged(client: TestClient, published: dict[str, Any], retriever_id: str) -> Iterator[str]:
    """Yields the publish URL; afterwards checks the published retriever did not change."""
    url = f"/v1/retrievers/{retriever_id}/publish"
    before = client.get(url, headers=owner_headers()).json()
    yield url
    after = client.get(url, headers=owner_headers()).json()
    assert after == before


def _error(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is False
    assert body["status"] == status
    assert set(body["error"]) >= {"message", "type", "details"}
    assert "Traceback" not in response.text
    return body["error"]


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"is_active": tru}', b"\xff\xfe", b'{"a": 1} trailing', b"NaN", b"'single'"],
)
def test_malformed_json(client: TestClient, unchanged: str, raw: bytes) -> None:
    error = _error(client.patch(unchanged, headers=owner_headers(), content=raw))
    assert error["type"] in ("invalid_json", "validation_error")
    assert "JSON" in error["message"] or "object" in error["message"]


@pytest.mark.parametrize("raw", [b"[]", b"42", b'"text"', b"null"])
def test_a_body_that_is_not_an_object(client: TestClient, unchanged: str, raw: bytes) -> None:
    error = _error(client.patch(unchanged, headers=owner_headers(), content=raw))
    assert "body" in error["message"]


def test_an_empty_body(client: TestClient, unchanged: str) -> None:
    error = _error(client.patch(unchanged, headers=owner_headers(), content=b""))
    assert "empty" in error["message"]


def test_a_body_that_is_not_json_at_all(client: TestClient, unchanged: str) -> None:
    response = client.patch(
        unchanged, headers={**owner_headers(), "Content-Type": "text/plain"}, content=b"is_active=1"
    )
    assert _error(response, 415)["message"].startswith("Send the body as JSON")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"is_active": "yes"}, "is_active"),
        ({"is_active": 1}, "is_active"),
        ({"tags": "one"}, "tags"),
        ({"tags": [1, 2]}, "tags[0]"),
        ({"rate_limit_config": {"tier": "gold"}}, "rate_limit_config.tier"),
        (
            {"rate_limit_config": {"max_results_per_query": 0}},
            "rate_limit_config.max_results_per_query",
        ),
        (
            {"rate_limit_config": {"max_results_per_query": 1001}},
            "rate_limit_config.max_results_per_query",
        ),
        (
            {"rate_limit_config": {"requests_per_minute": "10"}},
            "rate_limit_config.requests_per_minute",
        ),
        ({"rate_limit_config": "standard"}, "rate_limit_config"),
        ({"display_config": {"title": "x"}}, "display_config.inputs"),
        ({"display_config": display_config(inputs=[])}, "display_config.inputs"),
        ({"display_config": display_config(exposed_fields=[])}, "display_config.exposed_fields"),
        ({"display_config": display_config(title=7)}, "display_config.title"),
        (
            {"display_config": display_config(layout={"columns": 9})},
            "display_config.layout.columns",
        ),
        (
            {"display_config": display_config(layout={"gap": "1px;color:red"})},
            "display_config.layout.gap",
        ),
        ({"category": "x" * 51}, "category"),
    ],
)
def test_wrong_types_and_values_name_the_field(
    client: TestClient, unchanged: str, body: dict[str, Any], field: str
) -> None:
    error = _error(client.patch(unchanged, headers=owner_headers(), json=body))
    fields = [e["field"] for e in error["details"]["errors"]]
    assert field in fields, fields
    assert field in error["message"]


def test_a_display_config_without_inputs_or_exposed_fields(
    client: TestClient, unchanged: str
) -> None:
    config = display_config()
    del config["inputs"]
    del config["exposed_fields"]
    error = _error(
        client.patch(unchanged, headers=owner_headers(), json={"display_config": config})
    )
    fields = {e["field"] for e in error["details"]["errors"]}
    assert fields == {"display_config.inputs", "display_config.exposed_fields"}
    assert all(e["message"] == "Field required" for e in error["details"]["errors"])


@pytest.mark.parametrize(
    ("theme", "field"),
    [
        ({"primary_color": "red;}</style><script>alert(1)</script>"}, "primary_color"),
        ({"primary_color": "expression(alert(1))"}, "primary_color"),
        ({"background_color": "#fff;background:url(javascript:alert(1))"}, "background_color"),
        ({"text_color": "#12345"}, "text_color"),
        ({"font_family": "Inter; } body { display:none"}, "font_family"),
        ({"font_family": "Inter</style><script>x()</script>"}, "font_family"),
        ({"font_family": "'Inter"}, "font_family"),
        ({"font_family": "url(https://evil.example/x.woff)"}, "font_family"),
        ({"heading_font_family": 'a\\"b'}, "heading_font_family"),
        ({"border_radius": "12px;position:fixed"}, "border_radius"),
        ({"border_radius": "calc(100% - var(--x))"}, "border_radius"),
        ({"card_style": "neon"}, "card_style"),
        ({"card_hover_effect": "spin"}, "card_hover_effect"),
    ],
)
def test_hostile_theme_values_are_refused(
    client: TestClient, unchanged: str, theme: dict[str, str], field: str
) -> None:
    body = {"display_config": display_config(theme=theme)}
    error = _error(client.patch(unchanged, headers=owner_headers(), json=body))
    assert f"display_config.theme.{field}" in error["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"logo_url": "javascript:alert(1)"}, "display_config.logo_url"),
        ({"logo_url": " javascript:alert(1)"}, "display_config.logo_url"),
        ({"logo_url": "//evil.example/logo.png"}, "display_config.logo_url"),
        ({"logo_url": "data:text/html;base64,PHNjcmlwdD4="}, "display_config.logo_url"),
        (
            {"external_links": [{"name": "x", "url": "javascript:alert(1)"}]},
            "display_config.external_links[0].url",
        ),
        (
            {"external_links": [{"name": "x", "url": "vbscript:msgbox"}]},
            "display_config.external_links[0].url",
        ),
        ({"seo": {"canonical_url": "data:text/html,hi"}}, "display_config.seo.canonical_url"),
        ({"icon_base64": "<svg onload=alert(1)>"}, "display_config.icon_base64"),
        (
            {"components": {"result_card": {"thumbnail_aspect_ratio": "16/9;x:y"}}},
            "display_config.components.result_card.thumbnail_aspect_ratio",
        ),
        (
            {"field_config": {"price": {"format": "html"}}},
            "display_config.field_config.price.format",
        ),
    ],
)
def test_hostile_urls_and_formats_are_refused(
    client: TestClient, unchanged: str, overrides: dict[str, Any], field: str
) -> None:
    body = {"display_config": display_config(**overrides)}
    error = _error(client.patch(unchanged, headers=owner_headers(), json=body))
    assert field in error["message"]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"field_config": {"secret_cost": {"format": "number"}}}, "field_config names secret_cost"),
        (
            {"components": {"result_card": {"field_order": ["title", "internal_notes"]}}},
            "field_order names internal_notes",
        ),
        ({"components": {"result_card": {"title_field": "sku"}}}, "title_field names sku"),
        ({"exposed_fields": ["title", "title"]}, "twice"),
        ({"inputs": display_config()["inputs"] * 2}, "share a field_name"),
    ],
)
def test_only_exposed_fields_may_be_configured(
    client: TestClient, unchanged: str, overrides: dict[str, Any], words: str
) -> None:
    body = {"display_config": display_config(**overrides)}
    assert words in _error(client.patch(unchanged, headers=owner_headers(), json=body))["message"]


def test_a_missing_password_secret_changes_nothing(client: TestClient, unchanged: str) -> None:
    response = client.patch(
        unchanged,
        headers=owner_headers(),
        json={"password_secret_name": "no-such-secret", "is_active": False, "tags": ["lost"]},
    )
    error = _error(response)
    assert "password_secret_name" in error["message"]
    assert "no-such-secret" in error["message"]


def test_a_rejected_publish_stores_nothing(client: TestClient, retriever_id: str) -> None:
    url = f"/v1/retrievers/{retriever_id}/publish"
    response = client.post(
        url,
        headers=owner_headers(),
        json={
            "public_name": "good-name",
            "display_config": display_config(),
            "password_secret_name": "absent",
        },
    )
    _error(response)
    assert client.get(url, headers=owner_headers()).status_code == 404
    availability = client.get(f"{url}/availability?name=good-name", headers=owner_headers()).json()
    assert availability["available"] is True


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 51,
        "-leading",
        "trailing-",
        "Upper",
        "under_score",
        "spa ce",
        "dot.name",
        "<script>",
        "ünïcode",
        "",
    ],
)
def test_bad_public_names(client: TestClient, retriever_id: str, name: str) -> None:
    response = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"public_name": name, "display_config": display_config()},
    )
    error = _error(response)
    assert "public_name" in error["message"]


def test_oversized_bodies_are_refused_unread(client: TestClient, unchanged: str) -> None:
    huge = b'{"tags": ["' + b"x" * (3 * 1024 * 1024) + b'"]}'
    error = _error(client.patch(unchanged, headers=owner_headers(), content=huge), 413)
    assert "larger than the limit" in error["message"]


def test_oversized_chunked_bodies_are_refused(client: TestClient, unchanged: str) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"tags": ["'
        for _ in range(40):
            yield b"y" * 100_000
        yield b'"]}'

    response = client.patch(unchanged, headers=owner_headers(), content=chunks())
    _error(response, 413)


def test_oversized_markdown_is_refused(client: TestClient, unchanged: str) -> None:
    config = display_config(markdowns=[{"title": "Big", "content": "x" * 50_001}])
    error = _error(
        client.patch(unchanged, headers=owner_headers(), json={"display_config": config})
    )
    assert "display_config.markdowns[0].content" in error["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"retriever_name": "x"}, "backend"),
        ({"retriever_name": "x", "backend": {"type": "elastic"}}, "backend"),
        (
            {
                "retriever_name": "x",
                "backend": {"type": "local", "collection": "Bad Name", "search_fields": ["t"]},
            },
            "backend.local.collection",
        ),
        (
            {
                "retriever_name": "x",
                "backend": {"type": "local", "collection": "c", "search_fields": []},
            },
            "backend.local.search_fields",
        ),
        ({"retriever_name": "", "backend": local_backend()}, "retriever_name"),
        ({"retriever_name": ["x"], "backend": local_backend()}, "retriever_name"),
        (
            {
                "retriever_name": "x",
                "backend": {
                    "type": "mixpeek",
                    "base_url": "file:///etc/passwd",
                    "retriever_id": "r",
                    "namespace": "n",
                    "api_key_secret_name": "k",
                },
            },
            "backend.mixpeek.base_url",
        ),
    ],
)
def test_bad_retriever_registrations(client: TestClient, body: dict[str, Any], field: str) -> None:
    error = _error(client.post("/v1/retrievers", headers=owner_headers(), json=body))
    assert field in error["message"]
    assert client.get("/v1/retrievers", headers=owner_headers()).json()["total"] == 0


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=ten", "offset=-1", "page=0", "page_size=1000"]
)
def test_bad_paging_parameters(client: TestClient, query: str) -> None:
    error = _error(client.get(f"/v1/retrievers?{query}", headers=owner_headers()))
    assert query.split("=")[0] in error["message"]


def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    assert _error(client.get("/v1/nothing-here"), 404)["type"] == "not_found"
    assert _error(client.put("/v1/retrievers", headers=owner_headers()), 405)["type"] == (
        "method_not_allowed"
    )


def test_hostile_strings_are_stored_as_data(
    client: TestClient, published: dict[str, Any], retriever_id: str
) -> None:
    """Text fields may hold anything; they are data, escaped wherever they are shown."""
    hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"
    config = display_config(title=hostile, description=hostile)
    url = f"/v1/retrievers/{retriever_id}/publish"
    response = client.patch(url, headers=owner_headers(), json={"display_config": config})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert client.get(url, headers=owner_headers()).json()["display_config"]["title"] == hostile


def test_a_query_parameter_a_call_does_not_take_is_named(client: TestClient) -> None:
    # A misspelt `limit` would otherwise be accepted and ignored.
    listed = client.get("/v1/retrievers?limt=5", headers=owner_headers())
    assert listed.status_code == 422
    assert listed.json()["error"]["message"] == (
        "'limt' is not a query parameter of this call; it takes limit, offset, page, page_size."
    )
    assert listed.json()["error"]["details"]["errors"][0]["field"] == "limt"
    typeahead = client.get("/v1/public/retrievers/nobody/typeahead?q=la&\x82=b")
    assert typeahead.status_code == 422
    assert "it takes q, limit" in typeahead.text
    assert client.get("/v1/retrievers?limit=5", headers=owner_headers()).status_code == 200
