"""The OpenAPI document: complete, served, readable, and fuzzed whole with Schemathesis."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import positive_data_acceptance
from starlette.routing import Route
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OWNER_KEY, display_config, local_backend, owner_headers


def test_every_api_route_is_documented(client: TestClient) -> None:
    served = {
        (method.lower(), route.path)
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.path.startswith("/v1/")
        for method in (route.methods or ()) - {"HEAD"}
    }
    spec = client.get("/openapi.json").json()
    documented = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert served == documented
    assert spec["openapi"] == "3.1.0"
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert {"200", "201", "204"} & set(op["responses"]), (method, path)
            assert op["summary"]


def test_the_document_and_the_reference_page_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.json()["paths"]["/v1/public/retrievers/{public_name}/execute"]["post"]
    page = client.get("/docs")
    assert page.status_code == 200
    assert "POST /v1/public/retrievers/{public_name}/execute" in page.text
    assert "cdn" not in page.text.lower()  # local assets only


def _fuzzed_app():  # type: ignore[no-untyped-def]
    """An app with data to find: a published retriever over a few documents."""
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="retriever-pages-fuzz-")),
        api_keys=[f"{NAMESPACE}:{OWNER_KEY}"],
        # Generated bodies can pass 2 MiB; the 413 they would get is right, but Schemathesis
        # counts only 4xx like 422 as rejections. The body limit has tests of its own.
        max_body_bytes=64 * 1024 * 1024,
    )
    app = create_app(settings)
    with TestClient(app) as client:
        client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": [{"document_id": "1", "title": "Lamp"}]},
        )
        rid = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "fuzz", "backend": local_backend()},
        ).json()["retriever_id"]
        client.post(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={
                "public_name": "fuzz",
                "display_config": display_config(),
                "rate_limit_config": {"tier": "unlimited"},
            },
        )
        # One input of every field_schema type, so that fuzzed queries meet each check.
        every = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "every-type", "backend": local_backend()},
        ).json()["retriever_id"]
        client.post(
            f"/v1/retrievers/{every}/publish",
            headers=owner_headers(),
            json={
                "public_name": EVERY_TYPE,
                "display_config": display_config(inputs=EVERY_INPUT, components=None),
                "rate_limit_config": {"tier": "unlimited"},
            },
        )
    app.state.services.store.migrate()
    return app


EVERY_TYPE = "every-type"
TYPES = [
    "string", "number", "integer", "float", "boolean", "object", "array", "date", "datetime",
    "text", "image", "audio", "video", "pdf", "excel", "document_reference",
]  # fmt: skip
EVERY_INPUT = [
    {"field_name": kind, "label": kind, "required": False, "field_schema": {"type": kind}}
    for kind in TYPES
] + [
    {"field_name": "query", "label": "Q", "required": False, "field_schema": {"type": "string"}},
    {
        "field_name": "choice",
        "label": "C",
        "required": False,
        "field_schema": {"type": "string", "enum": ["a", "b"]},
    },
    {
        "field_name": "tags",
        "label": "T",
        "required": False,
        "field_schema": {"type": "array", "items": {"type": "integer"}},
    },
]


FUZZED = _fuzzed_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", FUZZED)


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_against_its_document(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {OWNER_KEY}"})


@schema.include(path_regex="^/v1/public/retrievers/[{]public_name[}]/").parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_public_api_of_a_retriever_with_every_input_type(case: schemathesis.Case) -> None:
    case.path_parameters = {**(case.path_parameters or {}), "public_name": EVERY_TYPE}
    # The document types `inputs` as any object; which names and types one retriever takes is
    # its display config's to say, so a schema-valid body may rightly get 422 here.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(inputs=st.dictionaries(st.sampled_from([*TYPES, "query", "choice", "tags"]), JSON))
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_of_any_type_makes_a_500(inputs: dict[str, Any]) -> None:
    with TestClient(FUZZED, raise_server_exceptions=False) as client:
        response = client.post(
            f"/v1/public/retrievers/{EVERY_TYPE}/execute", json={"inputs": inputs}
        )
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        assert response.json()["error"]["details"]["errors"][0]["field"].startswith("inputs.")


def test_a_field_format_is_one_the_app_registered(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    formats = [schema["properties"]["format"] for name, schema in schemas.items()
               if name.startswith("FieldConfig")]  # fmt: skip
    assert formats
    for fmt in formats:
        named, unset = fmt["anyOf"]  # a format of the registry, or none: chosen from the values
        assert named["enum"] == client.app.state.services.renderers.names()  # type: ignore[attr-defined]
        assert unset == {"type": "null"}
