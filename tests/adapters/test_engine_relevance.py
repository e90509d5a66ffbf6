"""A retriever's relevance rules as the engines apply them: synonyms, stop words, pinned and
hidden documents, boosts by a number field. Each runs on both engines, by words and with
vectors (hybrid, `new_engine`)."""

from __future__ import annotations

from typing import Any

import pytest

from app.adapters.engine import Search, SearchEngine, Sort
from app.adapters.engine.relevance import BOOST_WINDOW, query_words
from app.adapters.engine.results import Boost, Relevance
from app.schemas.filters import Condition
from tests.with_vectors import hybrid

DOCUMENTS: list[dict[str, Any]] = [
    {"document_id": "sofa", "title": "Linen sofa", "category": "Living", "popularity": 10},
    {"document_id": "couch", "title": "Leather couch", "category": "Living", "popularity": 90},
    {"document_id": "settee", "title": "Small settee", "category": "Living", "popularity": 40},
    {"document_id": "lamp", "title": "Desk lamp", "category": "Light", "popularity": 70},
    {"document_id": "phone", "title": "Smartphone stand", "category": "Desk", "popularity": 5},
    {"document_id": "case", "title": "Smart phone case", "category": "Desk", "popularity": 1},
    {"document_id": "mug", "title": "The travel mug", "category": "Kitchen", "popularity": 30},
]
SYNONYMS = {
    ("sofa",): (("couch",), ("settee",)),
    ("couch",): (("sofa",), ("settee",)),
    ("settee",): (("sofa",), ("couch",)),
    ("smartphone",): (("smart", "phone"),),
    ("smart", "phone"): (("smartphone",),),
}


@pytest.fixture
def engine(new_engine: SearchEngine) -> SearchEngine:
    new_engine.upsert("ns", "home", DOCUMENTS)
    return new_engine


def search(engine: SearchEngine, text: str, rules: Relevance | None, **options: Any) -> Any:
    values: dict[str, Any] = {"fields": ["title"], "text": text, "limit": 10}
    values.update(relevance=rules, highlight=["title"])
    values.update(options)
    return engine.search("ns", "home", Search(**values))


def ids(result: Any) -> list[str]:
    return [hit.document_id for hit in result.hits]


def matched_by_words(engine: SearchEngine, result: Any) -> list[str]:
    """The results a search by words found; with vectors, those near in meaning follow them,
    unmarked (none of the query's words in them)."""
    if not hybrid(engine):
        return ids(result)
    return [hit.document_id for hit in result.hits if hit.highlights]


# Synonyms -------------------------------------------------------------------------------------


def test_without_rules_a_word_finds_only_itself(engine: SearchEngine) -> None:
    assert matched_by_words(engine, search(engine, "sofa", None, meaning=False)) == ["sofa"]


def test_a_multi_way_synonym_finds_every_word_of_its_set(engine: SearchEngine) -> None:
    rules = Relevance(synonyms=SYNONYMS)
    for word in ("sofa", "couch", "settee"):
        result = search(engine, word, rules)
        assert set(matched_by_words(engine, result)) == {"sofa", "couch", "settee"}
        # The synonym is marked where it matched, like the word itself.
        assert any("<mark>" in text for hit in result.hits for text in hit.highlights.values())


def test_a_one_way_synonym_goes_one_way(engine: SearchEngine) -> None:
    rules = Relevance(synonyms={("sofa",): (("couch",),)})
    assert set(matched_by_words(engine, search(engine, "sofa", rules))) == {"sofa", "couch"}
    assert matched_by_words(engine, search(engine, "couch", rules, meaning=False)) == ["couch"]


def test_a_phrase_and_its_one_word_synonym_find_each_other(engine: SearchEngine) -> None:
    rules = Relevance(synonyms=SYNONYMS)
    for text in ("smartphone", "smart phone"):
        found = matched_by_words(engine, search(engine, text, rules))
        assert set(found[:2]) == {"phone", "case"}


def test_synonyms_hold_within_the_filters(engine: SearchEngine) -> None:
    rules = Relevance(synonyms=SYNONYMS)
    result = search(engine, "sofa", rules, filters={"popularity": [10, 40]})
    assert set(ids(result)) == {"sofa", "settee"}


