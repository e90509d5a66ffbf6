"""The public query protocol (`services/query.py`), asked directly: the retriever is set up
through the owner API, and everything under test goes through `PublicQuery` itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient

from app.errors import InvalidInput, NotFound, TooManyRequests
from app.schemas.public import ExecuteRequest, OffsetPagination
from app.services.access import Caller
from app.services.query import PublicQuery, words_kept
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import browse_config, display_config, local_backend, owner_headers

DOCUMENTS = [
    {"document_id": "a", "title": "Desk lamp", "description": "Warm light", "secret": "x1"},
    {"document_id": "b", "title": "Floor lamp", "description": "Tall and warm", "secret": "x2"},
    {"document_id": "c", "title": "Oak desk", "description": "Solid oak", "secret": "x3"},
]
CALLER = Caller(ip="192.0.2.7")


@pytest.fixture
def site(settings: Settings) -> Iterator[tuple[TestClient, PublicQuery]]:
    with TestClient(create_app(settings)) as client:
        added = client.post(
            "/v1/collections/products/documents",
            headers=owner_headers(),
            json={"documents": DOCUMENTS},
        )
        assert added.status_code == 200, added.text
        yield client, client.app.state.services.query  # type: ignore[attr-defined]


def publish(client: TestClient, config: dict[str, Any], **rate: Any) -> None:
    rid = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "shop", "backend": local_backend()},
    ).json()["retriever_id"]
    published = client.post(
        f"/v1/retrievers/{rid}/publish",
        headers=owner_headers(),
        json={
            "public_name": "shop",
            "display_config": config,
            "rate_limit_config": rate or {"tier": "unlimited"},
        },
    )
    assert published.status_code == 200, published.text


def plain(exposed: list[str]) -> dict[str, Any]:
    """A display config over these fields, its one input (the query) optional."""
    return browse_config(exposed_fields=exposed, field_config={}, components={})


def run(query: PublicQuery, request: ExecuteRequest | bytes, **options: Any) -> Any:
    async def go() -> Any:
        retriever = await query.open("shop", CALLER)
        return await query.run(retriever, CALLER, request, **options)

    return anyio.run(go)


def ids(answer: Any) -> list[str]:
    return [document["document_id"] for document in answer.body["documents"]]


def test_a_search_answers_only_exposed_fields(site: tuple[TestClient, PublicQuery]) -> None:
    client, query = site
    publish(client, plain(["title", "description"]))
    answer = run(query, ExecuteRequest(inputs={"query": "lamp"}))
    assert ids(answer) == ["a", "b"]
    keys = {key for doc in answer.body["documents"] for key in doc}
    assert keys <= {"document_id", "score", "title", "description", "highlights"}
    assert "secret" not in keys
    assert answer.body["pagination"]["total"] == 2


def test_the_raw_body_is_parsed_and_checked_by_field(site: tuple[TestClient, PublicQuery]) -> None:
    client, query = site
    publish(client, plain(["title", "description"]))
    assert ids(run(query, b'{"inputs": {"query": "oak"}}')) == ["c"]
    with pytest.raises(InvalidInput) as refused:
        run(query, b'{"inputs": {"colour": "red"}}')
    assert refused.value.details["errors"][0]["field"] == "inputs.colour"


def test_a_page_is_never_larger_than_the_retrievers_maximum(
    site: tuple[TestClient, PublicQuery],
) -> None:
    client, query = site
    publish(client, plain(["title", "description"]))
    retriever = anyio.run(query.catalog.lookup, "shop")
    most = retriever.rate_limit.max_results_per_query
    asked = ExecuteRequest(pagination=OffsetPagination(page_number=1, page_size=most + 50))
    assert run(query, asked).body["pagination"]["page_size"] == most


def test_a_search_counts_once_and_a_further_read_not_at_all(
    site: tuple[TestClient, PublicQuery],
) -> None:
    client, query = site
    publish(
        client,
        plain(["title", "description"]),
        tier="standard",
        requests_per_minute=2,
    )
    first = run(query, ExecuteRequest())
    assert first.headers["RateLimit-Policy"] == '"minute";q=2;w=60'
    for _ in range(5):
        run(query, ExecuteRequest(), counted=False)  # the page's own further reads
    run(query, ExecuteRequest())
    with pytest.raises(TooManyRequests) as refused:
        run(query, ExecuteRequest())
    assert "Retry-After" in refused.value.headers


def test_documents_like_one_need_no_text_even_when_it_is_required(
    site: tuple[TestClient, PublicQuery],
) -> None:
    client, query = site
    publish(
        client,
        display_config(exposed_fields=["title", "description"], field_config={}, components={}),
    )
    with pytest.raises(InvalidInput):
        run(query, ExecuteRequest(inputs={}))
    answer = run(query, ExecuteRequest(similar_to="a"))
    assert ids(answer)[0] == "b"  # the other warm lamp
    assert "a" not in ids(answer)


def test_the_words_left_out_are_said(site: tuple[TestClient, PublicQuery]) -> None:
    client, query = site
    publish(client, plain(["title", "description"]))
    answer = run(query, ExecuteRequest(inputs={"query": "red lamp"}))
    assert answer.body["words_left_out"] == ["red"]
    assert words_kept("Red  LAMP", answer.body["words_left_out"]) == ["lamp"]
    assert "words_left_out" not in run(query, ExecuteRequest(inputs={"query": "desk"})).body


def test_one_document_by_id_exposed_or_not_found(site: tuple[TestClient, PublicQuery]) -> None:
    client, query = site
    publish(client, plain(["title", "description"]))

    async def document(document_id: str) -> Any:
        retriever = await query.open("shop", CALLER)
        return await query.document(retriever, CALLER, document_id)

    found = anyio.run(document, "c")
    assert found.document == {
        "document_id": "c",
        "title": "Oak desk",
        "description": "Solid oak",
        "score": 0.0,
    }
    with pytest.raises(NotFound):
        anyio.run(document, "zzz")


def test_a_search_copied_with_checked_inputs_keeps_every_other_field() -> None:
    """The copy the public search makes (by attributes) is `replace`'s, whatever is set."""
    from dataclasses import fields, replace

    from app.schemas.search import SearchRequest, Sort
    from app.services.query import _with_inputs

    search = SearchRequest(
        inputs={"query": "as typed"}, facets=("brand",), sort=Sort("price", "desc"),
        page_number=3, page_size=7, similar_to="d1", vector=(0.5, 1.0), semantic_ratio=0.25,
        skip_cache=True,
    )  # fmt: skip
    assert all(getattr(search, f.name) != f.default for f in fields(search) if f.name != "filters")
    copied = _with_inputs(search, {"query": "checked"})
    assert copied == replace(search, inputs={"query": "checked"})
    assert search.inputs == {"query": "as typed"}
