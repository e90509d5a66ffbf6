"""The vector index, measured before choosing it: usearch's HNSW graph (float32, float16 and
8-bit integers), faiss's HNSW graph and an exact numpy scan, on real vectors (bench/vectordata.py:
Debian's catalog embedded by wordllama, 63,681 vectors of 256 dimensions, and a million made
from them), then the engine's own `VectorIndex` built on the choice.

For each: build time, memory per million vectors, query p50/p99 for the 10 and the 100 nearest,
recall@10 against the exact answer; then the same with filters that keep 50%, 5% and 0.1% of the
keys (a random subset, the same for every index). Queries are half text (one to three common
words of the catalog, embedded), half a stored document's own vector (what "similar documents"
asks). Milliseconds, one query at a time, one thread each.

    python -m bench.vectors [--quick] [--wide] [--queries 200]

`--quick` takes the first 16,384 vectors only (under a minute); the full run adds the million,
whose index is built once (11.5 minutes on two shared cores) and kept in `.bench/vectors` for
the runs after (`--rebuild` to build it again): then a full run takes about five minutes. A cell
too slow to time every query (the exact scan at a million) stops after 10 s. `--wide` also
builds the other graphs at a million (an hour more).
"""

from __future__ import annotations

import os

# One thread a query for numpy too: OpenBLAS's threads spin while they wait, and on two shared
# cores they made a matrix-vector product 6 times slower (set before numpy is imported).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from app.adapters.engine.vectors import VectorIndex
from bench import vectordata
from bench.vectorcandidates import (
    Candidate,
    Exact,
    Faiss,
    Filter,
    Matrix,
    Product,
    Usearch,
    graph_settings,
    make_filter,
    top,
)

QUICK_SIZE = 16_384
COPIES = 16  # 63,681 x 16: 1,018,896 vectors
SHARES = (0.5, 0.05, 0.001)
FILTERS_PER_SHARE = 5
KS = (10, 100)
RECALL_K = 10
CANDIDATES = (10, 100, 400, 1600, 6400)
SCANNED = (1_000, 10_000, 50_000, 200_000)
EXPANSIONS = (32, 64, 128, 256)
BUDGET_SECONDS = 10.0
MIN_SAMPLES = 20
QUERY_BLOCK = 16  # queries scored at once for the exact answers (a million x 16 floats)
CACHE = Path(__file__).resolve().parents[1] / ".bench" / "vectors"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * (len(ordered) - 1)))]


def timed(run: Callable[[int], Any], count: int) -> tuple[float, float, list[Any]]:
    """p50 and p99 of `run` over the queries, and its answers: all of them, or as many as
    `BUDGET_SECONDS` allows (at least `MIN_SAMPLES`; only the exact scan at a million is cut)."""
    samples, answers = [], []
    began = time.perf_counter()
    for at in range(count):
        started = time.perf_counter()
        answers.append(run(at))
        samples.append((time.perf_counter() - started) * 1000)
        if at + 1 >= MIN_SAMPLES and time.perf_counter() - began > BUDGET_SECONDS:
            break
    return statistics.median(samples), percentile(samples, 0.99), answers


def recall(found: list[Any], truth: list[Any]) -> float:
    hits = [
        len(set(f[:RECALL_K].tolist()) & set(t.tolist()))
        for f, t in zip(found, truth, strict=False)  # (as many as were timed)
    ]
    return sum(hits) / (RECALL_K * len(found))


def faiss_module() -> Any:
    try:
        import faiss  # (a benchmark's extra: pip install faiss-cpu)
    except ImportError:
        return None
    faiss.omp_set_num_threads(1)  # one thread a query, as usearch's `threads=1`
    return faiss


def candidates(size: int, wide: bool, cache: Path | None) -> list[Candidate]:
    faiss = faiss_module()
    large = size > 100_000
    chosen: list[Candidate] = [Exact(), Product(cache)]
    if not large or wide:
        chosen += [Usearch("f32"), Usearch("f16"), Usearch("i8"), Usearch("f16", 64)]
        if faiss is not None:
            chosen.append(Faiss(faiss))
    return chosen


def filters_for(candidate: Candidate) -> bool:
    return isinstance(candidate, Exact | Product | Faiss) or candidate.name == "usearch HNSW (f16)"


