"""The embedded engine searching by meaning: documents' vectors kept beside their words, found
by a query's vector alone or with its words, within filters, counted in facets, kept in step
through writes, deletes, another embedder and another process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest

from app.adapters.embedders.wordllama import EMBEDDER
from app.adapters.engine import Engine, Search
from tests.adapters.test_engine_features import FIELDS, PRODUCTS

MODEL = EMBEDDER.name
SOFA = {
    "document_id": "p6",
    "title": "Three-seat sofa",
    "description": "A deep sofa in grey linen for the living room.",
    "category": "Furniture",
    "price": 899,
}
DOCUMENTS = [*PRODUCTS, SOFA]
SETTINGS = {"fields": FIELDS, "model": MODEL, "dimensions": EMBEDDER.dimensions}


def embed(texts: list[str], kind: Any = "document") -> Any:
    return anyio.run(EMBEDDER.embed, texts, kind)


def text_of(document: dict[str, Any]) -> str:
    return ". ".join(str(document.get(name, "")) for name in FIELDS)


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    engine = Engine(tmp_path / "engine.db")
    engine.set_embedding("ns", "shop", SETTINGS)
    engine.upsert("ns", "shop", DOCUMENTS, list(embed([text_of(d) for d in DOCUMENTS])), MODEL)
    yield engine
    engine.close()


def search(engine: Engine, text: str, ratio: float = 0.5, **options: Any) -> Any:
    vector = embed([text], "query")[0] if ratio > 0 else None
    values: dict[str, Any] = {"fields": FIELDS, "text": text, "limit": 10, "offset": 0}
    values.update(options)
    return engine.search("ns", "shop", Search(vector=vector, semantic_ratio=ratio, **values))


def ids(result: Any) -> list[str]:
    return [hit.document_id for hit in result.hits]


def test_a_word_the_catalog_never_uses_finds_its_meaning(engine: Engine) -> None:
    assert ids(search(engine, "couch", ratio=0)) == []  # by words: nothing says couch
    assert ids(search(engine, "couch"))[0] == "p6"
    assert ids(search(engine, "couch", ratio=1))[0] == "p6"


def test_a_document_that_has_the_words_stays_first(engine: Engine) -> None:
    assert ids(search(engine, "espresso machine"))[0] == "p4"
    assert ids(search(engine, "bluetooth speaker"))[0] == "p3"


def test_results_by_meaning_keep_to_the_filters_and_are_counted_in_facets(engine: Engine) -> None:
    kitchen = search(engine, "couch", filters={"category": "Kitchen"}, facets=["category"])
    assert ids(kitchen)
    assert {hit.body["category"] for hit in kitchen.hits} == {"Kitchen"}
    assert [(v.value, v.count) for v in kitchen.facets["category"]] == [("Kitchen", 2)]
    everything = search(engine, "travel", facets=["category"])
    counted = {v.value: v.count for v in everything.facets["category"]}
    assert sum(counted.values()) == everything.total
    assert "Furniture" in counted  # the sofa, near in meaning, among words' matches


def test_sorting_a_search_by_meaning_orders_its_set(engine: Engine) -> None:
    from app.schemas.search import Sort

    found = search(engine, "couch", sort=Sort("price", "desc"))
    prices = [hit.body["price"] for hit in found.hits if "price" in hit.body]
    assert prices == sorted(prices, reverse=True)


def test_a_deleted_or_replaced_document_leaves_nothing_behind(engine: Engine) -> None:
    engine.delete("ns", "shop", "p6")
    assert "p6" not in ids(search(engine, "couch", ratio=1))
    engine.upsert("ns", "shop", [{**PRODUCTS[0], "title": "Sofa cushion"}])  # no vector given
    assert "p1" not in ids(search(engine, "sofa", ratio=1))
    model, missing = engine.without_vectors("ns", "shop", 10)
    assert (model, [rowid for rowid, _ in missing]) == (MODEL, [1])
    vectors = embed([text_of(body) for _, body in missing])
    assert engine.put_vectors("ns", "shop", MODEL, list(zip([1], vectors, strict=True))) == 1
    assert ids(search(engine, "couch", ratio=1))[0] == "p1"


def test_another_embedder_clears_the_vectors_and_words_still_answer(engine: Engine) -> None:
    engine.set_embedding("ns", "shop", {**SETTINGS, "model": "other", "dimensions": 4})
    assert engine.vector_count("ns", "shop") == 0
    assert ids(search(engine, "espresso", ratio=0)) == ["p4"]
    stale = [np.ones(4, dtype=np.float32) / 2]
    assert engine.put_vectors("ns", "shop", MODEL, [(1, stale[0])]) == 0  # made by the old one
    assert engine.put_vectors("ns", "shop", "other", [(1, stale[0])]) == 1


def test_another_process_sees_the_vectors_written_by_one(engine: Engine, tmp_path: Path) -> None:
    other = Engine(tmp_path / "engine.db")
    try:
        assert ids(search(other, "couch", ratio=1))[0] == "p6"
        engine.delete("ns", "shop", "p6")
        assert "p6" not in ids(search(other, "couch", ratio=1))
        engine.upsert("ns", "shop", [SOFA], list(embed([text_of(SOFA)])), MODEL)
        assert ids(search(other, "couch", ratio=1))[0] == "p6"
    finally:
        other.close()


def test_documents_similar_to_one_are_the_nearest_in_meaning(engine: Engine) -> None:
    found = engine.search("ns", "shop", Search(fields=FIELDS, similar_to="p1", limit=10))
    assert "p1" not in ids(found)
    assert ids(found)[0] == "p2"  # headphones, like the travel headphones
    kitchen = engine.search(
        "ns", "shop", Search(fields=FIELDS, similar_to="p1", filters={"category": "Kitchen"})
    )
    assert {hit.body["category"] for hit in kitchen.hits} == {"Kitchen"}
