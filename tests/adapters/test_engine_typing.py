"""Someone typing into the search box of the bundled sample catalog (app/sample/catalog.jsonl,
480 products, searched as the demo searches it), a letter at a time: the last word is searched
as a prefix only while fewer than WHOLE_WORD_THRESHOLD documents hold it whole (`words.py`),
and what they would notice holds on each engine: results never vanish while they type a word
the catalog has, a prefix of a rare word finds its documents first, a misspelling still finds
the word, a word no document has empties a search of it alone but not one with other words,
and a common last word typed out keeps every document the other words found."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from app.adapters.engine import Search, SearchEngine
from app.adapters.engine.words import WHOLE_WORD_THRESHOLD
from app.paths import SAMPLE_CATALOG

CATALOG: list[dict[str, Any]] = [
    json.loads(line) for line in SAMPLE_CATALOG.read_text().splitlines() if line.strip()
]
FIELDS = ["title", "description", "brand", "category", "tags"]  # the demo's search fields
LIMIT = 100  # a few pages: enough for every document of the words below
ON_EACH_ENGINE = pytest.mark.parametrize(
    "new_engine",
    [
        "embedded",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("typesense", marks=pytest.mark.typesense),
    ],
    indirect=True,
)


def _words(document: dict[str, Any]) -> set[str]:
    text = " ".join(
        " ".join(value) if isinstance(value, list) else str(value)
        for name in FIELDS
        if (value := document.get(name)) is not None
    )
    return set(re.findall(r"[a-z0-9]+", text.lower()))


WORDS = {document["document_id"]: _words(document) for document in CATALOG}
VOCABULARY = set().union(*WORDS.values())


def holding(word: str) -> set[str]:
    """The documents that hold `word` whole in a searched field."""
    return {document_id for document_id, words in WORDS.items() if word in words}


def typed(word: str) -> Iterator[str]:
    """What the box holds as `word` is typed: its first letter, its first two, ..."""
    return (word[:length] for length in range(1, len(word) + 1))


@pytest.fixture
def catalog(new_engine: SearchEngine) -> SearchEngine:
    new_engine.upsert("shop", "catalog", CATALOG)
    return new_engine


def found(engine: SearchEngine, text: str) -> tuple[int, list[str]]:
    """How many documents match `text`, and the first LIMIT of them, best first."""
    result = engine.search("shop", "catalog", Search(fields=FIELDS, text=text, limit=LIMIT))
    return result.total, [hit.document_id for hit in result.hits]


def test_the_catalog_has_the_words_these_tests_type() -> None:
    # (What the tests below rely on, checked first: were the sample to change, this says so.)
    assert len(holding("with")) >= WHOLE_WORD_THRESHOLD  # common: searched whole once typed
    assert 0 < len(holding("white")) < WHOLE_WORD_THRESHOLD
    for rare in ("family", "compartment"):
        assert 0 < len(holding(rare)) < 10, rare
    assert holding("kestrel")
    assert holding("tidewater")
    assert not holding("zeppelin")
    assert not [word for word in VOCABULARY if word.startswith("zepp")]


@ON_EACH_ENGINE
@pytest.mark.parametrize("word", ["family", "compartment", "tidewater", "with"])
def test_results_never_vanish_while_a_word_is_typed(catalog: SearchEngine, word: str) -> None:
    every = holding(word)
    for text in typed(word):
        total, ids = found(catalog, text)
        assert total > 0, f"nothing for {text!r} on the way to {word!r}"
        # Once what is typed starts no other word of the catalog, the word's documents are
        # all found, and first: a prefix of a rare word finds it.
        if {w for w in VOCABULARY if w.startswith(text)} == {word} and len(every) <= LIMIT:
            assert set(ids[: len(every)]) == every, text
    # Typed out, a word that many documents hold (searched whole) finds every one of them.
    assert found(catalog, word)[0] >= len(every)


@ON_EACH_ENGINE
@pytest.mark.parametrize(("misspelt", "word"), [("kestel", "kestrel"), ("tidewatr", "tidewater")])
def test_a_misspelling_still_finds_the_word(
    catalog: SearchEngine, misspelt: str, word: str
) -> None:
    every = holding(word)
    total, ids = found(catalog, misspelt)
    assert total >= len(every)
    assert set(ids[: len(every)]) == every
    # And with another word before it, as the last word of a longer search.
    both = holding("white") & every
    assert both
    _, ids = found(catalog, f"white {misspelt}")
    assert set(ids[: len(both)]) == both


@ON_EACH_ENGINE
def test_a_word_in_no_document_empties_only_a_search_of_it_alone(
    catalog: SearchEngine,
) -> None:
    assert found(catalog, "zeppelin") == (0, [])
    # After a word the catalog has, each letter of one it lacks ("zepp", ...: "zep" starts
    # its "zephyr") leaves that word's documents, first.
    every = holding("tidewater")
    for text in typed("zeppelin"):
        if any(word.startswith(text) for word in VOCABULARY):
            continue
        total, ids = found(catalog, f"tidewater {text}")
        assert total >= len(every), text
        assert set(ids[: len(every)]) == every, text


@ON_EACH_ENGINE
def test_a_common_last_word_typed_out_keeps_what_the_other_words_found(
    catalog: SearchEngine,
) -> None:
    # Every product with "white" also says "with": typing "with" after it, as a prefix
    # ("w", "wi", "wit") and then whole (held by more than WHOLE_WORD_THRESHOLD documents),
    # never loses one of them.
    white = holding("white")
    assert white <= holding("with")
    for text in typed("with"):
        total, ids = found(catalog, f"white {text}")
        assert total >= len(white), text
        assert set(ids[: len(white)]) == white, text