def measure(vectors: Matrix, queries: Matrix, wide: bool, rebuild: bool) -> None:
    count = len(vectors)
    rng = np.random.default_rng(vectordata.SEED)
    filters = {
        share: [make_filter(count, share, rng) for _ in range(FILTERS_PER_SHARE)]
        for share in SHARES
    }

    def allowed(share: float, at: int) -> Filter:
        return filters[share][at % FILTERS_PER_SHARE]

    truth, filtered_truth = exact_answers(vectors, queries, allowed)
    print(f"\n### {count:,} vectors, {len(queries)} queries\n")
    print("| index | build s | MiB per million | k=10 p50 / p99 | k=100 p50 / p99 | recall@10 |")
    print("|---|---|---|---|---|---|")
    filter_rows = []
    for candidate in candidates(count, wide, cached(vectors, rebuild)):
        print(measured(candidate, vectors, queries, truth))
        if filters_for(candidate):
            filter_rows += filtered(candidate, queries, allowed, filtered_truth)
        if isinstance(candidate, Product):
            filter_rows += graph_alone(candidate, queries, allowed, filtered_truth, count, truth)
            files(candidate.index)
            costs(candidate.index, queries, truth)
        del candidate  # (before the next is built: a million vectors of each do not fit twice)
    print("\nfilters (a random share of the keys allowed):\n")
    print("| index | keeps | k=10 p50 / p99 | k=100 p50 / p99 | recall@10 |")
    print("|---|---|---|---|---|")
    for row in filter_rows:
        print(row)


def exact_answers(
    vectors: Matrix, queries: Matrix, allowed: Callable[[float, int], Filter]
) -> tuple[list[Any], dict[float, list[Any]]]:
    """The true 10 nearest of each query, of all keys and of each filter's, from one product
    of the vectors with a block of queries at a time."""
    keys = np.arange(1, len(vectors) + 1, dtype=np.uint64)
    plain: list[Any] = []
    kept: dict[float, list[Any]] = {share: [] for share in SHARES}
    for start in range(0, len(queries), QUERY_BLOCK):
        block = vectors @ queries[start : start + QUERY_BLOCK].T
        for column in range(block.shape[1]):
            scores = block[:, column]
            plain.append(top(keys, scores, RECALL_K))
            for share in SHARES:
                chosen = allowed(share, start + column)
                kept[share].append(top(chosen.keys, scores[chosen.rows], RECALL_K))
    return plain, kept


