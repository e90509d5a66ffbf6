"""Find similar on Typesense, which has no more-like-this of its own: as the other engines do
it (`words.telling_words`), the document's telling words over the search fields (each
counting its field's weight each time it occurs, times its rarity, log(1 + N / df)), then the
`SIMILAR_RESULTS` documents within the filters that score most by them: each word a document
holds scores its own weight, times the weight of the best search field it is in (relative to
the first).

Typesense counts each word's documents (one search per word and field, in one request, over
the `w_` columns of words), and lists the documents holding it: all of them up to `PER_WORD`
per field, which a telling word (held by few) never reaches; a word held by more counts for
the `PER_WORD` written first only, and weighs little (its rarity is low).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from app.adapters.engine.index import fold
from app.adapters.engine.results import Search, SearchResult
from app.adapters.engine.typesense import query
from app.adapters.engine.typesense.documents import SEQ
from app.adapters.engine.typesense.names import column, unhexed
from app.adapters.engine.typesense.schemas import Held
from app.adapters.engine.words import (
    SIMILAR_RESULTS,
    telling_words,
    weighted_texts,
    weights,
)

PER_PAGE = 250  # Typesense's largest page
PER_WORD = 1000  # documents a word and field are read for, at most

Searches = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def search(
    within: Callable[[Search], SearchResult],
    run: Searches,
    name: str,
    held: Held,
    body: dict[str, Any],
    asked: Search,
) -> SearchResult:
    """The page of the documents most like `body` (the document `asked.similar_to`) that
    `asked` wants, within its filters: ranked by how alike, or by its sort. `within` is the
    engine's search of the collection `name`."""
    plain = replace(asked, text="", similar_to=None, relevance=None, facets=(), sort=None)
    excluded = (*asked.excluded, str(asked.similar_to))
    filtered = query.parameters(replace(plain, offset=0, excluded=excluded), held.columns)
    where = filtered[0].get("filter_by") if filtered else None
    listed = similar(run, name, body, list(asked.fields), held.columns, held.documents, where)
    if not listed:
        return SearchResult(hits=[], total=0, facets={f: [] for f in asked.facets})
    scores = dict(listed)
    chosen = replace(asked, text="", similar_to=None, relevance=None, ids=list(scores))
    if asked.sort is not None:  # (paged by Typesense, in the order asked)
        result = within(chosen)
        hits = result.hits
    else:
        result = within(replace(chosen, offset=0, limit=len(listed)))
        hits = sorted(result.hits, key=lambda hit: -scores[hit.document_id])
        hits = hits[asked.offset : asked.offset + asked.limit]
    return replace(result, hits=[replace(hit, score=scores[hit.document_id]) for hit in hits])


def similar(
    run: Searches,
    name: str,
    body: dict[str, Any],
    fields: list[str],
    columns: frozenset[str],
    documents: int,
    within: str | None,
) -> list[tuple[str, float]]:
    """The ids of the documents most like `body` (by its words in `fields`), best first, with
    their scores; `within`, the filter they must meet (the document itself left out)."""
    texts = [f for f in fields if column("w", f) in columns]
    if not texts:
        return []
    weighed = weights(fields)
    top = max(weighed[f] for f in texts)
    words = {w for _, text in weighted_texts(body, fields, texts) for w in fold(text)}
    if not words:
        return []
    counted = _counts(run, name, sorted(words), texts)
    frequencies = {w: max(counted.get((w, f), 0) for f in texts) for w in words}
    terms = telling_words(weighted_texts(body, fields, texts), lambda _: frequencies, documents)
    said = dict(terms)
    best: dict[tuple[str, str], float] = {}  # a word counts once a document, by its best field
    order: dict[str, int] = {}
    for (word, field), ids in _holders(run, name, list(said), texts, within).items():
        for document_id, seq in ids:
            share = said[word] * weighed[field] / top
            best[document_id, word] = max(best.get((document_id, word), 0.0), share)
            order[document_id] = seq
    scores: dict[str, float] = {}
    for (document_id, _), share in best.items():
        scores[document_id] = scores.get(document_id, 0.0) + share
    ranked = sorted(scores.items(), key=lambda pair: (-pair[1], order[pair[0]]))
    return [(unhexed(d), score) for d, score in ranked[:SIMILAR_RESULTS]]


def _counts(
    run: Searches, name: str, words: list[str], fields: list[str]
) -> dict[tuple[str, str], int]:
    """How many documents hold each word in each field."""
    pairs = [(w, f) for w in words for f in fields]
    answers = run([
        {"collection": name, "q": "*", "per_page": 0, "filter_by": f"{column('w', f)}:=[`{w}`]"}
        for w, f in pairs
    ])  # fmt: skip
    return {pair: int(answer.get("found", 0)) for pair, answer in zip(pairs, answers, strict=True)}


def _holders(
    run: Searches, name: str, words: list[str], fields: list[str], within: str | None
) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """The documents (id and order written) holding each word in each field, within the
    filter."""
    pairs = [(w, f) for w in words for f in fields]
    held: dict[tuple[str, str], list[tuple[str, int]]] = {pair: [] for pair in pairs}
    for page in range(1, PER_WORD // PER_PAGE + 1):
        if not pairs:
            break
        answers = run([
            {"collection": name, "q": "*", "page": page, "per_page": PER_PAGE,
             "include_fields": f"id,{SEQ}", "sort_by": f"{SEQ}:asc",
             "filter_by": " && ".join(
                 f"({clause})" for clause in (within, f"{column('w', f)}:=[`{w}`]") if clause
             )}
            for w, f in pairs
        ])  # fmt: skip
        more = []
        for pair, answer in zip(pairs, answers, strict=True):
            hits = answer.get("hits", [])
            held[pair] += [(h["document"]["id"], int(h["document"][SEQ])) for h in hits]
            if len(hits) == PER_PAGE and page * PER_PAGE < int(answer.get("found", 0)):
                more.append(pair)
        pairs = more
    return held
