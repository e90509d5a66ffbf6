"""Two rankings of one search, by words and by meaning, made one: both engines' hybrid search.

Mixpeek's `feature_search` offers the same two: `rrf` (reciprocal rank fusion, the default)
and `dbsf` (each ranking's scores scaled to 0..1, then added). Each is weighed by the
`semantic_ratio` (Meilisearch's idea: 0 is words only, 1 meaning only).
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

from app.adapters.engine.results import Fusion

# Reciprocal rank fusion's constant (Cormack et al.): a document's share is 1 / (K + rank).
RRF_K = 60

Ranked = Sequence[tuple[int, float]]  # (row id, score), best first


def fuse(
    by_words: Ranked, by_meaning: Ranked, ratio: float, fusion: Fusion
) -> list[tuple[int, float]]:
    """Both rankings as one, best first, each document's score its fused one."""
    scores: dict[int, float] = {}
    for weight, ranked in ((1 - ratio, by_words), (ratio, by_meaning)):
        shares = _ranks(ranked) if fusion == "rrf" else _scaled(ranked)
        for (rowid, _), share in zip(ranked, shares, strict=True):
            scores[rowid] = scores.get(rowid, 0.0) + weight * share
    ordered = sorted(scores.items(), key=itemgetter(1), reverse=True)  # stable: ties keep order
    return [(rowid, round(score, 6)) for rowid, score in ordered]


def _ranks(ranked: Ranked) -> list[float]:
    """1 / (K + rank): what a place in the ranking is worth, whatever its score."""
    return [1 / rank for rank in range(RRF_K + 1, RRF_K + 1 + len(ranked))]


def _scaled(ranked: Ranked) -> list[float]:
    """Each score scaled between the ranking's lowest (0) and highest (1): BM25's scores and
    a cosine's are on unlike scales, and only their places within each ranking compare. A
    ranking whose scores are all equal gives each 1."""
    if not ranked:
        return []
    scores = [score for _, score in ranked]
    low, high = min(scores), max(scores)
    if high == low:
        return [1.0] * len(scores)
    return [(score - low) / (high - low) for score in scores]