def cached(vectors: Matrix, rebuild: bool) -> Path | None:
    """Where the million's index is kept between runs (its build is most of a full run), named
    after the vectors and the graph's settings; None below a million, or to build it anew."""
    if len(vectors) < 100_000:
        return None
    digest = hashlib.blake2b(digest_size=8)
    digest.update(np.ascontiguousarray(vectors[:: len(vectors) // 4096]).tobytes())
    digest.update(repr((vectors.shape, graph_settings())).encode())
    path = CACHE / f"{len(vectors)}-{digest.hexdigest()}.vectors"
    if rebuild:
        path.unlink(missing_ok=True)
    return path


def measured(candidate: Candidate, vectors: Matrix, queries: Matrix, truth: list[Any]) -> str:
    """The candidate built, and its row of the main table."""
    started = time.perf_counter()
    candidate.build(vectors)
    build_cell = f"{time.perf_counter() - started:.1f}"
    if isinstance(candidate, Product) and candidate.built_before is not None:
        build_cell = f"{candidate.built_before:.1f} (then; loaded now in {build_cell})"
    held = candidate.memory() * 1e6 / len(vectors) / 2**20
    cells = []
    for k in KS:
        p50, p99, found = timed(lambda at, k=k: candidate.search(queries[at], k), len(queries))
        cells.append(f"{p50:.3f} / {p99:.3f}")
        if k == RECALL_K:
            got = recall(found, truth)
    return (
        f"| {candidate.name} | {build_cell} | {held:,.0f} | {cells[0]} | {cells[1]} | {got:.3f} |"
    )


def filtered(
    candidate: Candidate,
    queries: Matrix,
    allowed: Callable[[float, int], Filter],
    truth: dict[float, list[Any]],
) -> list[str]:
    rows = []
    for share in SHARES:
        cells = []
        for k in KS:
            p50, p99, found = timed(
                lambda at, k=k, share=share: candidate.filtered(queries[at], k, allowed(share, at)),
                len(queries),
            )
            cells.append(f"{p50:.3f} / {p99:.3f}")
            if k == RECALL_K:
                for at, keys in enumerate(found):
                    assert allowed(share, at).mask[(keys - 1).astype(np.int64)].all()
                got = recall(found, truth[share])
        rows.append(f"| {candidate.name} | {share:.1%} | {cells[0]} | {cells[1]} | {got:.3f} |")
    return rows


def graph_alone(
    product: Product,
    queries: Matrix,
    allowed: Callable[[float, int], Filter],
    truth: dict[float, list[Any]],
    count: int,
    plain_truth: list[Any],
) -> list[str]:
    """At a million, usearch's float16 graph is measured as the product holds it (no second
    build of it): unfiltered, and filtered by asking for more."""
    if count < 100_000:
        return []
    alone = Usearch("f16")
    alone.index = product.index._graph
    p50, p99, found = timed(lambda at: alone.search(queries[at], RECALL_K), len(queries))
    print(f"| {alone.name}, the index's graph alone | | | {p50:.3f} / {p99:.3f} | | "
          f"{recall(found, plain_truth):.3f} |")  # fmt: skip
    return filtered(alone, queries, allowed, truth)


def costs(index: VectorIndex, queries: Matrix, truth: list[Any]) -> None:
    """What the index's search weighs for a filter: the graph's time for more candidates
    against the exact scan's for more rows; and what a wider search of the graph buys."""
    count = len(index)
    graph = index._graph
    chosen = graph.expansion_search
    widths = []
    for width in EXPANSIONS:
        graph.expansion_search = width
        p50, p99, found = timed(
            lambda at: graph.search(queries[at], 2 * RECALL_K, threads=1).keys, len(queries)
        )
        widths.append(f"{width}: {p50:.2f} / {p99:.2f} ms, recall {recall(found, truth):.3f}")
    graph.expansion_search = chosen
    print(f"| (expansion_search {'; '.join(widths)}) | | | | | |")
    rng = np.random.default_rng(vectordata.SEED)
    asked = [c for c in CANDIDATES if c <= count]
    walks = [
        timed(lambda at, c=c: index._graph.search(queries[at], c, threads=1), len(queries))[0]
        for c in asked
    ]
    scanned = [r for r in SCANNED if r <= count]
    query = index._vectors(queries[0])[0]
    scans = []
    for rows in scanned:
        chosen = np.sort(rng.choice(count, rows, replace=False))
        scans.append(
            timed(lambda _, chosen=chosen: index._rows.scores(query, chosen), len(queries))[0]
        )
    walked = ", ".join(f"{c:,} candidates {t:.2f}" for c, t in zip(asked, walks, strict=True))
    read = ", ".join(f"{r:,} rows {t:.2f}" for r, t in zip(scanned, scans, strict=True))
    print(f"| (p50 ms, graph: {walked}; exact: {read}) | | | | | |")


def files(index: VectorIndex) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "vectors"
        started = time.perf_counter()
        index.save(path)
        saved = time.perf_counter() - started
        started = time.perf_counter()
        VectorIndex.load(path, index.dimensions)
        loaded = time.perf_counter() - started
        size = path.stat().st_size / 2**20
    print(f"| (its file: {size:,.0f} MiB, saved in {saved:.2f} s, loaded and checked in "
          f"{loaded:.2f} s) | | | | | |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--wide", action="store_true")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true", help="build the million's index anew")
    args = parser.parse_args()
    asked = max(2, args.queries // 2 if not args.quick else 50)
    data = vectordata.real(asked)
    print(
        f"vectors: {data.source}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    sizes = [data.documents[:QUICK_SIZE]] if args.quick else [data.documents]
    if not args.quick:
        sizes.append(vectordata.scaled(data.documents, COPIES))
    rng = np.random.default_rng(vectordata.SEED)
    for vectors in sizes:
        stored = vectors[rng.choice(len(vectors), asked, replace=False)]
        measure(vectors, np.concatenate([data.text_queries, stored]), args.wide, args.rebuild)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
