"""Measures of a ranked list against graded judgements, and the ways two ranked lists (the
engine's keyword hits, the nearest documents by embedding) become one.

A list is document ids, best first; a scored list pairs each with its score. Grades are 0 (not
relevant, also any document not judged) and up.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

CUTOFF = 10
RRF_K = 60  # reciprocal rank fusion's constant, as Cormack, Clarke and Buettcher set it

Scored = Sequence[tuple[str, float]]


def recall_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = CUTOFF) -> float:
    """The share of the relevant documents (grade above 0) found in the first k."""
    relevant = {doc for doc, grade in grades.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain: each gain (linear in the grade, as trec_eval counts it)
    divided by log2 of its rank plus one."""
    return sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))


def ndcg_at(ranked: Sequence[str], grades: Mapping[str, int], k: int = CUTOFF) -> float:
    """DCG of the first k over that of the best possible order of the judged documents."""
    ideal = dcg(sorted((grade for grade in grades.values() if grade > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([grades.get(doc, 0) for doc in ranked[:k]]) / ideal


@dataclass(frozen=True)
class Measure:
    """One method over one query set: its mean recall@10, and each query's nDCG@10."""

    recall: float
    ndcgs: tuple[float, ...]

    @property
    def ndcg(self) -> float:
        return statistics.fmean(self.ndcgs)

    @property
    def error(self) -> float:
        """The standard error of the mean nDCG@10."""
        return statistics.stdev(self.ndcgs) / math.sqrt(len(self.ndcgs))


def paired_error(one: Measure, other: Measure) -> float:
    """The standard error of the mean difference of two methods' nDCG@10 over the same
    queries: two means about twice this apart or less cannot be told apart."""
    differences = [a - b for a, b in zip(one.ndcgs, other.ndcgs, strict=True)]
    return statistics.stdev(differences) / math.sqrt(len(differences))


def rrf(lists: Sequence[Sequence[str]], k: int = RRF_K) -> list[str]:
    """Reciprocal rank fusion: each document scores the sum over the lists of 1 / (k + its
    rank there, from 1); a document missing from a list adds nothing for it."""
    scores: dict[str, float] = {}
    for ranked in lists:
        for rank, doc in enumerate(ranked, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return _ordered(scores)


def normalised(scored: Scored) -> dict[str, float]:
    """Scores min-max scaled to [0, 1] within the list (all 1 when they are equal)."""
    if not scored:
        return {}
    low = min(score for _, score in scored)
    high = max(score for _, score in scored)
    span = high - low
    return {doc: (score - low) / span if span else 1.0 for doc, score in scored}


def convex(keyword: Scored, semantic: Scored, semantic_ratio: float) -> list[str]:
    """Each list's scores normalised (`normalised`), then (1 - ratio) x keyword + ratio x
    semantic; a document missing from a list counts 0 there."""
    words, meaning = normalised(keyword), normalised(semantic)
    scores = {
        doc: (1 - semantic_ratio) * words.get(doc, 0.0) + semantic_ratio * meaning.get(doc, 0.0)
        for doc in {**words, **meaning}
    }
    return _ordered(scores)


def exact_first(keyword: Sequence[str], exact: Collection[str], fused: Sequence[str]) -> list[str]:
    """The keyword hits holding every word of the query (`exact`) first, in the keyword
    order, then the fused list without them."""
    top = [doc for doc in keyword if doc in exact]
    kept = set(top)
    return top + [doc for doc in fused if doc not in kept]


def _ordered(scores: Mapping[str, float]) -> list[str]:
    """Best first; a tie goes to the smaller id, so that a run repeats exactly."""
    return sorted(scores, key=lambda doc: (-scores[doc], doc))
