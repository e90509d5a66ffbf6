"""Every vector of a collection as a row of one matrix, found by key: what exact scores read.

The graph (`vectors.py`) finds candidates quickly but gives its vectors back only one Python
array at a time (about 3 times slower than numpy's gather, measured); a filter that keeps a few
thousand documents, and the re-scoring of the graph's candidates, read rows here instead.

Rows stay packed (a removed row takes the last one), so a scan of every row is one slice. A
sorted copy of the keys, with each key's row, finds rows by key (`np.searchsorted`); a write
merges into it, which copies it once (16 bytes a row), rather than sorting it again.
"""

from __future__ import annotations

import numkong
import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.uint64]
Floats = npt.NDArray[np.float32]
RowNumbers = npt.NDArray[np.int64]
# Rows gathered and scored at a time: the copy of a chunk (512 KiB at 256 dimensions) stays in
# cache (50,000 rows scored in 4.7 ms this way, 21 ms gathered at once), and memory stays flat
# however many rows a filter keeps.
CHUNK_ROWS = 1024
MISSING = -1


class Rows:
    """Keys and their vectors (unit length, stored as `dtype`), one row each."""

    def __init__(self, dimensions: int, dtype: npt.DTypeLike = np.float16) -> None:
        self.dimensions = dimensions
        self._matrix: npt.NDArray[np.floating] = np.empty((0, dimensions), dtype)
        self._keys: Keys = np.empty(0, np.uint64)
        self.count = 0
        self._sorted: Keys = np.empty(0, np.uint64)  # the keys in order
        self._rows: RowNumbers = np.empty(0, np.int64)  # the row of each of `_sorted`

    @classmethod
    def of(cls, keys: Keys, matrix: npt.NDArray[np.floating]) -> Rows:
        """Rows holding `matrix` (one row a key, keys unique), as read from a file."""
        rows = cls(matrix.shape[1], matrix.dtype)
        rows._matrix, rows._keys, rows.count = matrix, keys, len(keys)
        order = np.argsort(keys, kind="stable")
        rows._sorted, rows._rows = keys[order], order.astype(np.int64)
        return rows

    @property
    def keys(self) -> Keys:
        return self._keys[: self.count]

    @property
    def matrix(self) -> npt.NDArray[np.floating]:
        return self._matrix[: self.count]

    @property
    def nbytes(self) -> int:
        return int(
            self._matrix.nbytes + self._keys.nbytes + self._sorted.nbytes + self._rows.nbytes
        )

    def find(self, keys: Keys) -> RowNumbers:
        """The row of each key, `MISSING` (-1) for a key not held."""
        if not self.count or not len(keys):
            return np.full(len(keys), MISSING, np.int64)
        at = np.minimum(np.searchsorted(self._sorted, keys), self.count - 1)
        return np.where(self._sorted[at] == keys, self._rows[at], MISSING)

    def vectors(self, rows: RowNumbers) -> Floats:
        return self._matrix[rows].astype(np.float32)

    def put(self, keys: Keys, vectors: Floats) -> None:
        """Set each key's vector, replacing the one it had (`keys` unique)."""
        rows = self.find(keys)
        held = rows != MISSING
        self._matrix[rows[held]] = vectors[held]
        new_keys = keys[~held]
        added = len(new_keys)
        if not added:
            return
        start = self.count
        self._reserve(start + added)
        self._matrix[start : start + added] = vectors[~held]
        self._keys[start : start + added] = new_keys
        self.count += added
        order = np.argsort(new_keys, kind="stable")
        at = np.searchsorted(self._sorted, new_keys[order])
        self._sorted = np.insert(self._sorted, at, new_keys[order])
        self._rows = np.insert(self._rows, at, start + order)

    def remove(self, keys: Keys) -> int:
        """Drop the keys held (others are ignored); how many were dropped."""
        rows = self.find(keys)
        gone = np.unique(rows[rows != MISSING])
        if not len(gone):
            return 0
        self._sorted_drop(self._keys[gone])
        left = self.count - len(gone)
        holes = gone[gone < left]  # removed rows that the last rows, kept, move into
        tail = np.setdiff1d(np.arange(left, self.count), gone, assume_unique=True)
        self._matrix[holes] = self._matrix[tail]
        self._keys[holes] = self._keys[tail]
        self.count = left
        moved = np.searchsorted(self._sorted, self._keys[holes])
        self._rows[moved] = holes
        return len(gone)

    def _sorted_drop(self, keys: Keys) -> None:
        at = np.searchsorted(self._sorted, keys)
        self._sorted = np.delete(self._sorted, at)
        self._rows = np.delete(self._rows, at)

    def _reserve(self, count: int) -> None:
        if count <= len(self._keys):
            return
        capacity = max(count, 2 * len(self._keys), CHUNK_ROWS)
        matrix = np.empty((capacity, self.dimensions), self._matrix.dtype)
        matrix[: self.count] = self.matrix
        keys = np.empty(capacity, np.uint64)
        keys[: self.count] = self.keys
        self._matrix, self._keys = matrix, keys

    def scores(self, query: Floats, rows: RowNumbers | None = None) -> Floats:
        """Cosine similarity of `query` (unit length) with each of `rows`, or with every row.
        numkong's SIMD kernels read the half-precision rows as they are: numpy has no fast way
        to multiply them (converting to float32 first took 10 times as long as the product)."""
        if rows is None:
            return _dots(query, self.matrix)
        out = np.empty(len(rows), np.float32)
        for start in range(0, len(rows), CHUNK_ROWS):
            end = min(len(rows), start + CHUNK_ROWS)
            out[start:end] = _dots(query, self._matrix[rows[start:end]])
        return out


def _dots(query: Floats, block: npt.NDArray[np.floating]) -> Floats:
    if not len(block):
        return np.empty(0, np.float32)
    asked = query.astype(block.dtype)[None]
    # (rows first: numkong's kernel for many-against-one, 4 times faster than one-against-many)
    return np.asarray(numkong.cdist(block, asked, metric="dot", out_dtype="float32"))[:, 0]
