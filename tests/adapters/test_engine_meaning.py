"""Both engines searching by meaning (the embedded one, and the one in PostgreSQL with pgvector):
documents' vectors kept beside their words, found by a query's vector alone or with its words,
within filters, counted in facets, kept in step through writes, deletes, another embedder and
another process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import numpy as np
import pytest

from app.adapters import texts
from app.adapters.embedders.wordllama import EMBEDDER
from app.adapters.engine import Search, SearchEngine
from app.adapters.engine.hybrid import MEANING_RESULTS
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
def engine(open_engine: Callable[[], SearchEngine]) -> SearchEngine:
    engine = open_engine()
    engine.set_embedding("ns", "shop", SETTINGS)
    engine.upsert("ns", "shop", DOCUMENTS, list(embed([text_of(d) for d in DOCUMENTS])), MODEL)
    return engine


def search(engine: SearchEngine, text: str, ratio: float = 0.5, **options: Any) -> Any:
    vector = embed([text], "query")[0] if ratio > 0 else None
    values: dict[str, Any] = {"fields": FIELDS, "text": text, "limit": 10, "offset": 0}
    values.update(options)
    return engine.search("ns", "shop", Search(vector=vector, semantic_ratio=ratio, **values))


def ids(result: Any) -> list[str]:
    return [hit.document_id for hit in result.hits]


def test_a_word_the_catalog_never_uses_finds_its_meaning(engine: SearchEngine) -> None:
    assert ids(search(engine, "couch", ratio=0)) == []  # by words: nothing says couch
    assert ids(search(engine, "couch"))[0] == "p6"
    assert ids(search(engine, "couch", ratio=1))[0] == "p6"


def test_a_document_that_has_the_words_stays_first(engine: SearchEngine) -> None:
    assert ids(search(engine, "espresso machine"))[0] == "p4"
    assert ids(search(engine, "bluetooth speaker"))[0] == "p3"


def test_fused_by_normalised_scores_the_same_documents_lead(engine: SearchEngine) -> None:
    """dbsf (Mixpeek's score fusion): each ranking's scores scaled to 0..1, weighed, added."""
    for text, first in (("couch", "p6"), ("espresso machine", "p4"), ("bluetooth speaker", "p3")):
        assert ids(search(engine, text, fusion="dbsf"))[0] == first
    by_scores = search(engine, "espresso machine", fusion="dbsf").hits
    by_ranks = search(engine, "espresso machine").hits
    # The best of the words' matches scores at least its weight, 0.5, by scores; a place in
    # a ranking is worth 1/61 at most, by ranks.
    assert by_scores[0].score >= 0.5 > 2 / 61 >= by_ranks[0].score
    assert all(0 <= hit.score <= 1 for hit in by_scores)


def test_results_by_meaning_keep_to_the_filters_and_are_counted_in_facets(
    engine: SearchEngine,
) -> None:
    kitchen = search(engine, "couch", filters={"category": "Kitchen"}, facets=["category"])
    assert ids(kitchen)
    assert {hit.body["category"] for hit in kitchen.hits} == {"Kitchen"}
    assert [(v.value, v.count) for v in kitchen.facets["category"]] == [("Kitchen", 2)]
    everything = search(engine, "travel", facets=["category"])
    counted = {v.value: v.count for v in everything.facets["category"]}
    assert sum(counted.values()) == everything.total
    assert "Furniture" in counted  # the sofa, near in meaning, among words' matches


def test_sorting_a_search_by_meaning_orders_its_set(engine: SearchEngine) -> None:
    from app.schemas.search import Sort

    found = search(engine, "couch", sort=Sort("price", "desc"))
    prices = [hit.body["price"] for hit in found.hits if "price" in hit.body]
    assert prices == sorted(prices, reverse=True)


def test_a_deleted_or_replaced_document_leaves_nothing_behind(engine: SearchEngine) -> None:
    engine.delete("ns", "shop", "p6")
    assert "p6" not in ids(search(engine, "couch", ratio=1))
    engine.upsert("ns", "shop", [{**PRODUCTS[0], "title": "Sofa cushion"}])  # no vector given
    assert "p1" not in ids(search(engine, "sofa", ratio=1))
    model, missing = engine.without_vectors("ns", "shop", 10)
    assert (model, [body["title"] for _, body in missing]) == (MODEL, ["Sofa cushion"])
    assert engine.vector_count("ns", "shop") == len(DOCUMENTS) - 2
    vectors = embed([text_of(body) for _, body in missing])
    rowids = [rowid for rowid, _ in missing]
    assert engine.put_vectors("ns", "shop", MODEL, list(zip(rowids, vectors, strict=True))) == 1
    assert engine.put_vectors("ns", "shop", MODEL, list(zip(rowids, vectors, strict=True))) == 0
    assert engine.without_vectors("ns", "shop", 10) == (MODEL, [])
    assert ids(search(engine, "couch", ratio=1))[0] == "p1"


def test_another_embedder_clears_the_vectors_and_words_still_answer(engine: SearchEngine) -> None:
    engine.set_embedding("ns", "shop", {**SETTINGS, "model": "other", "dimensions": 4})
    assert engine.vector_count("ns", "shop") == 0
    assert ids(search(engine, "espresso", ratio=0)) == ["p4"]
    model, missing = engine.without_vectors("ns", "shop", 10)
    assert (model, len(missing)) == ("other", len(DOCUMENTS))
    first = missing[0][0]
    assert engine.without_vectors("ns", "shop", 10, after=first)[1] == missing[1:]
    stale = [np.ones(4, dtype=np.float32) / 2]
    assert engine.put_vectors("ns", "shop", MODEL, [(first, stale[0])]) == 0  # the old model's
    assert engine.put_vectors("ns", "shop", "other", [(first, stale[0])]) == 1
    engine.set_embedding("ns", "shop", None)  # no embedding: its vectors go, words answer
    assert (engine.embedding("ns", "shop"), engine.vector_count("ns", "shop")) == (None, 0)
    assert ids(search(engine, "espresso", ratio=0)) == ["p4"]


def test_another_process_sees_the_vectors_written_by_one(
    engine: SearchEngine, open_engine: Callable[[], SearchEngine]
) -> None:
    other = open_engine()
    assert ids(search(other, "couch", ratio=1))[0] == "p6"
    engine.delete("ns", "shop", "p6")
    assert "p6" not in ids(search(other, "couch", ratio=1))
    engine.upsert("ns", "shop", [SOFA], list(embed([text_of(SOFA)])), MODEL)
    assert ids(search(other, "couch", ratio=1))[0] == "p6"


def test_documents_similar_to_one_are_the_nearest_in_meaning(engine: SearchEngine) -> None:
    found = engine.search("ns", "shop", Search(fields=FIELDS, similar_to="p1", limit=10))
    assert "p1" not in ids(found)
    assert ids(found)[0] == "p2"  # headphones, like the travel headphones
    kitchen = engine.search(
        "ns", "shop", Search(fields=FIELDS, similar_to="p1", filters={"category": "Kitchen"})
    )
    assert {hit.body["category"] for hit in kitchen.hits} == {"Kitchen"}


def test_the_total_counts_the_words_matches_and_the_nearest_beside_them(
    engine: SearchEngine,
) -> None:
    by_words = search(engine, "travel", ratio=0)
    assert (sorted(ids(by_words)), by_words.total) == (["p1", "p3", "p5"], 3)
    # The catalog has fewer documents than the nearest a search adds: each is among them.
    assert len(DOCUMENTS) < MEANING_RESULTS
    both = search(engine, "travel", limit=2)
    assert both.total == len(DOCUMENTS)
    assert set(ids(both)) <= {"p1", "p3", "p5"}  # having the words ranks first
    pages = [search(engine, "travel", limit=2, offset=offset) for offset in (0, 2, 4)]
    assert sorted(i for page in pages for i in ids(page)) == sorted(
        d["document_id"] for d in DOCUMENTS
    )
    assert search(engine, "travel", ratio=1).total == len(DOCUMENTS)
    audio = search(engine, "travel", filters={"category": "Audio"}, ratio=1)
    assert (sorted(ids(audio)), audio.total) == (["p1", "p2", "p3"], 3)  # within the filter


def test_a_search_whose_vectors_may_not_rank_is_by_words(engine: SearchEngine) -> None:
    """`meaning` false: the retriever's page hides a field the vectors were made from."""
    hidden = search(engine, "couch", meaning=False)
    assert (ids(hidden), hidden.total) == ([], 0)
    like = engine.search("ns", "shop", Search(fields=FIELDS, similar_to="p1", meaning=False))
    assert ids(like)[0] == "p2"  # by words: the other headphones
    assert "p4" not in ids(like)  # which shares no word with the espresso machine,
    near = engine.search("ns", "shop", Search(fields=FIELDS, similar_to="p1"))
    assert near.total == len(DOCUMENTS) - 1  # which, by meaning, is among the nearest


def test_a_query_vector_of_another_size_is_an_error(engine: SearchEngine) -> None:
    with pytest.raises(ValueError, match="256 numbers"):
        engine.search("ns", "shop", Search(fields=FIELDS, text="couch", vector=[1.0, 0.0]))


def test_a_document_without_text_to_embed_is_kept_and_never_near(engine: SearchEngine) -> None:
    """Its vector is zeros (the embedder's answer for no text), which has no direction."""
    blank = {"document_id": "p7", "category": "Furniture", "price": 5}
    [zeros] = embed([texts.joined(blank, FIELDS)])
    assert not zeros.any()
    engine.upsert("ns", "shop", [blank], [zeros], MODEL)
    assert engine.vector_count("ns", "shop") == len(DOCUMENTS) + 1  # the collection is ready
    assert ids(search(engine, "couch"))[0] == "p6"
    furniture = search(engine, "couch", ratio=1, filters={"category": "Furniture"})
    assert ids(furniture) == ["p6"]
    like = engine.search("ns", "shop", Search(fields=FIELDS, similar_to="p7"))
    assert (ids(like), like.total) == ([], 0)
