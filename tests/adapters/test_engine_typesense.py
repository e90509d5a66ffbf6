"""The Typesense engine's own behaviour, beyond the engine tests it shares with the others: its
address setting, names that Typesense's syntax must never see, what it refuses by name, a
cluster that does not answer, and a collection imported and searched through the server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from app.adapters.engine import Search, open_engine
from app.adapters.engine.results import Relevance
from app.adapters.engine.typesense import TypesenseEngine
from app.adapters.store import Store
from app.errors import InvalidInput, StoreUnavailable
from app.schemas.filters import Condition, Filter, Group
from app.settings import Settings, SettingsError, load_settings
from app.typesense_address import TypesenseAddress
from app.web.app import create_app
from tests.adapters import test_filters as filter_tests
from tests.helpers import owner_headers, publish_local
from tests.servers import TypesenseServer, free_port

pytestmark = pytest.mark.typesense


def test_the_address_names_the_key_the_nodes_and_tls() -> None:
    address = TypesenseAddress.parse("typesense://k3y@10.0.0.1:8108,ts-2.internal:8108,[::1]:9")
    assert address.api_key == "k3y"
    assert address.nodes == (("10.0.0.1", 8108), ("ts-2.internal", 8108), ("::1", 9))
    assert address.tls is False
    assert TypesenseAddress.parse("typesenses://k@h:443").tls is True


@pytest.mark.parametrize(
    "url",
    [
        "http://key@host:8108",
        "typesense://host:8108",  # no key
        "typesense://@host:8108",
        "typesense://secret-key@host",  # no port
        "typesense://secret-key@host:0",
        "typesense://secret-key@host:70000",
        "typesense://secret-key@host:8108,",
        "typesense://secret-key@ho st:8108",
    ],
)
def test_a_bad_engine_url_stops_the_start_naming_the_setting(url: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(engine_url=url, data_dir="/tmp/unused")
    assert "RETRIEVER_PAGES_ENGINE_URL" in str(raised.value)
    assert "secret-key" not in str(raised.value)  # the key is never repeated back


def test_the_engine_url_picks_typesense_whatever_the_store(tmp_path: Any) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        address = TypesenseAddress.parse(f"typesense://k@127.0.0.1:{free_port()}")
        assert isinstance(open_engine(tmp_path, store, address), TypesenseEngine)
    finally:
        store.close()


def _search(**options: Any) -> Search:
    return Search(**{"fields": ["title"], "text": "lamp", **options})


REFUSED = [
    ("'contains'", {"tree": Condition("title", "contains", "am")}),
    ("'starts_with'", {"tree": Condition("title", "starts_with", "La")}),
    ("NOT over the operator 'gt'", {"tree": Group("NOT", (Condition("price", "gt", 5),))}),
    ("a range over text", {"tree": Condition("title", "gt", "m")}),
    (
        "more than 24 conditions",
        {"tree": Group("OR", [Condition("title", "eq", f"t{n}") for n in range(25)])},
    ),
]


@pytest.mark.parametrize(("feature", "options"), REFUSED, ids=[f for f, _ in REFUSED])
def test_what_typesense_cannot_do_yet_is_refused_by_name(
    typesense_engine: TypesenseEngine, feature: str, options: dict[str, Any]
) -> None:
    typesense_engine.upsert("ns", "c", [{"document_id": "a", "title": "Lamp"}])
    with pytest.raises(InvalidInput) as raised:
        typesense_engine.search("ns", "c", _search(**options))
    assert feature in str(raised.value)
    assert "Typesense" in str(raised.value)


def test_vectors_by_another_model_are_not_kept(typesense_engine: TypesenseEngine) -> None:
    """A write whose vectors another model made (the collection's embedder changed meanwhile)
    keeps its documents, without them: they are made again."""
    engine = typesense_engine
    engine.set_embedding("ns", "c", {"fields": ["title"], "model": "m", "dimensions": 2})
    engine.upsert("ns", "c", [{"document_id": "a", "title": "Lamp"}], [[0.1, 0.2]], "old")
    assert (engine.count("ns", "c"), engine.vector_count("ns", "c")) == (1, 0)
    assert engine.without_vectors("ns", "c", 10)[0] == "m"
    assert [body for _, body in engine.without_vectors("ns", "c", 10)[1]] == [{"title": "Lamp"}]
    number = engine.without_vectors("ns", "c", 10)[1][0][0]
    assert engine.put_vectors("ns", "c", "m", [(number, [0.3, 0.4])]) == 1
    assert engine.put_vectors("ns", "c", "m", [(number, [0.3, 0.4])]) == 0  # (it has one)
    assert engine.vector_count("ns", "c") == 1
    engine.set_embedding("ns", "c", {"fields": ["title"], "model": "n", "dimensions": 3})
    assert engine.vector_count("ns", "c") == 0  # another model: every vector made again
    engine.set_embedding("ns", "c", None)
    assert engine.embedding("ns", "c") is None


def test_synonyms_are_each_retrievers_own(typesense_engine: TypesenseEngine) -> None:
    """Typesense keeps synonyms on a collection; ours are a retriever's, and two retrievers
    over one collection do not see each other's."""
    engine = typesense_engine
    engine.upsert("ns", "c", [{"document_id": "a", "title": "Lamp"},
                              {"document_id": "b", "title": "Light"},
                              {"document_id": "c", "title": "Lantern"}])  # fmt: skip
    light = Relevance(synonyms={("lamp",): (("light",),)})
    lantern = Relevance(synonyms={("lamp",): (("lantern",),)})
    found = [
        {hit.document_id for hit in engine.search("ns", "c", _search(relevance=rules)).hits}
        for rules in (light, lantern, None, light)
    ]
    assert found == [{"a", "b"}, {"a", "c"}, {"a"}, {"a", "b"}]


def test_a_write_through_another_server_is_searched_within_a_second(
    typesense_engine: TypesenseEngine, typesense_server: TypesenseServer
) -> None:
    """Each server keeps a collection's schema for a second (one request a search, not two):
    a field another server adds is searched within it, and a collection dropped and made
    again there is read again as soon as a search names a column it lacks."""
    engine = typesense_engine
    other = TypesenseEngine(TypesenseAddress.parse(typesense_server.url), prefix=engine.prefix)
    engine.upsert("ns", "c", [{"document_id": "a", "title": "Lamp"}])
    assert engine.search("ns", "c", _search()).total == 1
    other.upsert("ns", "c", [{"document_id": "b", "title": "Desk", "shade": "Lamp"}])
    deadline = time.monotonic() + 2
    while engine.search("ns", "c", _search(fields=["title", "shade"])).total < 2:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    other.drop("ns", "c")
    other.upsert("ns", "c", [{"document_id": "c", "name": "Lamp"}])
    # The columns kept name fields the collection no longer has: Typesense says so, and they
    # are read again (never a 500).
    assert engine.search("ns", "c", _search(filters={"title": "Lamp"})).total == 0
    assert engine.search("ns", "c", _search(fields=["name"])).total == 1


def test_first_writes_at_once_keep_every_text_field(typesense_engine: TypesenseEngine) -> None:
    """Collections made, and text fields first seen, by several writers at once: none lost."""
    engine = typesense_engine
    fields = [f"f{n}" for n in range(8)]
    with ThreadPoolExecutor(len(fields)) as pool:
        list(pool.map(lambda f: engine.upsert("ns", "c", [{"document_id": f, f: "text"}]), fields))
    assert sorted(engine.text_fields("ns", "c")) == fields
    assert engine.count("ns", "c") == len(fields)


ODD = ["a.b", "x/y z", "_41", "Ünï", "a,b]`&&"]


def test_odd_names_ids_and_values_stay_apart_and_come_back(
    typesense_engine: TypesenseEngine, typesense_server: TypesenseServer
) -> None:
    engine = typesense_engine
    for n, name in enumerate(ODD):
        engine.upsert(name, name, [{"document_id": name, name: name, "title": f"Lamp {n}"}])
    # Each collection is listed under its name, with a number of its own that every server
    # (here, another engine over the same cluster) gives it too.
    other = TypesenseEngine(TypesenseAddress.parse(typesense_server.url), prefix=engine.prefix)
    listed = [engine.collection_names(name, "", 10) for name in ODD]
    assert [[name for _, name in names] for names in listed] == [[name] for name in ODD]
    assert len({names[0][0] for names in listed}) == len(ODD)
    assert [other.collection_names(name, "", 10) for name in ODD] == listed
    for n, name in enumerate(ODD):
        assert engine.document(name, name, name) == {name: name, "title": f"Lamp {n}"}
        found = engine.search(
            name, name, _search(filters={name: name}, facets=[name], highlight=["title"])
        )
        assert [hit.document_id for hit in found.hits] == [name]
        assert found.hits[0].highlights == {"title": f"<mark>Lamp</mark> {n}"}
        assert [(v.value, v.count) for v in found.facets[name]] == [(name, 1)]
        assert engine.text_fields(name, name) == [name, "title"]
        assert engine.delete(name, name, name) is True
        assert engine.count(name, name) == 0


def test_long_ids_and_many_filter_values_pass_typesenses_query_limit(
    typesense_engine: TypesenseEngine,
) -> None:
    # Typesense takes 4,000 characters of query string at most: searches go in the body.
    engine = typesense_engine
    long_id = "z" * 3000
    tags = [f"tag-{n:03}" for n in range(100)]
    assert engine.upsert("ns", "c", [{"document_id": long_id, "title": "Lamp", "tag": "x"}])
    again = engine.upsert("ns", "c", [{"document_id": long_id, "title": "Long lamp", "tag": "x"}])
    assert (again.inserted, again.updated) == (0, 1)
    found = engine.search("ns", "c", _search(filters={"tag": [*tags, "x"]}, ids=[long_id]))
    assert [hit.document_id for hit in found.hits] == [long_id]
    assert engine.search("ns", "c", _search(excluded=[long_id])).hits == []
    assert engine.delete("ns", "c", long_id) is True


def test_a_filter_of_24_conditions_is_the_most_typesense_takes(
    typesense_engine: TypesenseEngine,
) -> None:
    engine = typesense_engine
    engine.upsert("ns", "c", [{"document_id": "a", "title": "Lamp", "n": 3, "tag": "t23"}])
    either = Group("OR", [Condition("tag", "eq", f"t{n}") for n in range(24)])
    assert engine.search("ns", "c", _search(tree=either)).total == 1
    numbers = Condition("n", "nin", list(range(4, 104)))  # one field's values: one condition
    assert engine.search("ns", "c", _search(tree=numbers)).total == 1


def test_a_cluster_that_does_not_answer_is_unavailable_not_an_error() -> None:
    engine = TypesenseEngine(TypesenseAddress.parse(f"typesense://k@127.0.0.1:{free_port()}"))
    with pytest.raises(StoreUnavailable) as raised:
        engine.search("ns", "c", _search())
    assert raised.value.status == 503
    assert "Typesense" in str(raised.value)
    with pytest.raises(StoreUnavailable):
        engine.upsert("ns", "c", [{"title": "Lamp"}])


@pytest.fixture
def served_engine(typesense_server: TypesenseServer) -> Iterator[TypesenseEngine]:
    """The engine as the server opens it (its own prefix), emptied after the test."""
    engine = TypesenseEngine(TypesenseAddress.parse(typesense_server.url))
    yield engine
    for entry in engine.client.collections.retrieve():
        if entry["name"].startswith(engine.prefix):
            engine.client.collections[entry["name"]].delete()


@pytest.fixture
def typesense_client(
    typesense_server: TypesenseServer,
    served_engine: TypesenseEngine,
    make_settings: Callable[..., Settings],
) -> Iterator[TestClient]:
    settings = make_settings(engine_url=typesense_server.url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


def test_the_command_line_import_writes_to_typesense(
    typesense_server: TypesenseServer, served_engine: TypesenseEngine, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        "".join(
            json.dumps({"document_id": f"d{n}", "title": f"Lamp {n}", "watts": n}) + "\n"
            for n in range(2500)  # three batches
        )
    )
    imported = subprocess.run(
        [sys.executable, "-m", "app.cli", "import", str(rows), "--collection", "lamps",
         "--namespace", "shop"],
        env={**os.environ, "RETRIEVER_PAGES_DATA_DIR": str(tmp_path / "data"),
             "RETRIEVER_PAGES_ENGINE_URL": typesense_server.url},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert served_engine.count("shop", "lamps") == 2500
    assert not (tmp_path / "data" / "engine.db").exists()  # nothing went to the embedded engine
    found = served_engine.search(
        "shop", "lamps", _search(text="lamp", tree=Condition("watts", "gte", 2498))
    )
    assert sorted(hit.document_id for hit in found.hits) == ["d2498", "d2499"]


def test_a_collection_imported_through_the_server_is_searched_in_typesense(
    typesense_client: TestClient,
) -> None:
    client = typesense_client
    documents = [
        {"document_id": "a", "title": "Desk lamp", "category": "Lighting"},
        {"document_id": "b", "title": "Floor lamp", "category": "Lighting"},
        {"document_id": "c", "title": "Kettle", "category": "Kitchen"},
    ]
    added = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": documents}
    )
    assert added.status_code == 200, added.text
    publish_local(client, "lamps", ["title", "description", "category"])
    answer = client.post(
        "/v1/public/retrievers/lamps/execute",
        json={"inputs": {"query": "lamps"}},  # a plural: one letter more, a typo forgiven
    )
    assert answer.status_code == 200, answer.text
    assert sorted(d["document_id"] for d in answer.json()["documents"]) == ["a", "b"]
    gone = client.delete("/v1/collections/products/documents/a", headers=owner_headers())
    assert gone.status_code == 200, gone.text
    again = client.post("/v1/public/retrievers/lamps/execute", json={"inputs": {"query": "lamp"}})
    assert [d["document_id"] for d in again.json()["documents"]] == ["b"]


# What Typesense carries of test_filters.py's plain reading: exact values under any logic, and
# number ranges outside NOT (text ranges and NOT over a range are refused, above).
_exact = st.builds(
    Condition,
    field=st.sampled_from(["brand", "price", "tags"]),
    operator=st.sampled_from(["eq", "ne"]),
    value=st.one_of(st.sampled_from(["lumen", "Lumen", "home", "crema"]), st.integers(0, 300)),
    case_sensitive=st.booleans(),
)
_logic = st.recursive(
    _exact,
    lambda children: st.builds(
        Group,
        kind=st.sampled_from(["AND", "OR", "NOT"]),
        children=st.lists(children, min_size=1, max_size=3).map(tuple),
    ),
    max_leaves=6,
)
_range = st.builds(
    Condition,
    field=st.sampled_from(["price"]),
    operator=st.sampled_from(["gt", "lt"]),
    value=st.integers(0, 300),
)
_trees = st.one_of(
    _logic,
    st.builds(
        Group,
        kind=st.sampled_from(["AND", "OR"]),
        children=st.tuples(_logic, _range),
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=_trees)
def test_typesense_agrees_with_a_plain_reading_of_what_it_carries(
    typesense_engine: TypesenseEngine, tree: Filter
) -> None:
    if typesense_engine.count("ns", "products") == 0:
        typesense_engine.upsert("ns", "products", filter_tests.DOCUMENTS)
    result = typesense_engine.search(
        "ns", "products", Search(fields=["title"], text="", limit=50, tree=tree)
    )
    found = sorted(hit.document_id for hit in result.hits)
    wanted = [d["document_id"] for d in filter_tests.DOCUMENTS if filter_tests.reference(tree, d)]
    assert found == sorted(wanted)


def test_a_page_over_typesense_finds_similar_items_and_completes_words(
    typesense_client: TestClient,
) -> None:
    client = typesense_client
    documents = [
        {"document_id": "a", "title": "Brass desk lamp", "description": "A brass lamp"},
        {"document_id": "b", "title": "Brass floor lamp", "description": "Tall, brass"},
        {"document_id": "c", "title": "Kettle", "description": "Boils water"},
    ]
    added = client.post(
        "/v1/collections/products/documents", headers=owner_headers(), json={"documents": documents}
    )
    assert added.status_code == 200, added.text
    publish_local(client, "lamps", ["title", "description"])
    like = client.post(
        "/v1/public/retrievers/lamps/execute", json={"inputs": {}, "similar_to": "a"}
    )
    assert like.status_code == 200, like.text
    assert [d["document_id"] for d in like.json()["documents"]] == ["b"]
    typed = client.get("/v1/public/retrievers/lamps/typeahead", params={"q": "bra"})
    assert typed.status_code == 200, typed.text
    assert "brass" in typed.text


def test_a_long_document_finds_similar_ones(typesense_engine: TypesenseEngine) -> None:
    """Its words are counted in more searches than Typesense takes in one request (50)."""
    words = [f"word{n}" for n in range(120)]
    typesense_engine.upsert("ns", "c", [
        {"document_id": "long", "title": "Lamp", "description": " ".join(words)},
        {"document_id": "near", "title": "Lamp", "description": " ".join(words[:60])},
        {"document_id": "far", "title": "Kettle", "description": words[0]},
    ])  # fmt: skip
    found = typesense_engine.search(
        "ns", "c", Search(fields=["title", "description"], similar_to="long")
    )
    # (Its one word in common is in every document: telling nothing, it is not asked.)
    assert [hit.document_id for hit in found.hits] == ["near"]


def test_synonyms_hold_on_a_collection_made_again_elsewhere(
    typesense_engine: TypesenseEngine, typesense_server: TypesenseServer
) -> None:
    engine = typesense_engine
    other = TypesenseEngine(TypesenseAddress.parse(typesense_server.url), prefix=engine.prefix)
    rules = Relevance(synonyms={("lamp",): (("light",),)})
    engine.upsert("ns", "c", [{"document_id": "b", "title": "Light"}])
    assert engine.search("ns", "c", _search(relevance=rules)).total == 1
    other.drop("ns", "c")  # (the roots go with the collection)
    other.upsert("ns", "c", [{"document_id": "b", "title": "Light"}])
    assert engine.search("ns", "c", _search(relevance=rules)).total == 1


def test_facets_count_a_zero_and_a_repeated_value_once_a_document(
    typesense_engine: TypesenseEngine,
) -> None:
    """Typesense 0.24 names the value 0 "" in its facets, and counts a value each time a
    list holds it: each is a value, and a document counts once."""
    typesense_engine.upsert("ns", "marks", [
        {"document_id": "a", "title": "One", "marks": [0, 0, 3], "tags": ["x", "x"]},
        {"document_id": "b", "title": "Two", "marks": [0.0, 2], "tags": ["x"]},
    ])  # fmt: skip
    result = typesense_engine.search("ns", "marks", Search(facets=["marks", "tags"], limit=0))
    counted = {name: [(v.value, v.count) for v in values] for name, values in result.facets.items()}
    assert counted == {"marks": [(0, 2), (2, 1), (3, 1)], "tags": [("x", 2)]}
