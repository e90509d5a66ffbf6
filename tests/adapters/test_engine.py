"""Both engines, by words and with vectors (`new_engine`): ranking, prefixes, filters, paging,
upserts. Where a test's point is how words rank, it searches by words alone (`words`), as a
keyword retriever over a collection with vectors does; elsewhere, with vectors, a search with
text is by meaning too, and finds the documents near it beside those with its words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.adapters.engine import Engine, Search, SearchEngine
from app.adapters.engine.results import Relevance
from tests.with_vectors import hybrid

FILLER = [
    {"document_id": f"f{n}", "title": f"Filler item {n}", "description": "Nothing to see here"}
    for n in range(30)
]


@pytest.fixture
def engine(new_engine: SearchEngine) -> SearchEngine:
    engine = new_engine
    engine.upsert("ns", "products", FILLER)
    return engine


def search(engine: SearchEngine, text: str = "", **options: Any) -> Any:
    values: dict[str, Any] = {
        "fields": ["title", "description"],
        "text": text,
        "filters": {},
        "limit": 10,
        "offset": 0,
    }
    values.update(options)
    return engine.search("ns", "products", Search(**values))


def words(engine: SearchEngine, text: str = "", **options: Any) -> Any:
    """A search by words alone, however the collection is searched otherwise."""
    return search(engine, text, meaning=False, **options)


def test_a_title_match_outranks_a_description_match(engine: SearchEngine) -> None:
    engine.upsert(
        "ns",
        "products",
        [
            {"document_id": "desc", "title": "Desk lamp", "description": "Pairs with headphones"},
            {"document_id": "title", "title": "Studio headphones", "description": "Closed back"},
        ],
    )
    result = words(engine, "headphones")
    assert [hit.document_id for hit in result.hits] == ["title", "desc"]
    assert result.hits[0].score > result.hits[1].score > 0
    # Flip the field order and the ranking flips with it.
    flipped = words(engine, "headphones", fields=["description", "title"])
    assert [hit.document_id for hit in flipped.hits] == ["desc", "title"]


def test_the_last_word_matches_as_a_prefix(engine: SearchEngine) -> None:
    engine.upsert("ns", "products", [{"document_id": "h", "title": "Wireless headphones"}])
    for typed in ("head", "headph", "wireless head", "WIRELESS HEADPHONES"):
        assert [hit.document_id for hit in words(engine, typed).hits] == ["h"], typed
    # Only the last word is a prefix: no document has every word, so the one with most of
    # them is found, and the word it lacks is said.
    for typed, lacking in (("head wireless", ("head",)), ("wire head", ("wire",))):
        result = words(engine, typed)
        assert [hit.document_id for hit in result.hits] == ["h"], typed
        assert result.left_out == lacking, typed


def test_a_word_that_many_documents_hold_whole_is_not_a_prefix(new_engine: SearchEngine) -> None:
    """A last word that 100 documents or more hold as typed is taken as meant whole: its longer
    words, and their documents, come in again one letter short of it."""
    engine = new_engine
    engine.upsert("ns", "products", [{"document_id": "ic", "title": "Pythonic helpers"}])
    tools = [{"document_id": f"t{n}", "title": f"Python tool {n}"} for n in range(100)]
    tools[0]["title"] = "Python tool, pythonic"
    engine.upsert("ns", "products", tools[:99])
    assert words(engine, "python").total == 100  # 99 hold it: a prefix still
    engine.upsert("ns", "products", tools[99:])
    result = words(engine, "python", limit=200, highlight=["title"])
    assert result.total == 100
    assert "ic" not in {hit.document_id for hit in result.hits}
    [first] = [hit for hit in result.hits if hit.document_id == "t0"]
    assert first.highlights == {"title": "<mark>Python</mark> tool, pythonic"}
    pinned = Relevance(pinned=(("ic", 1),))  # a pinned document is marked by the same rule
    [pin] = words(engine, "python", limit=1, highlight=["title"], relevance=pinned).hits
    assert (pin.document_id, pin.highlights) == ("ic", {})
    assert words(engine, "pytho", limit=200).total == 101
    # Whether the word is whole is the collection's count, not the filtered search's.
    assert words(engine, "python", ids=("t1", "ic")).total == 1


def test_words_are_matched_without_accents_or_case(engine: SearchEngine) -> None:
    engine.upsert("ns", "products", [{"document_id": "c", "title": "Crème brûlée torch"}])
    assert [h.document_id for h in words(engine, "creme brulee").hits] == ["c"]


@pytest.mark.parametrize(
    "hostile",
    ['"', 'a" OR "b', "NEAR(a b)", "title:x", "{c0}: x", "a AND", "*", "^x", "-x", "x'; DROP"],
)
def test_query_syntax_from_users_is_just_words(engine: SearchEngine, hostile: str) -> None:
    result = search(engine, hostile)  # no error, whatever is typed
    assert result.total <= len(FILLER)
    assert {h.document_id for h in result.hits} <= {d["document_id"] for d in FILLER}
    assert engine.count("ns", "products") == len(FILLER)


def test_filters_on_exact_values(engine: SearchEngine) -> None:
    engine.upsert(
        "ns",
        "products",
        [
            {
                "document_id": "a",
                "title": "Kettle",
                "category": "Kitchen",
                "in_stock": True,
                "tags": ["steel", "electric"],
                "rating": 4,
            },
            {
                "document_id": "b",
                "title": "Kettlebell",
                "category": "Fitness",
                "in_stock": False,
                "tags": ["iron"],
                "rating": 5,
            },
        ],
    )

    def ids(**filters: Any) -> list[str]:
        return sorted(h.document_id for h in search(engine, "kettle", filters=filters).hits)

    assert ids(category="Kitchen") == ["a"]
    assert ids(category="kitchen") == []  # exact
    assert ids(in_stock=True) == ["a"]
    assert ids(tags="iron") == ["b"]  # membership in an array
    assert ids(category=["Kitchen", "Fitness"]) == ["a", "b"]  # any of
    assert ids(rating=5) == ["b"]
    assert ids(missing_field="x") == []
    assert ids(category="Kitchen", tags="iron") == []  # all filters at once


def test_filters_alone_browse_in_insertion_order(engine: SearchEngine) -> None:
    result = search(engine, "", filters={}, limit=5)
    assert [h.document_id for h in result.hits] == ["f0", "f1", "f2", "f3", "f4"]
    assert result.total == 30
    assert all(h.score == 0 for h in result.hits)


def test_paging_and_totals(engine: SearchEngine) -> None:
    pages = [search(engine, "filler", limit=10, offset=offset) for offset in (0, 10, 20, 30)]
    assert [p.total for p in pages] == [30, 30, 30, 30]
    seen = [h.document_id for p in pages for h in p.hits]
    assert len(seen) == 30
    assert len(set(seen)) == 30
    assert pages[3].hits == []


def test_upsert_replaces_a_document_and_its_index(engine: SearchEngine) -> None:
    first = engine.upsert("ns", "products", [{"document_id": "x", "title": "Old espresso"}])
    assert (first.inserted, first.updated) == (1, 0)
    again = engine.upsert("ns", "products", [{"document_id": "x", "title": "New grinder"}])
    assert (again.inserted, again.updated) == (0, 1)
    assert words(engine, "espresso").hits == []
    hits = search(engine, "grinder").hits
    assert [(h.document_id, h.body) for h in hits[:1]] == [("x", {"title": "New grinder"})]
    assert len(hits) == 1 or hybrid(engine)  # (by meaning, the fillers are near it too)
    assert engine.count("ns", "products") == 31


def test_a_document_read_by_a_search_shows_its_change_in_the_next(engine: SearchEngine) -> None:
    engine.upsert("ns", "products", [{"document_id": "x", "title": "Blue espresso cup"}])
    assert words(engine, "espresso").hits[0].body == {"title": "Blue espresso cup"}
    engine.upsert("ns", "products", [{"document_id": "x", "title": "Red espresso cup"}])
    [hit] = words(engine, "espresso", highlight=["title"]).hits
    assert hit.body == {"title": "Red espresso cup"}
    assert hit.highlights == {"title": "Red <mark>espresso</mark> cup"}
    engine.delete("ns", "products", "x")
    assert words(engine, "espresso").hits == []


def test_a_change_by_another_process_shows_in_the_next_search(tmp_path: Path) -> None:
    """The embedded engine keeps the bodies it read until anything is written, by this
    process or another (a second `Engine` on the same file stands for one)."""
    reader, writer = Engine(tmp_path / "engine.db"), Engine(tmp_path / "engine.db")
    try:
        writer.upsert("ns", "products", [{"document_id": "x", "title": "Blue espresso cup"}])
        assert search(reader, "espresso").hits[0].body["title"] == "Blue espresso cup"
        writer.upsert("ns", "products", [{"document_id": "x", "title": "Red espresso cup"}])
        assert search(reader, "espresso").hits[0].body["title"] == "Red espresso cup"
    finally:
        reader.close()
        writer.close()


def test_a_new_text_field_widens_the_index_without_losing_documents(engine: SearchEngine) -> None:
    engine.upsert("ns", "products", [{"document_id": "b", "title": "Boots", "brand": "Kestrel"}])
    assert [h.document_id for h in words(engine, "kestrel", fields=["brand"]).hits] == ["b"]
    assert words(engine, "filler").total == 30


def test_documents_without_ids_get_one(engine: SearchEngine) -> None:
    result = engine.upsert("ns", "products", [{"title": "Anonymous"}, {"title": "Anonymous"}])
    assert result.inserted == 2
    assert len(set(result.document_ids)) == 2


def test_namespaces_and_collections_are_separate(engine: SearchEngine) -> None:
    engine.upsert("other", "products", [{"document_id": "o", "title": "Filler elsewhere"}])
    assert "o" not in [h.document_id for h in search(engine, "elsewhere").hits]
    assert (
        engine.search(
            "other",
            "products",
            Search(fields=["title"], text="filler", filters={}, limit=10, offset=0),
        ).total
        == 1
    )
    assert (
        engine.search(
            "ns", "nothing-here", Search(fields=["title"], text="x", filters={}, limit=10, offset=0)
        ).total
        == 0
    )


def test_urls_are_not_indexed_as_text(engine: SearchEngine) -> None:
    engine.upsert(
        "ns",
        "products",
        [{"document_id": "u", "title": "Plain", "image_url": "https://cdn.example/filler.png"}],
    )
    assert "u" not in [h.document_id for h in words(engine, "cdn", fields=["image_url"]).hits]


def test_delete_and_drop(engine: SearchEngine) -> None:
    engine.upsert("ns", "products", [{"document_id": "x", "title": "Zebra lamp"}])
    found = [h.document_id for h in search(engine, "zebra").hits]
    assert found[:1] == ["x"]
    assert found == ["x"] or hybrid(engine)  # (by meaning, the fillers are near it too)
    assert engine.delete("ns", "products", "x") is True
    for ratio in (0.5, 1):  # gone from the words and from the vectors
        left = [h.document_id for h in search(engine, "zebra", semantic_ratio=ratio).hits]
        assert "x" not in left
        assert left == [] or hybrid(engine)
    assert engine.delete("ns", "products", "x") is False
    assert engine.delete("ns", "nowhere", "x") is False
    before = engine.count("ns", "products")
    assert engine.drop("ns", "products") == before
    assert engine.count("ns", "products") == 0
    assert engine.vector_count("ns", "products") == 0
    assert engine.drop("ns", "products") is None
    engine.upsert("ns", "products", [{"document_id": "y", "title": "Zebra rug"}])
    assert [h.document_id for h in search(engine, "zebra").hits] == ["y"]
    assert engine.vector_count("ns", "products") == (1 if hybrid(engine) else 0)
