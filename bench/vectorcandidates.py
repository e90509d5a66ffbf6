"""The vector indexes measured against each other (bench/vectors.py): each builds from keys and
unit vectors, finds the k nearest, and the k nearest among the keys a filter lets through.

Keys are row numbers plus one, so that a filter's keys and rows are the same set."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt
import usearch
from usearch.index import Index

from app.adapters.engine import vectors
from app.adapters.engine.vectorfile import VectorFileError
from app.adapters.engine.vectors import VectorIndex

Keys = npt.NDArray[np.uint64]
Matrix = npt.NDArray[np.float32]
# Every graph measured has the engine's settings (HNSW's M, efConstruction and ef).
GRAPH_LINKS = vectors.CONNECTIVITY
EXPANSION_ADD = vectors.EXPANSION_ADD
EXPANSION_SEARCH = vectors.EXPANSION_SEARCH
OVERFETCH = 2.0
MAX_CANDIDATES = 4096


class Filter(NamedTuple):
    keys: Keys  # ascending
    rows: npt.NDArray[np.int64]
    mask: npt.NDArray[np.bool_]  # one a row


def make_filter(count: int, share: float, rng: np.random.Generator) -> Filter:
    rows = np.sort(rng.choice(count, max(1, round(count * share)), replace=False))
    mask = np.zeros(count, bool)
    mask[rows] = True
    return Filter((rows + 1).astype(np.uint64), rows.astype(np.int64), mask)


class Candidate(Protocol):
    """`memory` is what the index holds as saved, without the allocator's slack."""

    name: str

    def build(self, vectors: Matrix) -> None: ...
    def search(self, query: Matrix, k: int) -> Keys: ...
    def filtered(self, query: Matrix, k: int, allowed: Filter) -> Keys: ...
    def memory(self) -> int: ...


def top(keys: Keys, scores: Matrix, k: int) -> Keys:
    if len(scores) > k:
        best = np.argpartition(-scores, k - 1)[:k]
        keys, scores = keys[best], scores[best]
    result: Keys = keys[np.argsort(-scores)]
    return result


class Exact:
    """numpy: every vector's dot product with the query (one BLAS matrix-vector product)."""

    name = "numpy exact (float32)"

    def build(self, vectors: Matrix) -> None:
        self.matrix = np.ascontiguousarray(vectors)
        self.keys = np.arange(1, len(vectors) + 1, dtype=np.uint64)

    def search(self, query: Matrix, k: int) -> Keys:
        return top(self.keys, self.matrix @ query, k)

    def filtered(self, query: Matrix, k: int, allowed: Filter) -> Keys:
        return top(allowed.keys, self.matrix[allowed.rows] @ query, k)

    def memory(self) -> int:
        return int(self.matrix.nbytes)


class Usearch:
    """usearch's HNSW graph; a filter by asking for more candidates and keeping those that
    pass (its Python binding has no filter callback), up to `MAX_CANDIDATES`."""

    def __init__(self, dtype: str, expansion_add: int = EXPANSION_ADD) -> None:
        self.dtype = dtype
        self.expansion_add = expansion_add
        self.name = f"usearch HNSW ({dtype}" + (
            f", expansion_add {expansion_add})" if expansion_add != EXPANSION_ADD else ")"
        )

    def build(self, vectors: Matrix) -> None:
        self.index = Index(
            ndim=vectors.shape[1],
            metric="cos",
            dtype=self.dtype,
            connectivity=GRAPH_LINKS,
            expansion_add=self.expansion_add,
            expansion_search=EXPANSION_SEARCH,
        )
        self.index.add(np.arange(1, len(vectors) + 1, dtype=np.uint64), vectors)

    def search(self, query: Matrix, k: int) -> Keys:
        keys: Keys = self.index.search(query, k, threads=1).keys
        return keys

    def filtered(self, query: Matrix, k: int, allowed: Filter) -> Keys:
        count = len(self.index)
        wanted = min(count, MAX_CANDIDATES, math.ceil(k * count / len(allowed.keys) * OVERFETCH))
        while True:
            keys = self.index.search(query, wanted, threads=1).keys
            passed = keys[allowed.mask[(keys - 1).astype(np.int64)]]
            if len(passed) >= k or wanted >= min(count, MAX_CANDIDATES):
                result: Keys = passed[:k]
                return result
            wanted = min(count, MAX_CANDIDATES, wanted * 4)

    def memory(self) -> int:
        return int(self.index.serialized_length)


class Faiss:
    """faiss's HNSW graph over float32 vectors (inner product of unit vectors: cosine); a
    filter inside the walk (`IDSelectorBitmap`), which passes excluded nodes by."""

    def __init__(self, faiss: Any) -> None:
        self.faiss = faiss
        self.name = "faiss HNSW (float32)"

    def build(self, vectors: Matrix) -> None:
        self.index = self.faiss.IndexHNSWFlat(vectors.shape[1], GRAPH_LINKS, 0)  # 0: inner product
        self.index.hnsw.efConstruction = EXPANSION_ADD
        self.index.hnsw.efSearch = EXPANSION_SEARCH
        self.index.add(vectors)

    def search(self, query: Matrix, k: int) -> Keys:
        params = self.faiss.SearchParametersHNSW(efSearch=max(EXPANSION_SEARCH, k))
        _, ids = self.index.search(query[None], k, params=params)
        return (ids[0][ids[0] >= 0] + 1).astype(np.uint64)

    def filtered(self, query: Matrix, k: int, allowed: Filter) -> Keys:
        bits = np.packbits(allowed.mask, bitorder="little")
        selector = self.faiss.IDSelectorBitmap(len(allowed.mask), self.faiss.swig_ptr(bits))
        params = self.faiss.SearchParametersHNSW(sel=selector, efSearch=max(EXPANSION_SEARCH, k))
        _, ids = self.index.search(query[None], k, params=params)
        return (ids[0][ids[0] >= 0] + 1).astype(np.uint64)

    def memory(self) -> int:
        return int(self.faiss.serialize_index(self.index).nbytes)


def graph_settings() -> tuple[Any, ...]:
    return (vectors.GRAPH_DTYPE, GRAPH_LINKS, EXPANSION_ADD, usearch.__version__)


class Product:
    """`app.adapters.engine.vectors.VectorIndex`, as the engine will use it; with `cache`, loaded
    from there when a run before built it (and saved there when not)."""

    name = "VectorIndex (the engine's)"

    def __init__(self, cache: Path | None = None) -> None:
        self.cache = cache
        self.built_before: float | None = None

    def build(self, matrix: Matrix) -> None:
        note = self.cache.with_suffix(".json") if self.cache else None
        if self.cache and note and note.exists():
            try:
                self.index = VectorIndex.load(self.cache, matrix.shape[1])
                self.built_before = json.loads(note.read_text())["build_seconds"]
                return
            except (VectorFileError, KeyError, ValueError):
                pass  # (built again below)
        started = time.perf_counter()
        self.index = VectorIndex(matrix.shape[1])
        self.index.upsert(np.arange(1, len(matrix) + 1, dtype=np.uint64), matrix)
        took = time.perf_counter() - started
        if self.cache and note:
            self.cache.parent.mkdir(parents=True, exist_ok=True)
            self.index.save(self.cache)
            note.write_text(json.dumps({"build_seconds": took}))

    def search(self, query: Matrix, k: int) -> Keys:
        return self.index.search(query, k).keys

    def filtered(self, query: Matrix, k: int, allowed: Filter) -> Keys:
        return self.index.search(query, k, allowed.keys).keys

    def memory(self) -> int:
        return self.index.nbytes