# Stop words -----------------------------------------------------------------------------------


def test_stop_words_are_left_out_of_a_query(engine: SearchEngine) -> None:
    rules = Relevance(stop_words=frozenset({"the", "a", "for"}))
    # Without the rules, "the" is a word the lamp lacks; with them, only "lamp" is asked.
    assert search(engine, "the lamp", None, meaning=False).left_out == ("the",)
    result = search(engine, "the lamp", rules, meaning=False)
    assert ids(result) == ["lamp"]
    assert result.left_out == ()
    assert query_words("a lamp for the desk", rules) == (("lamp", "desk"), ())


def test_a_query_of_stop_words_only_still_searches(engine: SearchEngine) -> None:
    rules = Relevance(stop_words=frozenset({"the"}))
    assert matched_by_words(engine, search(engine, "the", rules)) == ["mug"]


# Curation: pinned and hidden ------------------------------------------------------------------


def test_a_pinned_document_comes_at_its_position(engine: SearchEngine) -> None:
    rules = Relevance(synonyms=SYNONYMS, pinned=(("lamp", 2),))
    result = search(engine, "sofa", rules)
    assert ids(result)[1] == "lamp"  # though no word of the query is in it
    assert ids(result).count("lamp") == 1
    organic = search(engine, "sofa", Relevance(synonyms=SYNONYMS))
    assert result.total == organic.total + ("lamp" not in ids(organic))
    # Pinned first, on a page of one; then the results shift down by one.
    first = search(engine, "sofa", Relevance(synonyms=SYNONYMS, pinned=(("lamp", 1),)), limit=1)
    assert ids(first) == ["lamp"]
    second = search(
        engine, "sofa", Relevance(synonyms=SYNONYMS, pinned=(("lamp", 1),)), limit=1, offset=1
    )
    assert ids(second) == ids(organic)[:1]


def test_a_pinned_document_already_found_moves_to_its_position(engine: SearchEngine) -> None:
    organic = search(engine, "sofa", Relevance(synonyms=SYNONYMS), meaning=False)
    last = ids(organic)[-1]
    result = search(
        engine, "sofa", Relevance(synonyms=SYNONYMS, pinned=((last, 1),)), meaning=False
    )
    assert ids(result)[0] == last
    assert sorted(ids(result)) == sorted(ids(organic))
    assert result.total == organic.total


def test_a_pinned_document_that_a_filter_excludes_does_not_appear(engine: SearchEngine) -> None:
    rules = Relevance(synonyms=SYNONYMS, pinned=(("lamp", 1),))
    living = Condition("category", "eq", "Living")
    for options in ({"tree": living}, {"filters": {"category": "Living"}}):
        result = search(engine, "sofa", rules, **options)
        assert "lamp" not in ids(result)
        assert set(ids(result)) <= {"sofa", "couch", "settee"}
        assert result.total == len(ids(result))


def test_a_pin_past_the_last_result_follows_it(engine: SearchEngine) -> None:
    rules = Relevance(pinned=(("lamp", 9),))
    result = search(engine, "mug", rules, meaning=False)
    assert ids(result) == ["mug", "lamp"]
    assert result.total == 2


def test_a_pinned_document_that_is_not_there_is_skipped(engine: SearchEngine) -> None:
    rules = Relevance(pinned=(("gone", 1),))
    assert ids(search(engine, "mug", rules, meaning=False)) == ["mug"]


def test_a_hidden_document_never_comes(engine: SearchEngine) -> None:
    rules = Relevance(synonyms=SYNONYMS, hidden=("couch",))
    result = search(engine, "sofa", rules, facets=["category"])
    assert "couch" not in ids(result)
    organic = search(engine, "sofa", Relevance(synonyms=SYNONYMS), facets=["category"])
    assert result.total == organic.total - 1
    living = {c.value: c.count for c in result.facets["category"]}["Living"]
    assert living == {c.value: c.count for c in organic.facets["category"]}["Living"] - 1
    # Not even when pinned as well, nor on a page of every document.
    both = Relevance(hidden=("couch",), pinned=(("couch", 1),))
    assert "couch" not in ids(search(engine, "", both))


