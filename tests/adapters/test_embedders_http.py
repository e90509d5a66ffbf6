"""The `http` embedder against a real OpenAI-compatible embeddings endpoint on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.adapters.backends.mixpeek import UpstreamClient
from app.adapters.clock import system_clock
from app.adapters.destinations import DestinationPolicy
from app.adapters.embedders.remote import HttpEmbedder
from app.adapters.store import Store
from app.crypto import SecretBox
from app.errors import EmbedderUnavailable, InvalidInput
from app.schemas.embedders import HttpEmbedderConfig
from app.services.vault import Vault
from tests.servers import LiveServer, free_port

pytestmark = pytest.mark.anyio

KEY = "sk_embeddings_live_0123456789"
NAMESPACE = "acme"
DIMENSIONS = 8


def vector_of(text: str, dimensions: int = DIMENSIONS) -> list[float]:
    """The endpoint's embedding of a text: a fixed function of it, of any length but 1."""
    digest = hashlib.sha256(text.encode()).digest()
    return [float(byte - 128) for byte in digest[:dimensions]]


def unit(values: list[float]) -> np.ndarray:
    array = np.array(values, dtype=np.float32)
    return array / np.linalg.norm(array)


@dataclass
class Endpoint:
    """An OpenAI-compatible `/v1/embeddings` whose behaviour each test chooses."""

    mode: str = "ok"
    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def embeddings(request: Request) -> Response:
            body = await request.json()
            self.requests.append(
                {"authorization": request.headers.get("authorization"), "body": body}
            )
            texts = body["input"]
            if self.mode == "error":
                return JSONResponse({"error": f"model not loaded {KEY}"}, status_code=500)
            if self.mode == "slow":
                await asyncio.sleep(2)
            if self.mode == "not-json":
                return Response("<html>proxy error</html>", media_type="text/html")
            dimensions = DIMENSIONS + 1 if self.mode == "wrong-dimensions" else DIMENSIONS
            data: list[dict[str, Any]] = [
                {"object": "embedding", "index": index, "embedding": vector_of(text, dimensions)}
                for index, text in enumerate(texts)
            ]
            if self.mode == "one-short":
                data = data[:-1]
            if self.mode == "strings":
                data[0]["embedding"] = [str(n) for n in data[0]["embedding"]]
            data.reverse()  # by index, not by position, as the API says
            return JSONResponse({"object": "list", "data": data, "model": body["model"]})

        return Starlette(routes=[Route("/v1/embeddings", embeddings, methods=["POST"])])


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[Endpoint, str]]:
    endpoint = Endpoint()
    with LiveServer(endpoint.app()) as server:
        yield endpoint, f"{server.url}/v1/embeddings"


@pytest.fixture
def endpoint(live: tuple[Endpoint, str]) -> Endpoint:
    live[0].mode = "ok"
    live[0].requests.clear()
    return live[0]


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    vault = Vault(store, SecretBox("k" * 40), system_clock)
    vault.create(NAMESPACE, "embeddings", KEY)
    return vault


@pytest.fixture
async def outbound() -> AsyncIterator[UpstreamClient]:
    client = UpstreamClient(policy=DestinationPolicy.parse(["127.0.0.1"]))
    yield client
    await client.aclose()


def embedder(url: str, outbound: UpstreamClient, vault: Vault, **options: Any) -> HttpEmbedder:
    config = HttpEmbedderConfig.model_validate(
        {
            "type": "http",
            "url": url,
            "model": "nomic-embed-text",
            "dimensions": DIMENSIONS,
            "api_key_secret_name": "embeddings",
            **options,
        },
    )
    return HttpEmbedder(config, NAMESPACE, outbound, vault)


async def test_texts_come_back_as_unit_vectors_in_their_order(
    live: tuple[Endpoint, str], endpoint: Endpoint, outbound: UpstreamClient, vault: Vault
) -> None:
    texts = ["a sofa", "a vacuum flask", "a garden hose"]
    vectors = await embedder(live[1], outbound, vault).embed(texts, "document")
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, DIMENSIONS)
    assert np.allclose(vectors, np.vstack([unit(vector_of(text)) for text in texts]), atol=1e-6)
    [request] = endpoint.requests
    assert request["body"] == {
        "model": "nomic-embed-text",
        "input": texts,
        "encoding_format": "float",
    }


async def test_queries_and_documents_get_their_prefixes(
    live: tuple[Endpoint, str], endpoint: Endpoint, outbound: UpstreamClient, vault: Vault
) -> None:
    e5 = embedder(live[1], outbound, vault, query_prefix="query: ", document_prefix="passage: ")
    query = await e5.embed(["couch"], "query")
    await e5.embed(["sofa"], "document")
    assert [r["body"]["input"] for r in endpoint.requests] == [["query: couch"], ["passage: sofa"]]
    assert np.allclose(query[0], unit(vector_of("query: couch")), atol=1e-6)


