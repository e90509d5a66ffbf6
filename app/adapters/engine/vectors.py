"""One collection's vectors, for search by meaning: the nearest documents to a query's vector,
among those its filters let through.

Cosine similarity over unit-length float32 vectors (each is normalised on the way in), keyed by
the unsigned 64-bit integer the engine gives each document. Two structures hold them:

- an HNSW graph (usearch) that finds the nearest of a million in about 1.5 ms (p99 2.6 ms), at
  a recall@10 of 0.96 to 0.98 (docs/design.md, "Vector index", has the measurements);
- the same vectors as rows of a matrix (`vectorrows.py`), which scores exactly any set of keys.

A search without filters asks the graph for `k`. One whose filters keep many documents asks
it for enough candidates that `k` of them should pass, keeps those that do, and asks again for
more when too few did. Filters that keep few documents (up to `EXACT_UP_TO`, or fewer than the
graph would have to walk past) are scored exactly, every one of them. Either way a key outside
`allowed` is never returned, and when fewer than `k` allowed keys have vectors, every one of
them is.

One writer and many readers at once: searches share a lock that a write takes alone.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Set
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from usearch.index import Index

from app.adapters.engine import vectorfile
from app.adapters.engine.rwlock import ReadWriteLock
from app.adapters.engine.vectorfile import VectorFileError
from app.adapters.engine.vectorrows import MISSING, Floats, Keys, Rows

# The graph keeps each vector as a half-precision float: the same recall as float32 in the
# benchmark, 56% of the memory, a faster build and search; 8-bit integers lost 4 points of recall.
GRAPH_DTYPE = "f16"
ROW_DTYPE = np.float16
CONNECTIVITY = 16  # links a node keeps per level (HNSW's M): usearch's default
EXPANSION_ADD = 128  # candidates weighed when linking a new vector (efConstruction)
# Candidates kept while searching (ef, at least those asked for): recall@10 0.98 on the Debian
# catalog and 0.96 at a million, where usearch's default of 64 gave 0.95 and 0.90, for a p99
# of 2 ms at a million (bench.vectors), a fraction of what a query may take.
EXPANSION_SEARCH = 256
# Up to this many vectors (all, or those the filters allow) a search scores every one: exact,
# in about a millisecond.
EXACT_UP_TO = 20_000
# The graph is asked for this many times the results that the filters' share should leave...
OVERFETCH = 2.0
# ... four times more when too few passed, up to this many candidates, then every allowed vector
# is scored instead.
MAX_CANDIDATES = 4096
GROWTH = 4
# What the graph's search costs per candidate, in rows of the exact scan (a row found, read and
# multiplied; `bench.vectors` prints both): a filter is scanned exactly when its keys cost less
# than the candidates the graph would need to walk for it.
ROWS_PER_CANDIDATE = 30
MAX_KEY = 2**64 - 1


class VectorError(ValueError):
    """A vector or key the index cannot take; the message says which and what is allowed."""


class Matches(NamedTuple):
    """Keys, best first, and their cosine similarity to the query (1 is the same direction)."""

    keys: Keys
    scores: Floats


AllowedKeys = Set[int] | npt.NDArray[np.integer[Any]]


class VectorIndex:
    """A collection's vectors: `upsert`, `remove`, `search`, `save` and `load`."""

    def __init__(
        self,
        dimensions: int,
        *,
        version: int = 0,
        exact_up_to: int = EXACT_UP_TO,
        rows_per_candidate: float = ROWS_PER_CANDIDATE,
    ) -> None:
        if dimensions < 1:
            raise VectorError(f"dimensions must be a positive integer, not {dimensions}")
        self._graph = _new_graph(dimensions)
        self._rows = Rows(dimensions, ROW_DTYPE)
        self._lock = ReadWriteLock()
        self.version = version  # the engine's mark of the writes saved with it (see `save`)
        # (tests lower these two to reach the graph with a few thousand vectors)
        self._exact_up_to = exact_up_to
        self._rows_per_candidate = rows_per_candidate

    @property
    def dimensions(self) -> int:
        return self._rows.dimensions

    def __len__(self) -> int:
        return self._rows.count

    @property
    def nbytes(self) -> int:
        """Memory held, about: the graph (as saved) and the rows."""
        return int(self._graph.serialized_length) + self._rows.nbytes

    def agrees(self, count: int) -> bool:
        """Whether the index holds `count` vectors, as many as the engine has documents with
        one: an index that does not is out of step (saved before writes that followed) and
        must be built again."""
        return len(self) == count

    # Writing ------------------------------------------------------------------------------

    def upsert(self, keys: Iterable[int] | npt.NDArray[Any], vectors: npt.ArrayLike) -> None:
        """Set each key's vector, replacing any it had; a key twice in the batch keeps the last."""
        wanted = _keys(keys)
        matrix = self._vectors(vectors)
        if len(wanted) != len(matrix):
            raise VectorError(f"{len(wanted)} keys were given for {len(matrix)} vectors")
        if not len(wanted):
            return
        _, last = np.unique(wanted[::-1], return_index=True)
        chosen = np.sort(len(wanted) - 1 - last)
        wanted, matrix = wanted[chosen], matrix[chosen]
        with self._lock.writing():
            held = wanted[self._rows.find(wanted) != MISSING]
            if len(held):
                self._graph.remove(held)
            self._graph.add(wanted, matrix)
            self._rows.put(wanted, matrix)

    def remove(self, keys: Iterable[int] | npt.NDArray[Any]) -> int:
        """Drop the keys' vectors (a key without one is ignored); how many were dropped."""
        wanted = np.unique(_keys(keys))
        with self._lock.writing():
            held = wanted[self._rows.find(wanted) != MISSING]
            if len(held):
                self._graph.remove(held)
            return self._rows.remove(held)

    # Reading ------------------------------------------------------------------------------

    def vector(self, key: int) -> Floats | None:
        """The key's vector (unit length), or None: what a search for similar documents asks."""
        with self._lock.reading():
            rows = self._rows.find(_keys([key]))
            return None if rows[0] == MISSING else self._rows.vectors(rows)[0]

    def search(self, vector: npt.ArrayLike, k: int, allowed: AllowedKeys | None = None) -> Matches:
        """The `k` vectors nearest to `vector` among the keys in `allowed` (every key, with
        None), best first. Never a key outside `allowed`; every allowed one when fewer than `k`
        have vectors. `allowed` is a set of keys or a numpy array of them (cheaper when large)."""
        if k < 0:
            raise VectorError(f"k must be zero or more, not {k}")
        query = self._vectors(vector)
        if len(query) != 1:
            raise VectorError(f"search takes one vector, not {len(query)}")
        if isinstance(allowed, np.ndarray):
            allowed = _ascending(allowed)
        with self._lock.reading():
            return self._search(query[0], k, allowed)

    def _search(self, query: Floats, k: int, allowed: AllowedKeys | None) -> Matches:
        count = self._rows.count
        share = count if allowed is None else min(count, len(allowed))
        if not k or not share:
            return _nothing()
        wanted = min(count, MAX_CANDIDATES, math.ceil(k * count / share * OVERFETCH))
        walked = max(wanted, EXPANSION_SEARCH)
        if share <= self._exact_up_to or share <= walked * self._rows_per_candidate:
            return self._exact(query, k, allowed)
        if allowed is None:
            # Nothing to drop: the graph's k nearest, as it scores them (the rows hold the same
            # half-precision vectors, so scoring them again changed nothing but the time).
            found = self._graph.search(query, k, threads=1)
            if len(found.keys) >= min(k, count):
                return Matches(found.keys, (1 - found.distances).astype(np.float32))
            return self._exact(query, k, None)  # (a walk that missed some: score them all)
        while True:
            found = self._graph.search(query, wanted, threads=1)
            keys = found.keys if allowed is None else found.keys[_among(found.keys, allowed)]
            if len(keys) >= k:
                return self._best(query, keys, k)
            if wanted >= min(count, MAX_CANDIDATES):
                return self._exact(query, k, allowed)  # (too few passed: score them all)
            wanted = min(count, MAX_CANDIDATES, wanted * GROWTH)

    def _exact(self, query: Floats, k: int, allowed: AllowedKeys | None) -> Matches:
        if allowed is None:
            rows = None
            keys = self._rows.keys
        else:
            found = self._rows.find(_keys(allowed))
            rows = found[found != MISSING]
            keys = self._rows.keys[rows]
        return _top(keys, self._rows.scores(query, rows), k)

    def _best(self, query: Floats, keys: Keys, k: int) -> Matches:
        """The `k` best of the graph's candidates, by their exact scores."""
        rows = self._rows.find(keys)
        held = rows != MISSING  # (always all of them: the graph and the rows change together)
        return _top(keys[held], self._rows.scores(query, rows[held]), k)

    # Files --------------------------------------------------------------------------------

    def save(self, path: Path, version: int | None = None) -> None:
        """Write the index to `path` (whole, or not at all: see `vectorfile.py`), with the
        engine's `version` of it, read back by `load` (for a check finer than `agrees`)."""
        with self._lock.reading():
            if version is not None:
                self.version = version
            vectorfile.write(path, self._graph, self._rows.keys, self._rows.matrix, self.version)

    @classmethod
    def load(
        cls,
        path: Path,
        dimensions: int,
        *,
        exact_up_to: int = EXACT_UP_TO,
        rows_per_candidate: float = ROWS_PER_CANDIDATE,
    ) -> VectorIndex:
        """The index saved at `path`; `VectorFileError` when it is missing, truncated, damaged
        or of other dimensions (then build it again)."""
        saved = vectorfile.read(path, dimensions, lambda dtype: _new_graph(dimensions, dtype))
        index = cls(
            dimensions,
            version=saved.version,
            exact_up_to=exact_up_to,
            rows_per_candidate=rows_per_candidate,
        )
        index._graph = saved.graph
        index._rows = Rows.of(saved.keys, saved.matrix.astype(ROW_DTYPE, copy=False))
        return index

    # Checking what comes in ---------------------------------------------------------------

    def _vectors(self, vectors: npt.ArrayLike) -> Floats:
        """`vectors` (one, or a matrix of them) as unit-length float32 rows, or a clear refusal."""
        try:
            matrix = np.array(vectors, dtype=np.float32, ndmin=2)
        except (TypeError, ValueError) as error:
            raise VectorError(f"a vector must be a list of numbers ({error})") from None
        if matrix.ndim != 2 or (len(matrix) and matrix.shape[1] != self.dimensions):
            shape = "x".join(str(n) for n in matrix.shape)
            raise VectorError(
                f"vectors must have {self.dimensions} dimensions, as this index holds; "
                f"got shape {shape}"
            )
        if not np.isfinite(matrix).all():
            raise VectorError("a vector must hold finite numbers (no NaN or infinity)")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        if (norms == 0).any():
            raise VectorError("a vector of zeros has no direction to compare")
        unit: Floats = matrix / norms
        return unit


