"""Vectors to measure the vector index with: real ones where the machine can make them.

With `wordllama` installed (its wheel ships 256-dimension weights, loaded here from its own
package directory, never from the network), each package of Debian's catalog (bench/debian.py,
about 64,000) is embedded from its name and one-line description, and the queries are what a
search box sends: one to three of the catalog's common words, embedded the same way. Without
it, random unit vectors (say so in the figures: they are harder for a graph than real ones).

A million is made from the real ones: each is kept, and 15 copies of it are made with Gaussian
noise of norm `NOISE` (0.75: a copy's cosine to its original is 0.8, about that of a package's
nearest real neighbour), normalised again. Noise in every direction makes the set harder for a
graph than more real text would be (it spreads the vectors over all 256 dimensions), so the
recall measured on it is a floor rather than a ceiling.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from bench import debian
from bench.candidates import queries

DIMENSIONS = 256
NOISE = 0.75
SEED = 11
Matrix = npt.NDArray[np.float32]


class Vectors(NamedTuple):
    documents: Matrix
    text_queries: Matrix
    source: str


def unit(matrix: Matrix) -> Matrix:
    normalised: Matrix = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return normalised.astype(np.float32)


def real(query_count: int) -> Vectors:
    """The catalog's vectors and text queries, or random ones without `wordllama`."""
    try:
        import wordllama  # (a benchmark's extra: pip install wordllama)
    except ImportError:
        rng = np.random.default_rng(SEED)
        documents = unit(rng.normal(size=(63_666, DIMENSIONS)).astype(np.float32))
        asked = unit(rng.normal(size=(query_count, DIMENSIONS)).astype(np.float32))
        return Vectors(documents, asked, "random unit vectors (wordllama is not installed)")
    model = wordllama.WordLlama.load(
        dim=DIMENSIONS, cache_dir=Path(wordllama.__file__).parent, disable_download=True
    )
    rows = list(debian.records())
    texts = [f"{row['title']}: {row['description']}" for row in rows]
    cases = queries(rows, query_count)
    words = random.Random(SEED).sample(cases["one"] + cases["two"], query_count)
    documents = unit(np.asarray(model.embed(texts), np.float32))
    asked = unit(np.asarray(model.embed([" ".join(case) for case in words]), np.float32))
    return Vectors(documents, asked, f"Debian's {len(rows):,} packages, embedded by wordllama")


def scaled(documents: Matrix, copies: int) -> Matrix:
    """`documents`, then `copies - 1` noisy copies of them (see the module's docstring)."""
    rng = np.random.default_rng(SEED)
    parts = [documents]
    for _ in range(copies - 1):
        noise = rng.normal(0, NOISE / np.sqrt(DIMENSIONS), documents.shape).astype(np.float32)
        parts.append(unit(documents + noise))
    return np.concatenate(parts)