async def test_texts_are_sent_in_batches_of_the_configured_size(
    live: tuple[Endpoint, str], endpoint: Endpoint, outbound: UpstreamClient, vault: Vault
) -> None:
    texts = [f"text {n}" for n in range(5)]
    vectors = await embedder(live[1], outbound, vault, batch_size=2).embed(texts, "document")
    assert [len(r["body"]["input"]) for r in endpoint.requests] == [2, 2, 1]
    assert np.allclose(vectors, np.vstack([unit(vector_of(text)) for text in texts]), atol=1e-6)


async def test_the_key_is_sent_as_a_bearer_token_and_never_logged(
    live: tuple[Endpoint, str],
    endpoint: Endpoint,
    outbound: UpstreamClient,
    vault: Vault,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    remote = embedder(live[1], outbound, vault, model="logged-model")
    await remote.embed(["a sofa"], "query")
    endpoint.mode = "error"  # the endpoint's error body repeats the key
    with pytest.raises(EmbedderUnavailable) as caught:
        await remote.embed(["a sofa"], "query")
    assert [r["authorization"] for r in endpoint.requests] == [f"Bearer {KEY}"] * 2
    assert "embedder http:logged-model unavailable (status)" in caplog.text
    assert KEY not in caplog.text
    assert KEY not in caught.value.message
    assert KEY not in str(caught.value.details)


async def test_an_endpoint_without_a_key_gets_no_authorization(
    live: tuple[Endpoint, str], endpoint: Endpoint, outbound: UpstreamClient, vault: Vault
) -> None:
    await embedder(live[1], outbound, vault, api_key_secret_name=None).embed(["x"], "query")
    assert endpoint.requests[0]["authorization"] is None


async def test_a_missing_key_secret_is_unavailable_before_any_request(
    live: tuple[Endpoint, str], endpoint: Endpoint, outbound: UpstreamClient, vault: Vault
) -> None:
    vault.delete(NAMESPACE, "embeddings")
    with pytest.raises(EmbedderUnavailable) as caught:
        await embedder(live[1], outbound, vault).embed(["x"], "query")
    assert caught.value.reason == "key_missing"
    assert endpoint.requests == []


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ("wrong-dimensions", "embeddings of 8 numbers: a list of 8 numbers, not 9"),
        ("one-short", "1 embeddings (it has 0)"),
        ("strings", "every item a number"),
        ("not-json", "not JSON"),
        ("error", "HTTP 500"),
    ],
)
async def test_a_bad_answer_is_a_503_naming_the_embedder(
    live: tuple[Endpoint, str],
    endpoint: Endpoint,
    outbound: UpstreamClient,
    vault: Vault,
    mode: str,
    says: str,
) -> None:
    endpoint.mode = mode
    with pytest.raises(EmbedderUnavailable) as caught:
        await embedder(live[1], outbound, vault).embed(["a sofa"], "document")
    error = caught.value
    assert (error.status, error.type) == (503, "embedder_unavailable")
    assert error.details["embedder"] == "http:nomic-embed-text"
    assert error.message.startswith("The embedder http:nomic-embed-text is not available")
    assert says in error.message
    assert "127.0.0.1" not in error.message
    assert error.headers["Retry-After"] == "5"


async def test_an_endpoint_that_is_down_is_a_503(outbound: UpstreamClient, vault: Vault) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/embeddings"  # nothing listens there
    with pytest.raises(EmbedderUnavailable) as caught:
        await embedder(url, outbound, vault).embed(["a sofa"], "query")
    assert caught.value.status == 503
    assert caught.value.reason == "unreachable"


async def test_an_endpoint_too_slow_for_its_timeout_is_a_503(
    live: tuple[Endpoint, str], endpoint: Endpoint, outbound: UpstreamClient, vault: Vault
) -> None:
    endpoint.mode = "slow"
    with pytest.raises(EmbedderUnavailable) as caught:
        await embedder(live[1], outbound, vault, timeout_seconds=0.3).embed(["x"], "query")
    assert caught.value.reason == "timeout"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_an_address_the_policy_does_not_allow_is_never_reached(
    live: tuple[Endpoint, str], endpoint: Endpoint, vault: Vault, host: str
) -> None:
    url = live[1].replace("127.0.0.1", host)
    strict = UpstreamClient()  # no RETRIEVER_PAGES_UPSTREAM_ALLOW: loopback is refused
    try:
        with pytest.raises(EmbedderUnavailable) as caught:
            await embedder(url, strict, vault).embed(["a sofa"], "query")
    finally:
        await strict.aclose()
    assert caught.value.reason == "refused"
    assert endpoint.requests == []


def test_the_policy_refuses_an_internal_url_naming_the_embedder_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        DestinationPolicy().check_url("http://169.254.169.254/v1/embeddings", "embedder.url")
    assert caught.value.details["errors"][0]["field"] == "embedder.url"
    assert caught.value.message.startswith("embedder.url reaches 169.254.169.254")
