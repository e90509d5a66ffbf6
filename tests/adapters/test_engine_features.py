"""The engines' instant-search features: typos, highlights, facets, sorting, similar documents,
and what survives a restart or a store from before the index moved. Each runs on both engines,
by words and with vectors (`new_engine`); where a test's point is how words rank, it searches
by words alone (`words`), as a keyword retriever over a collection with vectors does."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import tantivy

from app.adapters.engine import Engine, PgEngine, Search, SearchEngine, Sort, index
from app.adapters.engine.fields import Fields
from app.adapters.engine.words import SIMILAR_RESULTS
from tests.with_vectors import hybrid, unwrapped

PRODUCTS: list[dict[str, Any]] = [
    {
        "document_id": "p1",
        "title": "Travel headphones",
        "description": "Closed-back headphones that fold flat for a carry-on.",
        "category": "Audio",
        "price": 129,
        "in_stock": True,
        "tags": ["travel", "wireless"],
        "released": "2025-03-01",
    },
    {
        "document_id": "p2",
        "title": "Studio headphones",
        "description": "Open-back <b>reference</b> sound for mixing.",
        "category": "Audio",
        "price": 249.5,
        "in_stock": False,
        "tags": ["studio"],
        "released": "2024-11-20",
    },
    {
        "document_id": "p3",
        "title": "Bluetooth speaker",
        "description": "A waterproof speaker for travel and the beach.",
        "category": "Audio",
        "price": 59,
        "in_stock": True,
        "tags": ["travel", "outdoor"],
        "released": "2025-06-15",
    },
    {
        "document_id": "p4",
        "title": "Espresso machine",
        "description": "Fifteen bar pump, steam wand, café-style crema.",
        "category": "Kitchen",
        "price": 399,
        "in_stock": True,
        "tags": ["coffee"],
    },
    {
        "document_id": "p5",
        "title": "Travel mug",
        "description": "Keeps coffee hot for six hours on the road.",
        "category": "Kitchen",
        "in_stock": True,
        "tags": ["travel", "coffee"],
        "released": "2023-01-09",
    },
]
FIELDS = ["title", "description"]


@pytest.fixture
def engine(new_engine: SearchEngine) -> SearchEngine:
    engine = new_engine
    engine.upsert("ns", "shop", PRODUCTS)
    return engine


def search(engine: SearchEngine, text: str = "", **options: Any) -> Any:
    values: dict[str, Any] = {"fields": FIELDS, "text": text, "filters": {}, "limit": 10}
    values["offset"] = 0
    values.update(options)
    return engine.search("ns", "shop", Search(**values))


def words(engine: SearchEngine, text: str = "", **options: Any) -> Any:
    """A search by words alone, however the collection is searched otherwise."""
    return search(engine, text, meaning=False, **options)


def ids(result: Any) -> list[str]:
    return [hit.document_id for hit in result.hits]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("headphnes", {"p1", "p2"}),  # one letter missing, a 9-letter word
        ("haedphones", {"p1", "p2"}),  # two letters swapped: one edit
        ("speakr", {"p3"}),  # five letters and more: one typo
        ("espreso machine", {"p4"}),
        ("travle mug", {"p5"}),  # a swap in a 6-letter word
        ("blutooth spea", {"p3"}),  # a typo, then a prefix
    ],
)
def test_typos_are_forgiven_as_meilisearch_does(
    engine: Engine, typed: str, found: set[str]
) -> None:
    result = words(engine, typed)
    # Those with every word first (others may follow with some of the words).
    assert set(ids(result)[: len(found)]) == found
    assert result.left_out == ()


def test_typo_matches_follow_a_word_that_a_few_documents_misspell(engine: SearchEngine) -> None:
    spelt = [
        {"document_id": f"h{n}", "title": f"Wireless headphones {n}", "category": "Audio"}
        for n in range(12)
    ]
    misspelt = {"document_id": "typo", "title": "Wireless headphnes", "category": "Audio"}
    engine.upsert("ns", "shop", [*spelt, misspelt])
    result = words(engine, "headphnes", limit=20)
    # The one document that holds the word as typed comes first; the fourteen that spell it
    # right (the shop's two and these twelve) follow, not hidden behind it.
    assert ids(result)[0] == "typo"
    assert result.total == 15
    assert {f"h{n}" for n in range(12)} | {"p1", "p2"} <= set(ids(result))
    assert result.hits[0].score > result.hits[1].score


def test_a_word_a_hundred_documents_hold_as_typed_brings_no_typo_matches(
    engine: SearchEngine,
) -> None:
    # Its typo matches would rank after five pages of twenty: every engine leaves them out
    # (looking them up was most of a search's time at a million documents).
    spelt = [{"document_id": f"k{n}", "title": f"Kettle {n}"} for n in range(100)]
    typo = {"document_id": "typo", "title": "Kettla"}
    engine.upsert("ns", "shop", [*spelt, typo])
    assert words(engine, "kettle").total == 100
    engine.upsert("ns", "fewer", [*spelt[:99], typo])  # few enough for it to follow them
    result = engine.search(
        "ns", "fewer", Search(fields=["title"], text="kettle", limit=100, meaning=False)
    )
    assert (result.total, ids(result)[-1]) == (100, "typo")


def test_a_word_two_documents_hold_still_finds_its_neighbours(engine: SearchEngine) -> None:
    engine.upsert(
        "ns",
        "shop",
        [
            {"document_id": "z1", "title": "Zorblax kettle"},
            {"document_id": "z2", "title": "Zorblax toaster"},
            {"document_id": "near", "title": "Zorblex blender"},  # one letter off
            {"document_id": "far", "title": "Zxrbqex grinder"},  # too far to be a typo
        ],
    )
    result = words(engine, "zorblax")
    assert set(ids(result)[:2]) == {"z1", "z2"}
    assert ids(result)[2:] == ["near"]


def test_a_phrase_finds_the_documents_with_most_of_its_words(engine: SearchEngine) -> None:
    # No document is red: the headphones are found, and the page can say what was left out.
    result = words(engine, "red headphones")
    assert set(ids(result)) == {"p1", "p2"}
    assert result.left_out == ("red",)
    # A document with every word comes first, the ones with some of them after it.
    result = words(engine, "studio headphones reference")
    assert ids(result) == ["p2", "p1"]
    assert result.left_out == ()


def test_a_rare_word_counts_for_more_than_a_common_one(engine: SearchEngine) -> None:
    # "travel" is in three products, "espresso" in one, and none has both: the espresso
    # machine is what the query is most about.
    result = words(engine, "travel espresso")
    assert ids(result)[0] == "p4"
    assert set(ids(result)) == {"p1", "p3", "p4", "p5"}
    assert result.left_out == ("travel",)


def test_sorted_the_documents_with_every_word_still_come_first(engine: SearchEngine) -> None:
    result = words(engine, "studio headphones reference", sort=Sort("price", "asc"))
    assert ids(result) == ["p2", "p1"]  # p1 is cheaper, but has fewer of the words


def test_short_words_must_be_exact(engine: SearchEngine) -> None:
    # Under five letters no typo is allowed: "mig" is not "mug".
    assert words(engine, "mig").hits == []
    assert ids(words(engine, "mug")) == ["p5"]


def test_exact_matches_rank_above_typos(engine: SearchEngine) -> None:
    engine.upsert(
        "ns",
        "shop",
        [
            {"document_id": "t1", "title": "Lantern", "description": "A camping lanterm."},
            {"document_id": "t2", "title": "Lanterm", "description": "Spelt like the typo."},
        ],
    )
    result = words(engine, "lanterm")
    assert ids(result)[0] == "t2"
    assert set(ids(result)) == {"t1", "t2"}
    assert result.hits[0].score > result.hits[1].score


def test_highlights_mark_each_match_and_escape_the_rest(engine: SearchEngine) -> None:
    result = search(engine, "studio referense", highlight=["title", "description"])
    hit = result.hits[0]  # (with vectors, the documents near in meaning follow it, unmarked)
    assert len(result.hits) == 1 or hybrid(engine)
    assert all("<mark>" not in text for h in result.hits[1:] for text in h.highlights.values())
    assert hit.highlights["title"] == "<mark>Studio</mark> headphones"
    assert hit.highlights["description"] == (
        "Open-back &lt;b&gt;<mark>reference</mark>&lt;/b&gt; sound for mixing."
    )
    # Only the fields asked for, and none without words to match.
    assert search(engine, "studio", highlight=["title"]).hits[0].highlights.keys() == {"title"}
    assert search(engine, "", highlight=["title"]).hits[0].highlights == {}


def test_highlights_follow_prefixes_and_folding(engine: SearchEngine) -> None:
    hit = search(engine, "cafe crem", highlight=["description"]).hits[0]
    assert hit.highlights["description"] == (
        "Fifteen bar pump, steam wand, <mark>café</mark>-style <mark>crema</mark>."
    )


def test_facets_count_every_match_not_only_the_page(engine: SearchEngine) -> None:
    result = search(engine, "travel", limit=1, facets=["category", "tags", "in_stock", "price"])
    assert len(result.hits) == 1
    counted = {name: [(v.value, v.count) for v in values] for name, values in result.facets.items()}
    assert sum(count for _, count in counted["category"]) == result.total
    if not hybrid(engine):  # the three with the word
        assert result.total == 3
        assert counted["category"] == [("Audio", 2), ("Kitchen", 1)]
        assert counted["tags"] == [("travel", 3), ("coffee", 1), ("outdoor", 1), ("wireless", 1)]
        assert set(counted["in_stock"]) == {(True, 3)}
        assert set(counted["price"]) == {(129, 1), (59, 1)}
        return
    # With vectors, every product of so small a shop is among the nearest: all five counted.
    assert result.total == 5
    assert counted["category"] == [("Audio", 3), ("Kitchen", 2)]
    assert counted["tags"] == [
        ("travel", 3), ("coffee", 2), ("outdoor", 1), ("studio", 1), ("wireless", 1)
    ]  # fmt: skip
    assert set(counted["in_stock"]) == {(True, 4), (False, 1)}
    assert set(counted["price"]) == {(129, 1), (249.5, 1), (59, 1), (399, 1)}


def test_facets_follow_filters_and_unknown_fields(engine: SearchEngine) -> None:
    result = search(engine, "", filters={"category": "Kitchen"}, facets=["tags", "nowhere"])
    assert [(v.value, v.count) for v in result.facets["tags"]] == [
        ("coffee", 2),
        ("travel", 1),
    ]
    assert result.facets["nowhere"] == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (Sort("price", "asc"), ["p3", "p1", "p2", "p4", "p5"]),  # no price: last
        (Sort("price", "desc"), ["p4", "p2", "p1", "p3", "p5"]),
        (Sort("released", "desc"), ["p3", "p1", "p2", "p5", "p4"]),
        (Sort("released", "asc"), ["p5", "p2", "p1", "p3", "p4"]),
    ],
)
def test_sorting_by_a_number_or_a_date(
    engine: SearchEngine, sort: Sort, expected: list[str]
) -> None:
    assert ids(search(engine, "", sort=sort)) == expected
    # Paged: the same order, a page at a time, with the total of all matches.
    pages = [search(engine, "", sort=sort, limit=2, offset=offset) for offset in (0, 2, 4)]
    assert [i for page in pages for i in ids(page)] == expected
    assert {page.total for page in pages} == {5}


def test_sorting_keeps_the_query(engine: SearchEngine) -> None:
    # With vectors the query's set is its words' matches and its nearest (here every product),
    # sorted alike: those with a price by it, then the one without.
    expected = ["p3", "p1", "p2", "p4", "p5"] if hybrid(engine) else ["p1", "p2"]
    assert ids(search(engine, "headphones", sort=Sort("price", "asc"))) == expected


PACKAGES: list[dict[str, Any]] = [
    {
        "document_id": "numpy",
        "title": "python3-numpy",
        "description": "Fast array facility to the Python 3 language",
        "section": "python",
    },
    {
        "document_id": "pamtester",
        "title": "pamtester",
        "description": "utility program to test the PAM facility",
        "section": "admin",
    },
    {
        "document_id": "asdf",
        "title": "cl-asdf",
        "description": "Another System Definition Facility",
        "section": "lisp",
    },
    {
        "document_id": "suffix",
        "title": "libdivsufsort3",
        "description": "fast suffix array construction",
        "section": "libs",
    },
    {
        "document_id": "bottleneck",
        "title": "python3-bottleneck",
        "description": "Fast NumPy array functions written in C (Python 3)",
        "section": "python",
    },
    {
        "document_id": "requests",
        "title": "python3-requests",
        "description": "elegant and simple HTTP library for Python 3",
        "section": "python",
    },
    {
        "document_id": "yaml",
        "title": "python3-yaml",
        "description": "YAML parser and emitter for Python 3",
        "section": "python",
    },
]


def test_similar_documents_are_about_the_same_things(new_engine: SearchEngine) -> None:
    new_engine.upsert("ns", "debian", PACKAGES)
    found = new_engine.search(
        "ns", "debian", Search(fields=["title", "description", "section"], text="", filters={},
        limit=10, offset=0, similar_to="numpy")
    )  # fmt: skip
    # What python3-numpy is about: Python, NumPy, arrays; not the word "facility" that two
    # unrelated packages happen to share with it.
    assert ids(found)[0] == "bottleneck"
    assert set(ids(found)[:3]) == {"bottleneck", "requests", "yaml"}


def test_similar_documents_are_a_short_list(new_engine: SearchEngine) -> None:
    lamps = [
        {"document_id": f"l{n}", "title": f"Desk lamp {n}", "category": ["Office", "Home"][n % 2]}
        for n in range(60)
    ]
    new_engine.upsert("ns", "lamps", lamps)
    found = new_engine.search(
        "ns",
        "lamps",
        Search(fields=["title"], text="", filters={}, limit=50, offset=0, similar_to="l0"),
    )
    assert found.total == len(found.hits) == SIMILAR_RESULTS
    # Within the filters the page has picked, still a short list of the closest.
    home = new_engine.search(
        "ns", "lamps", Search(fields=["title"], text="", filters={"category": "Home"}, limit=50,
        offset=0, similar_to="l0")
    )  # fmt: skip
    assert home.total == SIMILAR_RESULTS
    assert all(hit.body["category"] == "Home" for hit in home.hits)
    second = new_engine.search(
        "ns", "lamps", Search(fields=["title"], text="", filters={}, limit=15, offset=15,
        similar_to="l0")
    )  # fmt: skip
    assert len(second.hits) == SIMILAR_RESULTS - 15


def test_similar_documents_exclude_the_document(engine: SearchEngine) -> None:
    result = search(engine, "", similar_to="p1")
    assert "p1" not in ids(result)
    assert ids(result)[0] == "p2"  # headphones, like p1
    assert result.hits[0].score > 0
    with pytest.raises(LookupError):
        search(engine, "", similar_to="nope")


def test_a_range_over_dates_and_numbers(engine: SearchEngine) -> None:
    from app.schemas.filters import parse_filters

    exposed = ["price", "released"]
    tree = parse_filters(
        {"AND": [{"field": "released", "operator": "gte", "value": "2025-01-01"},
                 {"field": "price", "operator": "lt", "value": 100.5}]},
        exposed,
    )  # fmt: skip
    assert ids(search(engine, "", tree=tree)) == ["p3"]


def test_the_index_survives_a_restart_and_a_lost_directory(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "engine.db")
    engine.upsert("ns", "shop", PRODUCTS)
    engine.close()
    again = Engine(tmp_path / "engine.db")
    assert set(ids(search(again, "travel"))) == {"p1", "p3", "p5"}
    again.close()
    for directory in (tmp_path / "indexes").iterdir():
        for file in directory.iterdir():
            file.unlink()
    rebuilt = Engine(tmp_path / "engine.db")
    assert set(ids(search(rebuilt, "travel"))) == {"p1", "p3", "p5"}


@pytest.mark.parametrize("ahead", [True, False], ids=["ahead", "behind"])
def test_an_index_that_does_not_count_its_documents_is_rebuilt_at_start(
    tmp_path: Path, ahead: bool
) -> None:
    """An index with a document SQLite does not have, or without one it has, as a process
    that stopped before it put back a refused write may leave it."""
    engine = Engine(tmp_path / "engine.db")
    engine.upsert("ns", "shop", PRODUCTS)
    (directory,) = (tmp_path / "indexes").iterdir()
    with engine.indexes.writer(directory.name) as writer:
        if ahead:
            ghost, _ = Fields().document(len(PRODUCTS) + 1, {"title": "Travel pillow"})
            writer.add_document(tantivy.Document.from_dict(ghost, index.SCHEMA))
        else:
            writer.delete_documents_by_query(index.by_rowid(1))  # p1, the first stored
    assert engine.count("ns", "shop") != len(PRODUCTS)
    engine.close()
    again = Engine(tmp_path / "engine.db")
    assert again.count("ns", "shop") == len(PRODUCTS)
    travel = search(again, "travel")
    assert (sorted(ids(travel)), travel.total) == (["p1", "p3", "p5"], 3)


def test_a_store_from_before_the_index_moved_is_indexed(tmp_path: Path) -> None:
    """An engine.db with FTS5 tables and no index directory, as earlier versions left it."""
    conn = sqlite3.connect(tmp_path / "engine.db")
    conn.executescript(
        """
        CREATE TABLE collections (id INTEGER PRIMARY KEY, namespace TEXT NOT NULL,
            name TEXT NOT NULL, fields TEXT NOT NULL, fts_version INTEGER NOT NULL,
            UNIQUE (namespace, name));
        CREATE TABLE documents (id INTEGER PRIMARY KEY, collection_id INTEGER NOT NULL,
            document_id TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (collection_id, document_id));
        INSERT INTO collections VALUES (1, 'ns', 'shop', '["title"]', 2);
        INSERT INTO documents VALUES (1, 1, 'old', '{"title": "Vintage kettle", "price": 20}');
        CREATE VIRTUAL TABLE fts_1_2 USING fts5(c0);
        """
    )
    conn.commit()
    conn.close()
    engine = Engine(tmp_path / "engine.db")
    assert ids(engine.search("ns", "shop", Search(fields=["title"], text="kettle", filters={},
                             limit=5, offset=0))) == ["old"]  # fmt: skip
    assert engine.text_fields("ns", "shop") == ["title"]
    tables = sqlite3.connect(tmp_path / "engine.db").execute(
        "SELECT name FROM sqlite_master WHERE name GLOB 'fts_*'"
    )
    assert tables.fetchall() == []


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("contains", "(x) [y]", ["odd"]),  # regex syntax is text
        ("contains", "a*b", ["odd"]),
        ("starts_with", "Lamp (", ["odd"]),
        ("ends_with", "\\ z", ["odd"]),
        ("contains", ".*", []),
        ("contains", "é" * 1000, []),  # past the regex automaton's limit: read off the terms
        ("contains", "crème " * 150, ["long"]),
        ("starts_with", "crème " * 150, ["long"]),
        ("contains", "nul\x00byte", ["nul"]),  # PostgreSQL's text cannot hold it: dropped
        ("contains", "%_", ["odd"]),  # LIKE's wildcards are text too
    ],
)
def test_substring_filters_take_any_text(
    new_engine: SearchEngine, operator: str, value: str, expected: list[str]
) -> None:
    from app.schemas.filters import parse_filters

    engine = new_engine
    engine.upsert(
        "ns",
        "shop",
        [
            {"document_id": "odd", "title": "Lamp (x) [y] %_ a*b \\ z"},
            {"document_id": "nul", "title": "A nul\x00byte in a title"},
            {"document_id": "long", "title": "Crème " * 160},
        ],
    )
    tree = parse_filters({"field": "title", "operator": operator, "value": value}, ["title"])
    assert ids(engine.search("ns", "shop", Search(fields=["title"], text="", filters={}, limit=5,
                             offset=0, tree=tree))) == expected  # fmt: skip


def test_a_reader_sees_fields_another_connection_learnt(tmp_path: Path) -> None:
    """Each connection keeps the collections it has read; a write by any other (another
    worker, here another engine on the same file) is seen at the next query."""
    reader = Engine(tmp_path / "engine.db")
    reader.upsert("ns", "shop", PRODUCTS)
    assert reader.text_fields("ns", "shop")[-1] != "maker"
    writer = Engine(tmp_path / "engine.db")
    writer.upsert("ns", "shop", [{"document_id": "p9", "maker": "Acme kettles"}])
    assert "maker" in reader.text_fields("ns", "shop")
    deadline = time.monotonic() + 3  # the index's readers follow its commits by themselves
    while not ids(search(reader, "kettles", fields=["maker"])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ids(search(reader, "kettles", fields=["maker"])) == ["p9"]
    assert reader.count("ns", "shop") == len(PRODUCTS) + 1


def test_typeahead_words_follow_writes_and_deletes(engine: SearchEngine) -> None:
    # Counted per field: p1 has the word in its title and its description, p2 in its title.
    assert engine.prefix_terms("ns", "shop", FIELDS, "he", 5) == [("headphones", 3)]
    engine.delete("ns", "shop", "p2")
    assert engine.prefix_terms("ns", "shop", FIELDS, "he", 5) == [("headphones", 2)]
    engine.upsert("ns", "shop", [{"document_id": "p1", "title": "Travel pillow"}])
    assert engine.prefix_terms("ns", "shop", FIELDS, "he", 5) == []
    assert engine.count("ns", "shop") == len(PRODUCTS) - 1
    assert engine.drop("ns", "shop") == len(PRODUCTS) - 1
    assert engine.prefix_terms("ns", "shop", FIELDS, "tr", 5) == []


def test_a_substring_filter_matches_past_a_nul(engine: SearchEngine) -> None:
    from app.schemas.filters import parse_filters

    engine.upsert("ns", "shop", [{"document_id": "n1", "title": "Nul\x00 lamp"}])
    tree = parse_filters({"field": "title", "operator": "contains", "value": "nul\x00"}, ["title"])
    assert ids(search(engine, "", tree=tree)) == ["n1"]


def test_nul_characters_in_documents_and_queries(engine: SearchEngine) -> None:
    """PostgreSQL's text cannot hold NUL: values keep theirs in the body and are matched
    without it there; an id with one is refused by name. Neither engine fails."""
    from app.errors import InvalidInput
    from app.schemas.filters import parse_filters

    engine.upsert("ns", "shop", [{"document_id": "n1", "title": "Nul\x00 lamp", "ma\x00ker": "x"}])
    assert next(v for v, _ in engine.prefix_values("ns", "title", "nul", 5, "shop"))[:3] == "Nul"
    engine.prefix_values("ns", "title", "n\x00", 5)  # (PostgreSQL reads it as "n"; no error)
    tree = parse_filters({"field": "title", "operator": "eq", "value": "Nul\x00 lamp"}, ["title"])
    assert ids(search(engine, "", tree=tree)) == ["n1"]
    found = ids(search(engine, "lamp\x00"))
    assert found[:1] == ["n1"]
    assert found == ["n1"] or hybrid(engine)  # (by meaning, the products follow)
    assert engine.delete("ns", "shop", "n1\x00") is False
    with pytest.raises(LookupError):
        search(engine, "", similar_to="p1\x00")
    if isinstance(unwrapped(engine), PgEngine):
        with pytest.raises(InvalidInput, match="document_id"):
            engine.upsert("ns", "shop", [{"document_id": "a\x00b", "title": "x"}])
