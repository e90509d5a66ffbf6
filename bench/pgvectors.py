"""Vectors in the engine in PostgreSQL (app/adapters/engine/pg/vectors.py), on the pgvector
of the test extra's PostgreSQL (tests/servers.py starts it for the run): 65,536 documents with
random unit vectors of 256 numbers, the documents written through the engine and their vectors
through `vectors.write` (a batch into a new table, its HNSW index built after it; a batch into
the index as it grows; the rest with the index dropped, then built over all of them at once,
and again, timed alone), and the 10 nearest documents to random unit vectors with no filter
and with filters keeping 50%, 5% and 0.1% of the documents: milliseconds p50 / p99, recall@10
against the exact answer, and how many answers came back short of 10, for each way of
answering (every distance computed; the HNSW index at several `ef_search`; with pgvector's
iterative scan) and for `nearest.nearest`, which picks one.

    python -m bench.pgvectors [--documents 65536] [--dimensions 256] [--queries 100]
                              [--clusters 0] [--bindir DIR]

`--clusters N` draws the vectors around N centres instead (closer to real embeddings, where
documents gather by subject); `--bindir` runs another PostgreSQL's binaries (with pgvector).
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from app.adapters.engine import PgEngine
from app.adapters.engine.fields import Fields
from app.adapters.engine.pg import nearest, vectors
from app.adapters.engine.pg.filters import TRUE, Sql, matching
from app.adapters.store import Store
from app.schemas.filters import Condition
from bench.engine import percentile
from tests.servers import PostgresServer, pgvector_bin

NAMESPACE, COLLECTION = "bench", "vectors"
TOP_K = 10
BATCH = 8192
# Each filter keeps the documents whose number is a multiple of this: 50%, 5%, 3.1% (2,048
# of 65,536: about `vectors.EXACT_LIMIT`), 0.1%.
FILTERS = {"half": 2, "twentieth": 20, "thirty_second": 32, "thousandth": 1000}
EF_SEARCH = (40, 100, 400, 1000)
ITERATIVE_EF_SEARCH = (40, 100)
SPREAD = 0.5  # how far, relative to a unit centre, a clustered vector lies from its centre

Answer = Callable[[sa.Connection, str, Sql], list[vectors.Neighbour]]
MODEL = "bench"


def unit(numbers: list[float]) -> list[float]:
    norm = math.sqrt(sum(n * n for n in numbers))
    return [n / norm for n in numbers]


def draw(count: int, dimensions: int, centres: list[list[float]], rng: random.Random) -> list:
    if not centres:
        return [unit([rng.gauss(0, 1) for _ in range(dimensions)]) for _ in range(count)]
    scale = SPREAD / math.sqrt(dimensions)
    drawn = []
    for _ in range(count):
        centre = rng.choice(centres)
        drawn.append(unit([c + rng.gauss(0, scale) for c in centre]))
    return drawn


@contextmanager
def server(bindir: Path | None) -> Iterator[Store]:
    found = bindir or pgvector_bin()
    if found is None:
        raise SystemExit("needs the test extra's PostgreSQL with pgvector (scripts/install test)")
    pg = PostgresServer(found)
    pg.start()
    store = Store(pg.url)
    try:
        yield store
    finally:
        store.close()
        pg.remove()


def timed(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=65_536)
    parser.add_argument("--dimensions", type=int, default=256)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--clusters", type=int, default=0)
    parser.add_argument("--bindir", type=Path)
    args = parser.parse_args()
    rng = random.Random(7)
    centres = draw(args.clusters, args.dimensions, [], rng)
    data = draw(args.documents, args.dimensions, centres, rng)
    queries = draw(args.queries, args.dimensions, centres, rng)
    with server(args.bindir) as store:
        db = store.engine
        engine = PgEngine(db)
        settings = {"fields": [], "model": MODEL, "dimensions": args.dimensions}
        engine.set_embedding(NAMESPACE, COLLECTION, settings)
        for start in range(0, args.documents, BATCH):
            engine.upsert(NAMESPACE, COLLECTION, [
                {"document_id": f"d{i}", **{f: i % every == 0 for f, every in FILTERS.items()}}
                for i in range(start, min(start + BATCH, args.documents))
            ])  # fmt: skip
        with db.begin() as conn:
            enabled = vectors.enable(conn)
            version = ".".join(map(str, enabled))
            server_version = conn.exec_driver_sql("SHOW server_version").scalar()
            row = conn.exec_driver_sql(
                "SELECT id, attributes, fields FROM engine_collections WHERE name = %s",
                (COLLECTION,),
            ).one()
            rowids = dict(
                conn.exec_driver_sql(
                    "SELECT document_id, id FROM engine_documents WHERE collection_id = %s",
                    (int(row[0]),),
                ).all()
            )
        collection_id, fields = int(row[0]), Fields.load(row[1], row[2])
        pairs = [(int(rowids[f"d{i}"]), vector) for i, vector in enumerate(data)]

        name = vectors.table(collection_id)
        first, second, rest = pairs[:BATCH], pairs[BATCH : 2 * BATCH], pairs[2 * BATCH :]
        with db.begin() as conn:  # into a new table, its index built after them
            at_once = timed(lambda: vectors.write(conn, collection_id, first))
        with db.begin() as conn:  # into the index as it grows
            grown = timed(lambda: vectors.write(conn, collection_id, second))
        with db.begin() as conn:  # the rest without it, then the index over all at once
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}_hnsw")
            loaded = timed(lambda: vectors.write(conn, collection_id, rest))
        with db.begin() as conn:  # that index again, timed alone
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}_hnsw")
            built = timed(lambda: vectors.build(conn, collection_id))
            conn.exec_driver_sql(f"ANALYZE {name}, engine_documents")
            size = conn.exec_driver_sql(
                f"SELECT pg_size_pretty(pg_relation_size('{name}_hnsw'))"
            ).scalar()
        print(
            f"{args.documents:,} documents, vectors of {args.dimensions} numbers "
            f"({f'{args.clusters} clusters' if args.clusters else 'random'}); PostgreSQL "
            f"{server_version}, pgvector {version}; 10 nearest, {args.queries} queries a line"
        )
        print(
            f"vectors written: {len(first):,} into a new table, its index then built, "
            f"{len(first) / at_once:,.0f}/s; {len(second):,} more into the index, "
            f"{len(second) / grown:,.0f}/s; {len(rest):,} more without it, then the index "
            f"over all {len(pairs):,} built: {loaded:.1f} s, of which the index {built:.1f} s, "
            f"{size}"
        )

        wheres: dict[str, Sql] = {"none": TRUE}
        for field, every in FILTERS.items():
            wheres[f"{100 / every:g}%"] = matching(Condition(field, "eq", True), fields)
        answers: dict[str, Answer] = {
            "exact": lambda c, q, w: nearest.exact(c, collection_id, q, TOP_K, w),
        }
        # (Before 0.8 pgvector has no iterative scan, nor a setting to turn it off.)
        iterative = enabled >= nearest.ITERATIVE_SCAN_SINCE
        for ef in EF_SEARCH:
            answers[f"hnsw ef_search={ef}"] = lambda c, q, w, ef=ef: nearest.approximate(
                c, collection_id, q, TOP_K, w, ef, False if iterative else None
            )
        for ef in ITERATIVE_EF_SEARCH if iterative else ():
            answers[f"iterative ef_search={ef}"] = lambda c, q, w, ef=ef: nearest.approximate(
                c, collection_id, q, TOP_K, w, ef, True
            )
        texts = [vectors.literal(q, args.dimensions) for q in queries]
        print(f"\n{'filter':<7} {'answer':<24} {'p50 ms':>7} {'p99 ms':>7} {'recall':>7}", end="")
        print(f" {'short':>6}")
        for label, where in wheres.items():
            with db.begin() as conn:
                truth = [
                    {n.document_id for n in nearest.exact(conn, collection_id, q, TOP_K, where)}
                    for q in texts
                ]  # fmt: skip
            rows: dict[str, Answer] = {**answers, "nearest (picks)": lambda c, q, w: []}
            for kind, answer in rows.items():
                samples: list[float] = []
                found: list[set[str]] = []
                for number, (text, vector) in enumerate(zip(texts, queries, strict=True)):
                    with db.begin() as conn:
                        started = time.perf_counter()
                        if kind == "nearest (picks)":
                            got = nearest.nearest(conn, collection_id, vector, TOP_K, where)
                        else:
                            got = answer(conn, text, where)
                        samples.append((time.perf_counter() - started) * 1000)
                    found.append({n.document_id for n in got})
                    assert len(got) <= TOP_K, number
                recall = statistics.mean(
                    len(f & t) / len(t) if t else 1.0 for f, t in zip(found, truth, strict=True)
                )
                short = sum(len(f) < len(t) for f, t in zip(found, truth, strict=True))
                print(
                    f"{label:<7} {kind:<24} {statistics.median(samples):>7.2f} "
                    f"{percentile(samples, 0.99):>7.2f} {recall:>7.3f} {short:>6}"
                )


if __name__ == "__main__":
    main()
