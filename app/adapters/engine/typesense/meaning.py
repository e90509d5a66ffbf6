"""Search by meaning on Typesense, as the other engines search (`hybrid.py`): a search with a
query vector finds the `MEANING_RESULTS` documents nearest to it within the filters (exactly:
Typesense's `vector_query` keeps to the `filter_by`) and, unless it searches by meaning alone,
the documents its words match; both sets are fused by the retriever's fusion (`fusion.py`),
or sorted by a field. The facets and the total count both sets: the words' own, and the
nearest that the words do not match (asked of Typesense among the nearest, so exact). Find
similar, in a collection with vectors, is the documents nearest to that one's vector.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from app.adapters.engine.fields import as_date
from app.adapters.engine.fusion import fuse
from app.adapters.engine.highlight import highlights
from app.adapters.engine.relevance import marked, query_words
from app.adapters.engine.results import Hit, Search, SearchResult
from app.adapters.engine.typesense import query
from app.adapters.engine.typesense.documents import SEQ
from app.adapters.engine.typesense.names import unhexed
from app.adapters.engine.typesense.schemas import Held
from app.adapters.engine.words import SIMILAR_RESULTS
from app.schemas.search import FacetCount

MEANING_RESULTS = 100  # as the other engines (`hybrid.py`)
PER_PAGE = 250

Within = Callable[[Search], SearchResult]  # the engine's search of the collection, by words
Searches = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def page(within: Within, run: Searches, name: str, held: Held, search: Search) -> SearchResult:
    """One page of a search by meaning, or by meaning and words."""
    assert search.vector is not None
    assert held.vector is not None
    if len(search.vector) != held.vector[1]:
        raise ValueError(f"a query vector of {held.vector[1]} numbers was expected")
    where = _filters(search, held)
    if isinstance(where, bool):
        return _empty(search)
    ratio = search.semantic_ratio
    near = nearest(run, name, held, search.vector, MEANING_RESULTS, where) if ratio > 0 else []
    words = query_words(search.text, search.relevance)[0]
    if ratio >= 1 or not words:
        return ranked(within, near, search)
    return _hybrid(within, search, near)


def similar(
    within: Within, run: Searches, name: str, held: Held, found: dict[str, Any], search: Search
) -> SearchResult:
    """The documents nearest in meaning to one (`found`, as Typesense holds it; never
    itself), within the filters; none when it has no vector."""
    assert held.vector is not None
    vector = found.get(held.vector[0])
    excluded = replace(search, excluded=(*search.excluded, str(search.similar_to)))
    where = _filters(excluded, held)
    if not vector or isinstance(where, bool):
        return _empty(search)
    return ranked(within, nearest(run, name, held, vector, SIMILAR_RESULTS, where), search)


def nearest(
    run: Searches, name: str, held: Held, vector: Sequence[float], k: int, where: str | None
) -> list[tuple[str, float]]:
    """(document id, cosine similarity) of the `k` nearest documents within `where`."""
    assert held.vector is not None
    numbers = ",".join(repr(float(x)) for x in vector)
    found: list[tuple[float, int, str]] = []
    for asked in (k, PER_PAGE):
        params: dict[str, Any] = {
            "collection": name, "q": "*", "per_page": asked, "include_fields": f"id,{SEQ}",
            "vector_query": f"{held.vector[0]}:([{numbers}], k:{asked})",
        }  # fmt: skip
        if where:
            params["filter_by"] = where
        hits = run([params])[0].get("hits", [])
        found = [
            (round(1 - float(hit["vector_distance"]), 6), int(hit["document"][SEQ]),
             unhexed(hit["document"]["id"]))
            for hit in hits
        ]  # fmt: skip
        # Among equally near documents the first written are kept, as in the other engines
        # (Typesense orders them otherwise): when the last ties with another, more may tie
        # past it, and more are asked for (250 cost five times 100's, measured: not always).
        if len(found) < asked or len({score for score, _, _ in found[-2:]}) > 1:
            break
    found.sort(key=lambda each: (-each[0], each[1]))
    return [(document_id, score) for score, _, document_id in found[:k]]


def ranked(within: Within, listed: list[tuple[str, float]], asked: Search) -> SearchResult:
    """The page `asked` wants of these documents (already within its filters), ranked as
    listed or by its sort; the total, how many are listed."""
    if not listed:
        return _empty(asked)
    scores = dict(listed)
    chosen = _plain(asked, ids=list(scores))
    if asked.sort is not None:  # (paged by Typesense, in the order asked)
        result = within(chosen)
        hits = result.hits
    else:
        result = within(replace(chosen, offset=0, limit=len(listed)))
        hits = sorted(result.hits, key=lambda hit: -scores[hit.document_id])
        hits = hits[asked.offset : asked.offset + asked.limit]
    shown = marked(*query_words(asked.text, asked.relevance))
    return replace(
        result, hits=[_shown(hit, scores[hit.document_id], asked, shown) for hit in hits]
    )


def _hybrid(within: Within, search: Search, near: list[tuple[str, float]]) -> SearchResult:
    by_words = replace(search, vector=None, meaning=False)
    wanted = search.offset + search.limit + MEANING_RESULTS
    first = within(replace(by_words, offset=0, limit=min(wanted, PER_PAGE)))
    hits = list(first.hits)
    while len(hits) < min(wanted, first.total):
        more = within(replace(by_words, offset=len(hits), limit=min(PER_PAGE, wanted - len(hits)),
                              facets=()))  # fmt: skip
        if not more.hits:
            break
        hits += more.hits
    near_ids = [document_id for document_id, _ in near]
    matched = {hit.document_id for hit in hits}  # (every match of the words, when all read)
    if near_ids and len(hits) < first.total:  # which of the nearest the words match further on
        among = replace(by_words, ids=near_ids, offset=0, limit=len(near_ids), facets=(), sort=None)
        matched = {hit.document_id for hit in within(among).hits}
    beside = [document_id for document_id in near_ids if document_id not in matched]
    others = within(_plain(search, ids=beside, offset=0, limit=len(beside))) if beside else None
    found = {hit.document_id: hit for hit in [*hits, *(others.hits if others else [])]}
    shown = marked(*query_words(search.text, search.relevance))
    if search.sort is None:
        fused = _fused(hits, near, search)
        page = fused[search.offset : search.offset + search.limit]
    else:
        merged = sorted(found.values(), key=lambda hit: _sort_key(hit, search))
        page = [(hit.document_id, hit.score) for hit in merged][
            search.offset : search.offset + search.limit
        ]
    return SearchResult(
        hits=[
            _shown(found[d], score, search, shown, first.prefix) for d, score in page if d in found
        ],
        total=first.total + len(beside),
        facets=_added(first.facets, others.facets) if others else first.facets,
        left_out=first.left_out,
        prefix=first.prefix,
    )


def _fused(hits: list[Hit], near: list[tuple[str, float]], search: Search) -> list[Any]:
    """Both rankings as one (`fusion.fuse` ranks numbers: the ids are numbered for it)."""
    ids = list(dict.fromkeys([*(hit.document_id for hit in hits), *(d for d, _ in near)]))
    number = {document_id: n for n, document_id in enumerate(ids)}
    fused = fuse(
        [(number[hit.document_id], hit.score) for hit in hits],
        [(number[d], score) for d, score in near],
        search.semantic_ratio,
        search.fusion,
    )
    return [(ids[n], score) for n, score in fused]


def _sort_key(hit: Hit, search: Search) -> tuple[bool, float]:
    """A hit's place by the sort: its field's number or date (as Typesense sorts `o_`
    columns), those without one last whatever the direction."""
    assert search.sort is not None
    value = hit.body.get(search.sort.field)
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and (date := as_date(value)) is not None:
        number = date.timestamp()
    if number is None:
        return True, 0.0
    return False, number if search.sort.direction == "asc" else -number


def _shown(
    hit: Hit, score: float, search: Search, words: tuple[str, ...], prefix: bool = True
) -> Hit:
    marks = highlights(hit.body, search.highlight, words, prefix=prefix)
    return replace(hit, score=score, highlights=marks)


def _plain(search: Search, **changes: Any) -> Search:
    """The search without words, vector or rules (what `ids` names, within its filters)."""
    return replace(search, text="", vector=None, meaning=False, similar_to=None,
                   relevance=None, **changes)  # fmt: skip


def _filters(search: Search, held: Held) -> str | bool | None:
    """The search's filters as Typesense's `filter_by` (None: none; False: nothing can
    match)."""
    planned = query.parameters(
        _plain(search, offset=0, limit=1, sort=None, facets=()), held.columns
    )
    if planned is None:
        return False
    where: str | None = planned[0].get("filter_by")
    return where


def _empty(search: Search) -> SearchResult:
    return SearchResult(hits=[], total=0, facets={f: [] for f in search.facets})


def _added(
    first: dict[str, list[FacetCount]], second: dict[str, list[FacetCount]]
) -> dict[str, list[FacetCount]]:
    """Two disjoint sets' facet counts, summed value by value, most first."""
    answer: dict[str, list[FacetCount]] = {}
    for name in {*first, *second}:
        counts: dict[tuple[str, Any], FacetCount] = {}
        for count in [*first.get(name, []), *second.get(name, [])]:
            key = (type(count.value).__name__, count.value)
            held = counts.get(key)
            counts[key] = FacetCount(count.value, count.count + (held.count if held else 0))
        values = sorted(counts.values(), key=lambda v: (-v.count, str(v.value)))
        answer[name] = values[: query.MAX_FACET_VALUES]
    return answer
