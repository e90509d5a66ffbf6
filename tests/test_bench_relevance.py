"""The relevance benchmark's labelled set and measures (bench/relevance.py): the set built from
a slice of WordNet holds what its docstring says, and each measure and fusion gives what a hand
count gives."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from bench import judged, ranking, wordnet
from bench.searches import nearest

SLICE = 3_000
QUERIES = 60
SEED = 7


@pytest.fixture(scope="module")
def synsets() -> list[wordnet.Synset]:
    if (problem := wordnet.missing()) is not None:
        pytest.skip(f"{problem}; scripts/test installs it")
    return judged.sample(wordnet.synsets(), SLICE, SEED)


def test_a_data_line_gives_its_lemmas_definition_and_examples() -> None:
    line = (
        "00014358 00 s 02 abounding 0 galore(ip) 0 001 & 00013887 a 0000 | existing in "
        'abundance; "abounding confidence"; "whiskey galore"  \n'
    )
    synset = wordnet.parse(line, "a")
    assert synset == wordnet.Synset(
        "a00014358", ("abounding", "galore"), "existing in abundance",
        ("abounding confidence", "whiskey galore"),
    )  # fmt: skip
    assert wordnet.parse("02084071 05 n 01 hot_dog 0 000 | a sausage", "n").lemmas == ("hot dog",)


def test_ndcg_of_a_perfect_ranking_is_one_and_a_swap_costs_what_a_hand_count_says() -> None:
    grades = {"a": 2, "b": 1, "c": 1}
    assert ranking.ndcg_at(["a", "b", "c", "x"], grades) == pytest.approx(1.0)
    assert ranking.ndcg_at(["a", "c", "b"], grades) == pytest.approx(1.0)
    # b, a, c: 1/log2(2) + 2/log2(3) + 1/log2(4), over 2/log2(2) + 1/log2(3) + 1/log2(4).
    swapped = (1 + 2 / math.log2(3) + 0.5) / (2 + 1 / math.log2(3) + 0.5)
    assert ranking.ndcg_at(["b", "a", "c"], grades) == pytest.approx(swapped)
    assert ranking.ndcg_at(["x", "y"], grades) == 0.0
    # Only the first ten count: the one relevant document at rank eleven is not found.
    late = [f"x{n}" for n in range(10)] + ["a"]
    assert ranking.ndcg_at(late, {"a": 2}) == 0.0


def test_recall_of_nothing_is_zero_and_counts_the_first_ten() -> None:
    grades = {"a": 2, "b": 1, "z": 0}
    assert ranking.recall_at([], grades) == 0.0
    assert ranking.recall_at(["b", "x"], grades) == 0.5
    assert ranking.recall_at(["a", "z", "b"], grades) == 1.0
    assert ranking.recall_at([f"x{n}" for n in range(10)] + ["a", "b"], grades) == 0.0


def test_fusions_rank_as_a_hand_count_does() -> None:
    # b: 1/62 + 1/61, a: 1/61, c: 1/62.
    assert ranking.rrf([["a", "b"], ["b", "c"]]) == ["b", "a", "c"]
    keyword = [("a", 30.0), ("b", 20.0), ("c", 10.0)]  # normalised: 1, 0.5, 0
    semantic = [("c", 0.9), ("d", 0.5), ("a", 0.1)]  # normalised: 1, 0.5, 0
    # ratio 0.75: a 0.25, b 0.125, c 0.75, d 0.375.
    assert ranking.convex(keyword, semantic, 0.75) == ["c", "d", "a", "b"]
    # ratio 0.25: a 0.75, b 0.375, c 0.25, d 0.125.
    assert ranking.convex(keyword, semantic, 0.25) == ["a", "b", "c", "d"]
    assert ranking.exact_first(["a", "b", "c"], {"c", "b"}, ["d", "c", "a"]) == ["b", "c", "d", "a"]


def test_nearest_ranks_by_cosine() -> None:
    documents = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]], dtype=np.float32)
    queries = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=np.float32)
    found = nearest(documents, queries, ["x", "y", "z"])
    assert [[doc for doc, _ in row] for row in found] == [["z", "y", "x"], ["x", "y", "z"]]
    assert found[0][1][1] == pytest.approx(0.8)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def test_a_lemma_query_judges_every_synset_holding_it_and_its_document_lacks_it(
    synsets: list[wordnet.Synset],
) -> None:
    queries = judged.lemma_queries(synsets, QUERIES, SEED)
    assert len(queries) == QUERIES
    assert len({query.text for query in queries}) == QUERIES
    by_id = {synset.id: synset for synset in synsets}
    lemmas = {synset.id: [words(lemma) for lemma in synset.lemmas] for synset in synsets}
    for query in queries:
        holding = {synset_id for synset_id, spelt in lemmas.items() if words(query.text) in spelt}
        assert set(query.grades) == holding
        assert query.text in by_id[query.source].lemmas
        assert query.grades[query.source] == judged.SOURCE_GRADE
        assert all(
            grade == judged.OTHER_SENSE_GRADE
            for doc, grade in query.grades.items()
            if doc != query.source
        )
        document = judged.document(by_id[query.source])
        text = words(f"{document.title} {document.text}")
        for part in words(query.text):
            assert not any(word.startswith(part) for word in text), (query.text, document)
    # Some lemma is a word of more than one synset of the slice, graded below its source.
    assert any(len(query.grades) > 1 for query in queries)


def test_an_own_words_query_is_rare_words_of_its_definition_and_judges_it_alone(
    synsets: list[wordnet.Synset],
) -> None:
    queries = judged.own_word_queries(synsets, QUERIES, SEED)
    assert len(queries) == QUERIES
    by_id = {synset.id: synset for synset in synsets}
    held = [set(words(judged.document(synset).text)) for synset in synsets]
    for query in queries:
        assert query.grades == {query.source: judged.SOURCE_GRADE}
        definition = words(by_id[query.source].definition)
        asked = query.text.split()
        assert 2 <= len(asked) <= 4
        assert [word for word in definition if word in asked][: len(asked)] == asked
        rarest = max(sum(word in seen for seen in held) for word in asked)
        left_out = set(definition) - set(asked) - judged.STOPWORDS
        left_out = {word for word in left_out if len(word) >= 3 and word.isalpha()}
        # No content word left out is rarer than the commonest word taken.
        assert all(sum(word in seen for seen in held) >= rarest for word in left_out)


def test_the_same_seed_draws_the_same_set(synsets: list[wordnet.Synset]) -> None:
    assert judged.sample(synsets, 100, 1) == judged.sample(synsets, 100, 1)
    assert judged.sample(synsets, 100, 1) != judged.sample(synsets, 100, 2)
    assert judged.lemma_queries(synsets, 20, 1) == judged.lemma_queries(synsets, 20, 1)
    assert judged.own_word_queries(synsets, 20, 2) != judged.own_word_queries(synsets, 20, 3)


def test_a_document_holds_its_definition_and_examples_and_no_lemma_field() -> None:
    synset = wordnet.Synset("n1", ("dog",), "a pet; a mammal", ("the dog barked",))
    document = judged.document(synset)
    assert document == judged.Document("n1", "a pet", 'a pet; a mammal; "the dog barked"')