def _new_graph(dimensions: int, dtype: Any = GRAPH_DTYPE) -> Index:
    return Index(
        ndim=dimensions,
        metric="cos",
        dtype=dtype,
        connectivity=CONNECTIVITY,
        expansion_add=EXPANSION_ADD,
        expansion_search=EXPANSION_SEARCH,
    )


def _keys(keys: Iterable[int] | npt.NDArray[Any] | AllowedKeys) -> Keys:
    """Keys as uint64, or a clear refusal of any that is not an integer from 0 to 2**64 - 1."""
    given = keys if isinstance(keys, np.ndarray) else np.array(list(keys))
    given = given.ravel()
    if not len(given):
        return np.empty(0, np.uint64)
    if given.dtype.kind == "u" or (given.dtype.kind == "i" and (given >= 0).all()):
        return given.astype(np.uint64, copy=False)
    if given.dtype.kind == "O":  # (Python integers past 2**63)
        with contextlib.suppress(OverflowError, TypeError, ValueError):
            return np.array(given.tolist(), dtype=np.uint64)
    raise VectorError(f"keys must be integers from 0 to {MAX_KEY}")


def _ascending(keys: npt.NDArray[Any]) -> Keys:
    """Keys as uint64 in ascending order (already so, as a filter's are, costs one pass)."""
    ordered = _keys(keys)
    if len(ordered) > 1 and not (ordered[1:] >= ordered[:-1]).all():
        ordered = np.sort(ordered)
    return ordered


def _among(keys: Keys, allowed: AllowedKeys) -> npt.NDArray[np.bool_]:
    """Which of `keys` are in `allowed` (an array in ascending order, or a set)."""
    if isinstance(allowed, np.ndarray):
        if not len(allowed):
            return np.zeros(len(keys), bool)
        at = np.minimum(np.searchsorted(allowed, keys), len(allowed) - 1)
        return np.asarray(allowed[at] == keys)
    return np.fromiter((int(key) in allowed for key in keys), bool, len(keys))


def _top(keys: Keys, scores: Floats, k: int) -> Matches:
    if len(scores) > k:
        best = np.argpartition(-scores, k - 1)[:k]
        keys, scores = keys[best], scores[best]
    order = np.argsort(-scores, kind="stable")
    return Matches(keys[order], scores[order])


def _nothing() -> Matches:
    return Matches(np.empty(0, np.uint64), np.empty(0, np.float32))


__all__ = ["Matches", "VectorError", "VectorFileError", "VectorIndex"]
