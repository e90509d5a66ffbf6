"""Vectors in the engine in PostgreSQL (`app/adapters/engine/pg/vectors.py`), on a real
PostgreSQL with pgvector, and on Debian's, which has none."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from app.adapters.engine import PgEngine
from app.adapters.engine.fields import Fields
from app.adapters.engine.pg import vectors
from app.adapters.engine.pg.filters import TRUE, Sql, matching
from app.adapters.store import Store
from app.errors import InvalidInput
from app.schemas.filters import Condition
from tests.servers import fresh_database

pytestmark = pytest.mark.postgres

NS, COLLECTION = "ns", "docs"
SIZE = 8
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
        PgEngine(store.engine).upsert(
            NS,
            COLLECTION,
            [
                {
                    "document_id": f"d{n}",
                    "group": f"g{n % 100}",
                    "parity": ("even", "odd")[n % 2],
                    "rare": n % 1000 == 0,
                }
                for n in range(MANY)
            ],
        )
        coll = collection_id(store.engine)
        pairs = list(drawn.items())
        with store.engine.begin() as conn:  # the index built after these
            vectors.upsert(conn, coll, pairs[:-100])
            assert vectors.indexed(conn, coll)
        with store.engine.begin() as conn:  # and these into it
            vectors.upsert(conn, coll, pairs[-100:])
        yield store.engine, coll, drawn
        store.close()


def nearest(db: sa.Engine, coll: int, query: list[float], limit: int, filter: Sql = TRUE) -> Any:
    with db.begin() as conn:
        return vectors.nearest(conn, coll, query, limit, filter)


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


def test_a_server_without_pgvector_says_so_when_vectors_are_first_written(
    postgres_database: str,
) -> None:
    store = Store(postgres_database)  # Debian's PostgreSQL 15, which packages no pgvector
    PgEngine(store.engine).upsert(NS, COLLECTION, [{"document_id": "a", "title": "A"}])
    coll = collection_id(store.engine)
    url = sa.make_url(store.url)
    with store.engine.begin() as conn:
        assert not vectors.available(conn)
        with pytest.raises(vectors.VectorsUnavailable) as raised:
            vectors.upsert(conn, coll, [("a", [1.0, 0.0])])
        assert vectors.nearest(conn, coll, [1.0, 0.0], 10) == []  # no vectors: nothing near
    message = str(raised.value)
    assert f"The PostgreSQL server at 127.0.0.1:{url.port}/{url.database} " in message
    assert "no pgvector extension (`vector`)" in message
    assert "install pgvector" in message
    assert "postgres@" not in message  # no user (nor password) in what may reach a page
    store.close()


def test_vectors_are_set_replaced_and_deleted_by_document_id(store: Store) -> None:
    engine = PgEngine(store.engine)
    engine.upsert(NS, COLLECTION, [{"document_id": name} for name in ("x", "y", "z")])
    coll = collection_id(store.engine)
    db = store.engine
    with db.begin() as conn:
        written = vectors.upsert(conn, coll, [("x", [1, 0, 0]), ("y", [0, 1, 0]), ("z", [0, 0, 1])])
        assert written == 3
        assert vectors.dimensions(conn, coll) == 3
        assert not vectors.indexed(conn, coll)  # so few are read one by one
    assert [n.document_id for n in nearest(db, coll, [1, 0.1, 0], 3)] == ["x", "y", "z"]
    with db.begin() as conn:  # x now points the other way
        vectors.upsert(conn, coll, [("x", [-1, 0, 0])])
    found = nearest(db, coll, [1, 0.1, 0], 3)
    assert [n.document_id for n in found] == ["y", "z", "x"]
    assert found[2].score == pytest.approx(cosine([-1, 0, 0], [1, 0.1, 0]), abs=1e-6)
    with db.begin() as conn:
        assert vectors.delete(conn, coll, ["y", "nowhere"]) == 1
    assert [n.document_id for n in nearest(db, coll, [1, 0.1, 0], 3)] == ["z", "x"]
    assert engine.document(NS, COLLECTION, "y") is not None  # the document itself stays
    assert engine.delete(NS, COLLECTION, "z")  # a deleted document takes its vector along
    assert [n.document_id for n in nearest(db, coll, [1, 0.1, 0], 3)] == ["x"]
    with db.begin() as conn:
        vectors.drop(conn, coll)
        assert vectors.dimensions(conn, coll) is None
    assert nearest(db, coll, [1, 0.1, 0], 3) == []


def test_bad_vectors_are_refused_naming_which_and_why(store: Store) -> None:
    PgEngine(store.engine).upsert(NS, COLLECTION, [{"document_id": "a"}, {"document_id": "b"}])
    coll = collection_id(store.engine)
    cases: list[tuple[list[Any], str]] = [
        ([1, 2], "a list of 3 numbers"),
        ([1, math.nan, 2], "finite numbers"),
        ([1, 1e39, 2], "finite numbers"),
        ([0, 0, 0], "not every number zero"),
        ([1, "2", 3], "a list of numbers"),
    ]
    with store.engine.begin() as conn:
        vectors.upsert(conn, coll, [("a", [1, 2, 3])])
        for vector, problem in cases:
            with pytest.raises(InvalidInput) as raised:
                vectors.upsert(conn, coll, [("a", [3, 2, 1]), ("b", vector)])
            assert raised.value.details["errors"][0]["field"] == "vectors[1]"
            assert problem in raised.value.details["errors"][0]["message"]
            with pytest.raises(InvalidInput) as raised:
                vectors.nearest(conn, coll, vector, 10)
            assert raised.value.details["errors"][0]["field"] == "vector"
        for stranger in ("missing", "a\x00"):  # (no stored id holds a NUL)
            with pytest.raises(LookupError):
                vectors.upsert(conn, coll, [(stranger, [1, 2, 3])])
        assert vectors.delete(conn, coll, ["a\x00"]) == 0
    assert [n.document_id for n in nearest(store.engine, coll, [1, 2, 3], 10)] == ["a"]


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
    cut_short = vectors.Tuning(exact_limit=0, ef_search=10, iterative=False)
    for _ in range(5):
        query = unit([rng.gauss(0, 1) for _ in range(SIZE)])
        with db.begin() as conn:
            scanned = vectors.approximate(
                conn, coll, vectors.literal(query, SIZE), 30, even, 10, False
            )
            found = vectors.nearest(conn, coll, query, 30, even, cut_short)
        assert len(scanned) < 30  # what the index alone finds
        expected = truth(drawn, query, lambda d: int(d[1:]) % 2 == 0)[:30]
        assert [n.document_id for n in found] == expected
