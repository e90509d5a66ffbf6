"""Vectors in the engine in PostgreSQL (`app/adapters/engine/pg/vectors.py`, `nearest.py`), on
a real PostgreSQL with pgvector, and on Debian's, which has none."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from app.adapters.engine import PgEngine, Search
from app.adapters.engine.fields import Fields
from app.adapters.engine.pg import nearest as neighbours
from app.adapters.engine.pg import vectors
from app.adapters.engine.pg.filters import TRUE, Sql, matching
from app.adapters.store import Store
from app.errors import InvalidInput
from app.schemas.filters import Condition
from tests.servers import fresh_database

pytestmark = pytest.mark.postgres

NS, COLLECTION = "ns", "docs"
SIZE = 8
MODEL = "test-model"


def embedding(size: int) -> dict[str, Any]:
    """A collection's settings, as the services write them, for vectors of `size` numbers."""
    return {"fields": ["title"], "embedder": {"type": "provided"}, "model": MODEL,
            "dimensions": size}  # fmt: skip


# More than twice `vectors.EXACT_LIMIT` documents, so that a search without a filter, or with one
# that keeps half of them, goes through the HNSW index.
MANY = 2 * vectors.EXACT_LIMIT + 500
CLUSTERS = 40


def unit(numbers: list[float]) -> list[float]:
    norm = math.sqrt(sum(n * n for n in numbers))
    return [n / norm for n in numbers]


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(unit(a), unit(b), strict=True))


def collection_id(db: sa.Engine) -> int:
    with db.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT id FROM engine_collections WHERE namespace = %s AND name = %s",
                (NS, COLLECTION),
            ).scalar_one()
        )


def where(db: sa.Engine, condition: Condition) -> Sql:
    """The filter as the engine's searches write it, for the collection's fields."""
    with db.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT attributes, fields FROM engine_collections WHERE name = %s", (COLLECTION,)
        ).one()
    return matching(condition, Fields.load(row[0], row[1]))


@pytest.fixture
def store(pgvector_database: str) -> Iterator[Store]:
    store = Store(pgvector_database)
    yield store
    store.close()


@pytest.fixture(scope="module")
def many(pgvector_url: str) -> Iterator[tuple[sa.Engine, int, dict[str, list[float]]]]:
    """MANY documents with vectors gathered around CLUSTERS centres (as documents gather by
    subject), each in group `g{n % 100}`, of parity `even` or `odd`, and one in a thousand
    `rare`: the database, the collection's id and each document's vector."""
    rng = random.Random(3)
    centres = [unit([rng.gauss(0, 1) for _ in range(SIZE)]) for _ in range(CLUSTERS)]
    drawn = {
        f"d{n}": unit([c + rng.gauss(0, 0.2) for c in centres[n % CLUSTERS]]) for n in range(MANY)
    }
    with fresh_database(pgvector_url) as url:
        store = Store(url)
        engine = PgEngine(store.engine)
        engine.set_embedding(NS, COLLECTION, embedding(SIZE))
        documents = [
            {
                "document_id": f"d{n}",
                "group": f"g{n % 100}",
                "parity": ("even", "odd")[n % 2],
                "rare": n % 1000 == 0,
            }
            for n in range(MANY)
        ]
        given = [drawn[document["document_id"]] for document in documents]
        engine.upsert(NS, COLLECTION, documents[:-100], given[:-100], MODEL)  # the index after
        coll = collection_id(store.engine)
        with store.engine.connect() as conn:
            assert vectors.indexed(conn, coll)
        engine.upsert(NS, COLLECTION, documents[-100:], given[-100:], MODEL)  # these into it
        yield store.engine, coll, drawn
        store.close()


def nearest(db: sa.Engine, coll: int, query: list[float], limit: int, filter: Sql = TRUE) -> Any:
    with db.begin() as conn:
        return neighbours.nearest(conn, coll, query, limit, filter)


def truth(drawn: dict[str, list[float]], query: list[float], keep: Any = None) -> list[str]:
    """The exact answer: every document's cosine similarity, the highest first."""
    kept = [
        (document_id, v) for document_id, v in drawn.items() if keep is None or keep(document_id)
    ]
    return [d for d, _ in sorted(kept, key=lambda pair: (-cosine(pair[1], query), pair[0]))]


def test_the_extension_is_found_and_enabled(store: Store) -> None:
    with store.engine.begin() as conn:
        assert vectors.available(conn)
        assert vectors.version(conn) is None  # a new database: not enabled yet
        enabled = vectors.enable(conn)
        assert enabled >= (0, 5, 0)  # HNSW indexes came with 0.5
        assert vectors.version(conn) == enabled
        assert vectors.enable(conn) == enabled  # enabling again changes nothing