def test_facets_count_a_pinned_document(engine: SearchEngine) -> None:
    rules = Relevance(pinned=(("lamp", 1),))
    result = search(engine, "mug", rules, facets=["category"], meaning=False)
    counts = {c.value: c.count for c in result.facets["category"]}
    assert counts == {"Kitchen": 1, "Light": 1}


# Boosts ---------------------------------------------------------------------------------------


def test_a_boost_reorders_the_results_by_a_number(engine: SearchEngine) -> None:
    synonyms = Relevance(synonyms=SYNONYMS)
    plain = search(engine, "sofa", synonyms, meaning=False)
    assert ids(plain)[0] == "sofa"  # the word as typed, without a boost
    boosted = Relevance(synonyms=SYNONYMS, boosts=(Boost("popularity", 10.0),))
    result = search(engine, "sofa", boosted, meaning=False)
    assert ids(result) == ["couch", "settee", "sofa"]  # popularity 90, 40, 10
    assert result.total == plain.total


def test_a_boost_never_brings_in_a_document_that_does_not_match(engine: SearchEngine) -> None:
    rules = Relevance(boosts=(Boost("popularity", 100.0),))
    assert matched_by_words(engine, search(engine, "mug", rules)) == ["mug"]
    assert ids(search(engine, "mug", rules, meaning=False)) == ["mug"]


def test_a_light_boost_keeps_a_better_match_first(engine: SearchEngine) -> None:
    rules = Relevance(synonyms=SYNONYMS, boosts=(Boost("popularity", 0.01),))
    assert ids(search(engine, "sofa", rules, meaning=False))[0] == "sofa"


def test_a_boost_pages_through_its_order(engine: SearchEngine) -> None:
    rules = Relevance(boosts=(Boost("popularity", 1.0),))
    every = ids(search(engine, "", rules))
    assert every == ["couch", "lamp", "settee", "mug", "sofa", "phone", "case"]
    pages = [ids(search(engine, "", rules, limit=3, offset=n)) for n in (0, 3, 6)]
    assert [found for page in pages for found in page] == every


def test_a_sort_orders_as_asked_whatever_the_boost(engine: SearchEngine) -> None:
    rules = Relevance(boosts=(Boost("popularity", 10.0),))
    result = search(engine, "", rules, sort=Sort("popularity", "asc"))
    assert ids(result)[:2] == ["case", "phone"]


def test_a_boost_only_reorders_its_window(engine: SearchEngine) -> None:
    many = [
        {"document_id": f"m{n:03}", "title": "Mat", "popularity": n}
        for n in range(BOOST_WINDOW + 10)
    ]
    engine.upsert("ns", "home", many)
    rules = Relevance(boosts=(Boost("popularity", 100.0),))
    first = search(engine, "mat", rules, limit=5, meaning=False)
    assert ids(first)[0] == f"m{BOOST_WINDOW - 1:03}"  # the most popular of the window
    # Past the window, relevance alone (here: the order they were added) still pages.
    beyond = search(engine, "mat", rules, limit=5, offset=BOOST_WINDOW, meaning=False)
    assert len(ids(beyond)) == 5
    # (Compared with the window of the same search by words: by meaning, equal texts tie.)
    window = search(engine, "mat", rules, limit=BOOST_WINDOW, meaning=False)
    assert not set(ids(beyond)) & set(ids(window))


# Everything at once, by meaning too ----------------------------------------------------------


def test_every_rule_at_once(engine: SearchEngine) -> None:
    rules = Relevance(
        synonyms=SYNONYMS,
        stop_words=frozenset({"the"}),
        pinned=(("mug", 1),),
        hidden=("sofa",),
        boosts=(Boost("popularity", 10.0),),
    )
    result = search(engine, "the sofa", rules, facets=["category"])
    assert ids(result)[0] == "mug"
    assert "sofa" not in ids(result)
    assert {"couch", "settee"} <= set(ids(result))
    assert ids(result).index("couch") < ids(result).index("settee")
