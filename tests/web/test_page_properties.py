"""Hypothesis: whatever text a publisher puts in a config, and whatever a result holds, the
rendered page carries no markup that runs."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from app.web.assets import asset_url
from tests.helpers import NAMESPACE, OWNER_KEY, local_backend, owner_headers

NASTY = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "javascript:alert(1)",
        "</style><script>x()</script>",
        "<svg onload=alert(1)>",
        "{{ 7*7 }}",
        "{% raw %}",
        "[x](javascript:alert(1))",
        "<iframe src=//evil>",
        "' onmouseover='alert(1)",
    ]
)
TEXT = st.one_of(NASTY, st.text(min_size=1, max_size=60))
VALUE = st.one_of(
    NASTY,
    st.text(max_size=80),
    st.integers(),
    st.booleans(),
    st.lists(NASTY, max_size=3),
    st.dictionaries(TEXT, NASTY, max_size=2),
)

app = create_app(
    Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="retriever-pages-props-")),
        api_keys=[f"{NAMESPACE}:{OWNER_KEY}"],
    )
)
client = TestClient(app)
client.__enter__()
RID = client.post(
    "/v1/retrievers",
    headers=owner_headers(),
    json={"retriever_name": "props", "backend": local_backend()},
).json()["retriever_id"]
OURS = {f'<script src="{asset_url(name)}" defer></script>' for name in ("app.js", "typeahead.js")}


def _config(title: str, label: str, helper: str, chip: str, panel: str, cta: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": helper,
        "inputs": [
            {
                "field_name": "query",
                "label": label,
                "required": False,
                "placeholder": chip,
                "helper_text": helper,
                "suggestions": [chip],
                "field_schema": {"type": "string", "description": helper},
            }
        ],
        "exposed_fields": ["title", "description", "body", "link"],
        "field_config": {"link": {"format": "url", "format_options": {"label": label}}},
        "markdowns": [{"title": title, "content": panel}],
        "custom_cta": {"label": cta[:50], "markdown_content": panel},
        "external_links": [{"name": label[:100], "url": "https://example.com/a"}],
        "seo": {"meta_title": title[:60], "meta_description": helper[:160]},
    }


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[TestClient, str]]:
    settings_ = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="retriever-pages-props-")),
        api_keys=[f"{NAMESPACE}:{OWNER_KEY}"],
    )
    with TestClient(create_app(settings_)) as client:
        rid = client.post(
            "/v1/retrievers",
            headers=owner_headers(),
            json={"retriever_name": "props", "backend": local_backend()},
        ).json()["retriever_id"]
        yield client, rid


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    title=TEXT,
    label=TEXT,
    helper=TEXT,
    chip=TEXT,
    panel=TEXT,
    cta=TEXT,
    values=st.lists(st.tuples(VALUE, VALUE), min_size=1, max_size=3),
)
def test_no_config_and_no_result_makes_markup_that_runs(
    site: tuple[TestClient, str],
    title: str,
    label: str,
    helper: str,
    chip: str,
    panel: str,
    cta: str,
    values: list[tuple[Any, Any]],
) -> None:
    client, rid = site
    documents = [
        {"document_id": f"d{n}", "title": f"item {n} {first}", "body": second, "link": first}
        for n, (first, second) in enumerate(values)
    ]
    client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": documents}
    )
    config = _config(title, label, helper, chip, panel, cta)
    published = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "props",
            "display_config": config,
            "rate_limit_config": {"tier": "unlimited"},
        },
    )
    if published.status_code == 409:
        published = client.patch(
            f"/v1/retrievers/{rid}/publish",
            headers=owner_headers(),
            json={"display_config": config},
        )
    assert published.status_code == 200, published.text
    html = client.get("/r/props?query=item").text
    tags = re.findall(r"<[a-zA-Z][^>]*>", html)
    scripts = [tag for tag in tags if tag.lower().startswith("<script")]
    assert all(tag + "</script>" in OURS for tag in scripts), scripts
    for tag in tags:
        lowered = tag.lower()
        # Quoted values are data (their quotes are escaped); only names and URLs can run.
        attributes = re.findall(r'\s([a-z][a-z0-9-]*)\s*=\s*"([^"]*)"', lowered)
        bare = re.sub(r'"[^"]*"', '""', lowered)
        assert not re.search(r"\son[a-z]+\s*=", bare), tag
        for name, value in attributes:
            assert not name.startswith("on"), tag
            if name in ("href", "src", "action", "formaction"):
                assert not value.strip().startswith(("javascript", "vbscript", "data:text")), tag
        assert not lowered.startswith(("<iframe", "<svg", "<object", "<embed")), tag
    assert html.count("</style>") == 1  # the theme's own block, never closed early