def test_tables_from_before_search_by_meaning_gain_the_embedding_column(store: Store) -> None:
    PgEngine(store.engine).upsert(NS, COLLECTION, [{"document_id": "a", "title": "Sofa"}])
    with store.engine.begin() as conn:  # as the engine left them before
        conn.exec_driver_sql("ALTER TABLE engine_collections DROP COLUMN embedding")
    engine = PgEngine(store.engine)  # (a server of the new version starting)
    assert engine.embedding(NS, COLLECTION) is None
    engine.set_embedding(NS, COLLECTION, embedding(2))
    assert engine.embedding(NS, COLLECTION) == embedding(2)
    assert engine.document(NS, COLLECTION, "a") == {"title": "Sofa"}


def test_a_server_without_pgvector_refuses_to_embed_by_name_and_searches_by_words(
    postgres_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(postgres_database)  # Debian's PostgreSQL 15, which packages no pgvector
    engine = PgEngine(store.engine)
    engine.upsert(NS, COLLECTION, [{"document_id": "a", "title": "Grey sofa"}])
    with caplog.at_level(logging.WARNING, "retriever_pages"), pytest.raises(InvalidInput) as raised:
        engine.set_embedding(NS, COLLECTION, embedding(2))
    assert raised.value.status == 422
    assert raised.value.details["errors"][0]["field"] == "embedding"
    message = raised.value.message
    assert "the pgvector extension (`vector`)" in message
    assert "installs pgvector on the PostgreSQL server" in message
    assert "searched by words" in message
    url = sa.make_url(store.url)
    assert f"127.0.0.1:{url.port}" not in message  # the server is the operator's to know
    assert f"The PostgreSQL server at 127.0.0.1:{url.port}/{url.database} " in caplog.text
    assert "postgres@" not in caplog.text  # no user (nor password) even there
    # Nothing was kept, and the collection is searched by words as before.
    assert engine.embedding(NS, COLLECTION) is None
    assert engine.vector_count(NS, COLLECTION) == 0
    assert engine.without_vectors(NS, COLLECTION, 10) == (None, [])
    engine.upsert(NS, COLLECTION, [{"document_id": "b", "title": "Sofa bed"}], [[1.0, 0]], MODEL)
    found = engine.search(NS, COLLECTION, Search(fields=["title"], text="sofa", vector=[1.0, 0]))
    assert sorted(hit.document_id for hit in found.hits) == ["a", "b"]
    engine.set_embedding(NS, COLLECTION, None)  # (nothing to stop: no error either)
    with store.engine.begin() as conn:
        assert not vectors.available(conn)
        assert neighbours.nearest(conn, collection_id(store.engine), [1.0, 0.0], 10) == []
    store.close()


def test_a_user_who_may_not_enable_pgvector_is_told_what_the_operator_runs(
    pgvector_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """pgvector is for superusers to enable: a database's owner who is not one is refused."""
    admin = sa.create_engine(
        pgvector_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    name = f"owner_{random.randrange(10**9)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN")
        conn.exec_driver_sql(f"CREATE DATABASE {name} OWNER {name}")
    url = pgvector_url.replace("postgres@", f"{name}@").rsplit("/", 1)[0] + f"/{name}"
    store = Store(url)
    try:
        engine = PgEngine(store.engine)  # (its tables, and pg_trgm, are the owner's to make)
        engine.upsert(NS, COLLECTION, [{"document_id": "a", "title": "Sofa"}])
        with (
            caplog.at_level(logging.WARNING, "retriever_pages"),
            pytest.raises(InvalidInput) as raised,
        ):
            engine.set_embedding(NS, COLLECTION, embedding(2))
        assert "may not enable" in raised.value.message
        assert "`CREATE EXTENSION vector`" in raised.value.message
        assert "as a superuser" in caplog.text
        assert engine.embedding(NS, COLLECTION) is None
    finally:
        store.close()
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
            conn.exec_driver_sql(f"DROP ROLE {name}")
        admin.dispose()


def test_vectors_are_set_replaced_and_removed_with_their_documents(store: Store) -> None:
    engine = PgEngine(store.engine)
    engine.set_embedding(NS, COLLECTION, embedding(3))
    documents = [{"document_id": name} for name in ("x", "y", "z")]
    engine.upsert(NS, COLLECTION, documents, [[1, 0, 0], [0, 1, 0], [0, 0, 1]], MODEL)
    coll = collection_id(store.engine)
    db = store.engine
    with db.begin() as conn:
        assert vectors.dimensions(conn, coll) == 3
        assert not vectors.indexed(conn, coll)  # so few are read one by one
    assert [n.document_id for n in nearest(db, coll, [1, 0.1, 0], 3)] == ["x", "y", "z"]
    engine.upsert(NS, COLLECTION, [{"document_id": "x"}], [[-1, 0, 0]], MODEL)  # the other way
    found = nearest(db, coll, [1, 0.1, 0], 3)
    assert [n.document_id for n in found] == ["y", "z", "x"]
    assert found[2].score == pytest.approx(cosine([-1, 0, 0], [1, 0.1, 0]), abs=1e-6)
    engine.upsert(NS, COLLECTION, [{"document_id": "y", "title": "new"}])  # its vector is stale
    assert [n.document_id for n in nearest(db, coll, [1, 0.1, 0], 3)] == ["z", "x"]
    assert engine.document(NS, COLLECTION, "y") is not None  # the document itself stays
    assert engine.delete(NS, COLLECTION, "z")  # a deleted document takes its vector along
    assert [n.document_id for n in nearest(db, coll, [1, 0.1, 0], 3)] == ["x"]
    assert engine.vector_count(NS, COLLECTION) == 1
    assert engine.drop(NS, COLLECTION) == 2
    with db.begin() as conn:
        assert vectors.dimensions(conn, coll) is None  # its table went with it
    assert nearest(db, coll, [1, 0.1, 0], 3) == []


def test_a_collection_filled_with_vectors_is_indexed_once_they_are_all_there(
    store: Store,
) -> None:
    """Filled in batches (`services/embedding.fill`), its vectors go in without the graph,
    which is built over all of them at once when no more than EXACT_LIMIT wait for one."""
    engine = PgEngine(store.engine)
    engine.set_embedding(NS, COLLECTION, embedding(SIZE))
    count = vectors.EXACT_LIMIT * 2
    engine.upsert(NS, COLLECTION, [{"document_id": f"d{n}"} for n in range(count)])
    coll = collection_id(store.engine)
    rng = random.Random(2)
    after = 0
    while True:
        _, missing = engine.without_vectors(NS, COLLECTION, 1000, after)
        if not missing:
            break
        made = [(rowid, unit([rng.gauss(0, 1) for _ in range(SIZE)])) for rowid, _ in missing]
        assert engine.put_vectors(NS, COLLECTION, MODEL, made) == len(made)
        after = missing[-1][0]
        with store.engine.connect() as conn:
            held = engine.vector_count(NS, COLLECTION)
            assert vectors.indexed(conn, coll) == (count - held <= vectors.EXACT_LIMIT < held)
    assert engine.vector_count(NS, COLLECTION) == count


def test_bad_vectors_are_refused_naming_which_and_why(store: Store) -> None:
    engine = PgEngine(store.engine)
    engine.set_embedding(NS, COLLECTION, embedding(3))
    engine.upsert(NS, COLLECTION, [{"document_id": "a"}], [[1, 2, 3]], MODEL)
    coll = collection_id(store.engine)
    cases: list[tuple[list[Any], str]] = [
        ([1, 2], "a list of 3 numbers"),
        ([1, math.nan, 2], "finite numbers"),
        ([1, 1e39, 2], "finite numbers"),
        ([1, "2", 3], "a list of numbers"),
    ]
    for vector, problem in cases:
        with pytest.raises(InvalidInput) as raised:
            engine.upsert(NS, COLLECTION, [{"document_id": "a"}, {"document_id": "b"}],
                          [[3, 2, 1], vector], MODEL)  # fmt: skip
        assert raised.value.details["errors"][0]["field"] == "vectors[1]"
        assert problem in raised.value.details["errors"][0]["message"]
        with store.engine.begin() as conn, pytest.raises(InvalidInput) as raised:
            neighbours.nearest(conn, coll, vector, 10)
        assert raised.value.details["errors"][0]["field"] == "vector"
    assert engine.document(NS, COLLECTION, "b") is None  # each write refused whole
    assert [n.document_id for n in nearest(store.engine, coll, [1, 2, 3], 10)] == ["a"]
    with pytest.raises(InvalidInput) as raised:
        engine.set_embedding(NS, "wide", {**embedding(3), "dimensions": 4096})
    assert raised.value.details["errors"][0]["field"] == "embedder.dimensions"
    assert "1 to 2000 numbers" in raised.value.details["errors"][0]["message"]


def test_a_vector_of_zeros_is_kept_but_never_near_anything(store: Store) -> None:
    """What an embedder makes of a document without text: it has its vector (the collection
    is ready), which has no direction: no search finds it, and it finds nothing."""
    engine = PgEngine(store.engine)
    engine.set_embedding(NS, COLLECTION, embedding(3))
    engine.upsert(NS, COLLECTION, [{"document_id": "a"}, {"document_id": "blank"}],
                  [[1, 2, 3], [0, 0, 0]], MODEL)  # fmt: skip
    coll = collection_id(store.engine)
    assert engine.vector_count(NS, COLLECTION) == 2
    assert [n.document_id for n in nearest(store.engine, coll, [1, 2, 3], 10)] == ["a"]
    assert nearest(store.engine, coll, [0, 0, 0], 10) == []
    like = engine.search(NS, COLLECTION, Search(similar_to="blank"))
    assert (like.hits, like.total) == ([], 0)


def test_the_nearest_documents_are_those_of_exact_cosine_similarity(
    many: tuple[sa.Engine, int, dict[str, list[float]]],
) -> None:
    db, coll, drawn = many
    rng = random.Random(11)
    found_all = 0
    for _ in range(20):
        query = unit([rng.gauss(0, 1) for _ in range(SIZE)])
        expected = truth(drawn, query)[:10]
        found = nearest(db, coll, query, 10)  # through the HNSW index
        assert len(found) == 10
        for neighbour in found:  # each score is the document's cosine similarity
            assert neighbour.score == pytest.approx(
                cosine(drawn[neighbour.document_id], query), abs=1e-5
            )
        assert [n.score for n in found] == sorted((n.score for n in found), reverse=True)
        found_all += len({n.document_id for n in found} & set(expected))
    assert found_all / 200 >= 0.95  # recall@10 of the index
    # A document's own vector finds that document first.
    for document_id in ("d0", "d777", f"d{MANY - 1}"):
        assert nearest(db, coll, drawn[document_id], 1)[0].document_id == document_id


@pytest.mark.parametrize(
    ("condition", "keep"),
    [
        (Condition("parity", "eq", "even"), lambda n: n % 2 == 0),  # half: the index
        (Condition("group", "in", ["g1", "g2", "g3"]), lambda n: n % 100 in (1, 2, 3)),
        (Condition("group", "eq", "g42"), lambda n: n % 100 == 42),
        (Condition("rare", "eq", True), lambda n: n % 1000 == 0),  # 7: fewer than asked
    ],
    ids=["half", "3-percent", "1-percent", "fewer-than-asked"],
)
def test_a_filter_holds_exactly_and_all_its_documents_come_when_fewer_than_asked(
    many: tuple[sa.Engine, int, dict[str, list[float]]], condition: Condition, keep: Any
) -> None:
    db, coll, drawn = many
    rng = random.Random(5)
    kept = [document_id for document_id in drawn if keep(int(document_id[1:]))]
    for _ in range(10):
        query = unit([rng.gauss(0, 1) for _ in range(SIZE)])
        found = [n.document_id for n in nearest(db, coll, query, 30, where(db, condition))]
        assert set(found) <= set(kept)  # never a document outside the filter
        assert len(found) == min(30, len(kept))
        if len(kept) <= vectors.EXACT_LIMIT:  # a filter this narrow is answered exactly
            assert found == truth(drawn, query, lambda d: d in kept)[:30]


def test_an_index_scan_cut_short_by_a_filter_is_made_up_exactly(
    many: tuple[sa.Engine, int, dict[str, list[float]]],
) -> None:
    """Without an iterative scan (pgvector before 0.8), the index hands over `ef_search`
    candidates at most and the filter keeps only some: the answer is then computed exactly."""
    db, coll, drawn = many
    even = where(db, Condition("parity", "eq", "even"))
    rng = random.Random(8)
    cut_short = neighbours.Tuning(exact_limit=0, ef_search=10, iterative=False)
    for _ in range(5):
        query = unit([rng.gauss(0, 1) for _ in range(SIZE)])
        with db.begin() as conn:
            scanned = neighbours.approximate(
                conn, coll, vectors.literal(query, SIZE), 30, even, 10, False
            )
            found = neighbours.nearest(conn, coll, query, 30, even, cut_short)
        assert len(scanned) < 30  # what the index alone finds
        expected = truth(drawn, query, lambda d: int(d[1:]) % 2 == 0)[:30]
        assert [n.document_id for n in found] == expected
