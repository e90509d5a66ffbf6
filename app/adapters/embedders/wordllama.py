"""The built-in embedder: WordLlama's `l2_supercat_256` (256 numbers a text), from the weights
and tokenizer inside the `wordllama` wheel, with no download ever.

`WordLlama.load()` looks for the tokenizer in `wordllama/tokenizer/`, while the wheel ships it
in `wordllama/tokenizers/`; it then looks in `~/.cache/wordllama` and downloads what it did not
find. Given the package's own folder as its cache, it finds both files where the wheel put them
(`weights/l2_supercat_256.safetensors`, `tokenizers/l2_supercat_tokenizer_config.json`), and
`disable_download=True` turns a missing file into an error instead of a download.

A text's vector is the mean of its tokens' vectors. WordLlama's own `embed` pads a batch to its
longest text, so its memory grows with the batch times the longest text; here a batch is
tokenized once (`encode_batch_fast`: the token ids without their offsets in the text, which
nothing here reads) and its tokens pooled without padding, at most `TOKEN_BUDGET` of them at a
time, gathered into one buffer.
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np

from app.adapters.embedders import Kind, Vectors
from app.adapters.embedders.local import Encode, LocalEmbedder, Once
from app.adapters.embedders.vectors import unit_rows

CONFIG = "l2_supercat"
DIMENSIONS = 256
NAME = f"wordllama:{CONFIG}_{DIMENSIONS}"
# A document's first 4,096 tokens (about 3,000 words) make its vector: past that, a mean of
# word vectors hardly moves.
MAX_TOKENS = 4096
# Token vectors gathered at once, into one buffer reused for the batch: half a MiB of float32
# stays in the processor's cache, where a whole batch's (tens of MiB) made pooling five times
# slower; 512 pooled the Debian catalog in 6.6 µs a text, 1,024 in 8.3, 2,048 in 11 (design.md).
TOKEN_BUDGET = 512
# A query of a few words takes tens of microseconds here, less than a hop to a worker thread
# and back (docs/design.md, "Embedders").
INLINE_TEXTS = 4
INLINE_CHARACTERS = 1000


def _load() -> Encode:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        # Importing wordllama calls logging.basicConfig(level=INFO): put the server's own
        # logging back as it was.
        import wordllama
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    model = wordllama.WordLlama.load(
        CONFIG,
        dim=DIMENSIONS,
        cache_dir=Path(wordllama.__file__).parent,
        disable_download=True,
    )
    tokenizer = model.tokenizer
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_TOKENS)
    table = np.ascontiguousarray(model.embedding, dtype=np.float32)
    # (the same ids as `encode_batch`, in about half the time: tokenizers 0.21 and later)
    encode_batch = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)

    def encode(texts: list[str], kind: Kind) -> Vectors:
        # One model for queries and documents: `kind` changes nothing. Blank text would be
        # the space token's vector, like every other blank text's: it gets zeros instead.
        texts = [text if not text.isspace() else "" for text in texts]
        encodings = encode_batch(texts, add_special_tokens=False)
        return _pool(table, [encoding.ids for encoding in encodings])

    return encode


def _pool(table: Vectors, ids: list[list[int]]) -> Vectors:
    """The unit mean of each text's token vectors, a budget of tokens at a time."""
    rows = np.zeros((len(ids), table.shape[1]), dtype=np.float32)
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    total = int(lengths.sum())
    if total == 0:
        return rows
    flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int64, count=total)
    np.clip(flat, 0, len(table) - 1, out=flat)  # as WordLlama does for ids past its table
    ends = np.cumsum(lengths)
    starts = ends - lengths
    buffer = np.empty((min(total, TOKEN_BUDGET), table.shape[1]), dtype=np.float32)
    first = 0
    while first < len(ids):
        # The texts from `first` whose tokens fit the budget (at least one, however long).
        last = max(first + 1, int(np.searchsorted(ends, starts[first] + TOKEN_BUDGET, "right")))
        low, high = int(starts[first]), int(ends[last - 1])
        gathered = (
            buffer
            if high - low <= len(buffer)
            else np.empty((high - low, table.shape[1]), np.float32)
        )
        gathered = np.take(table, flat[low:high], axis=0, out=gathered[: high - low])
        present = lengths[first:last] > 0
        # The sum, not the mean: the row is made a unit vector afterwards either way.
        rows[first:last][present] = np.add.reduceat(
            gathered, starts[first:last][present] - low, axis=0
        )
        first = last
    return unit_rows(rows)


EMBEDDER = LocalEmbedder(NAME, DIMENSIONS, Once(_load), INLINE_TEXTS, INLINE_CHARACTERS)
