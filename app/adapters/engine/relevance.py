"""A retriever's relevance rules as every engine applies them: synonyms and stop words change
what a query's words match (each engine's `Plan` reads `query_words`); pinned and hidden
documents and boosts by a number field change the list that the words found (`search`, which
both engines' `search` go through, around their own).

- A synonym gives a word of the query other words that count as it: a document holding any
  of them matches that word, ranked like one holding the word as typed. A synonym of several
  words matches a document holding all of them in one field; a query's phrase of several
  words (`smart phone`) takes the synonyms of that phrase for each of its words.
- A stop word is left out of the query's words, unless the query has only stop words (or it
  is part of a phrase that has synonyms).
- Pinned documents come at their positions (from 1), hidden ones never come: both still
  within the search's filters (a pinned document that a filter excludes does not appear).
- A boost reorders the first `BOOST_WINDOW` results of a search ranked by relevance: each
  result's relevance, scaled from the window's lowest (0) to its highest (1), plus each
  boost's weight times the field's value scaled the same way. It never adds a result.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from app.adapters.engine.highlight import highlights
from app.adapters.engine.results import Boost, Hit, Relevance, Search, SearchResult
from app.adapters.engine.words import Alternatives, words_of
from app.schemas.search import FacetCount

# Boosts reorder this many of the first results (five pages of twenty); past them, relevance
# alone orders. Each result of the window is read whole, so it stays a few pages.
BOOST_WINDOW = 100
FACET_VALUES = 100  # as many values of a field as the engines count
MAX_ALTERNATIVES = 32  # the other words a query's word may match, at most

Words = tuple[str, ...]


def query_words(text: str, relevance: Relevance | None) -> tuple[Words, Alternatives]:
    """The words a query searches for (its stop words left out) and each one's synonyms
    (empty when none has any)."""
    words = words_of(text)
    if relevance is None or not words:
        return tuple(words), ()
    found: list[list[Words]] = [[] for _ in words]
    phrased = [False] * len(words)
    longest, start = relevance.longest, 0
    while start < len(words):
        for length in range(min(longest, len(words) - start), 0, -1):
            others = relevance.synonyms.get(tuple(words[start : start + length]))
            if others:
                for position in range(start, start + length):
                    found[position].extend(others)
                    phrased[position] = True
                start += length
                break
        else:
            start += 1
    kept = [n for n, word in enumerate(words) if phrased[n] or word not in relevance.stop_words]
    kept = kept or list(range(len(words)))  # a query of stop words only still searches
    alternatives = tuple(tuple(dict.fromkeys(found[n]))[:MAX_ALTERNATIVES] for n in kept)
    return tuple(words[n] for n in kept), alternatives if any(alternatives) else ()


def marked(words: Words, alternatives: Alternatives) -> Words:
    """The words a result's highlights mark: the query's and its synonyms', the query's last
    word last (it is the one matched as a prefix)."""
    others = [word for each in alternatives for phrase in each for word in phrase]
    if not others or not words:
        return words
    return tuple(dict.fromkeys([*words[:-1], *others, words[-1]]))


Run = Callable[[Search], SearchResult]


def search(run: Run, asked: Search) -> SearchResult:
    """`asked` run by `run` (an engine's own search) with its pinned and hidden documents and
    its boosts applied."""
    rules = asked.relevance
    boosts = rules.boosts if rules is not None and asked.sort is None else ()
    if rules is None or not (rules.pinned or rules.hidden or boosts):
        return run(asked)
    pinned_ids = tuple(document_id for document_id, _ in rules.pinned)
    pins, pin_facets = _pins(run, asked, pinned_ids)
    placed = sorted(
        ((position, pins[document_id]) for document_id, position in rules.pinned
         if document_id in pins),
        key=lambda pair: pair[0],
    )  # fmt: skip
    first, end = _organic_range([position for position, _ in placed], asked)
    window = bool(boosts) and first < BOOST_WINDOW
    fetch_from = 0 if window else first
    fetch_to = max(end, BOOST_WINDOW) if window else end
    organic = run(
        replace(
            asked,
            excluded=(*asked.excluded, *rules.hidden, *pinned_ids),
            offset=fetch_from,
            limit=max(1, fetch_to - fetch_from),
        )
    )
    hits = organic.hits
    if window:
        hits = boosted(hits[:BOOST_WINDOW], boosts) + hits[BOOST_WINDOW:]
    top = max((hit.score for hit in hits), default=0.0)
    words = marked(*query_words(asked.text, rules))
    shown = [
        (position, replace(hit, score=top, highlights=marks))
        for position, hit in placed
        for marks in [highlights(hit.body, asked.highlight, words, prefix=organic.prefix)]
    ]
    return SearchResult(
        hits=_placed(shown, hits, fetch_from, organic.total, asked),
        total=organic.total + len(placed),
        facets=_added(organic.facets, pin_facets) if placed else organic.facets,
        left_out=organic.left_out,
        prefix=organic.prefix,
    )


def _pins(
    run: Run, asked: Search, ids: tuple[str, ...]
) -> tuple[dict[str, Hit], dict[str, list[FacetCount]]]:
    """The pinned documents that the search's filters let through, by id, and their counts
    in the facets asked for."""
    if not ids:
        return {}, {}
    hidden = asked.relevance.hidden if asked.relevance is not None else ()
    result = run(
        replace(
            asked,
            text="",
            ids=ids,
            excluded=(*asked.excluded, *hidden),
            limit=len(ids),
            offset=0,
            sort=None,
            similar_to=None,
            vector=None,
            meaning=False,
            relevance=None,
        )
    )
    return {hit.document_id: hit for hit in result.hits}, result.facets


def _organic_range(positions: list[int], asked: Search) -> tuple[int, int]:
    """Which results of the search without its pins the page shows, were there no end to
    them: [first, end). `positions` are the pins', in order."""
    waiting = list(positions)
    organic = first = 0
    for slot in range(asked.offset + asked.limit):
        if slot == asked.offset:
            first = organic
        if waiting and waiting[0] - 1 <= slot:
            waiting.pop(0)
        else:
            organic += 1
    return first, organic


def _placed(
    pins: list[tuple[int, Hit]], hits: list[Hit], start: int, total: int, asked: Search
) -> list[Hit]:
    """The page: the pins at their positions (straight after the last result, when the
    results end before them), the results around them. `hits` are the results from number
    `start` on; `total`, how many there are."""
    page: list[Hit] = []
    waiting = list(pins)
    organic = 0
    for slot in range(asked.offset + asked.limit):
        if waiting and (waiting[0][0] - 1 <= slot or organic >= total):
            hit = waiting.pop(0)[1]
        elif organic < total:
            index, organic = organic - start, organic + 1
            if slot < asked.offset:
                continue
            if index >= len(hits):
                break  # (fewer were read than counted: a write came between)
            hit = hits[index]
        else:
            break
        if slot >= asked.offset:
            page.append(hit)
    return page


def boosted(hits: Sequence[Hit], boosts: Sequence[Boost]) -> list[Hit]:
    """The hits reordered by relevance and the boosts (see the module's doc), best first;
    equals keep their order."""
    keys = _scaled([hit.score for hit in hits])
    for boost in boosts:
        values = [_number(hit.body.get(boost.field)) for hit in hits]
        for n, share in enumerate(_scaled(values)):
            keys[n] += boost.weight * share
    order = sorted(range(len(hits)), key=lambda n: -keys[n])
    return [hits[n] for n in order]


def _scaled(values: Sequence[float | None]) -> list[float]:
    """Each value from the lowest (0) to the highest (1); all equal: 1; none: 0."""
    present = [value for value in values if value is not None]
    if not present:
        return [0.0] * len(values)
    low, high = min(present), max(present)
    return [
        0.0 if value is None else 1.0 if high == low else (value - low) / (high - low)
        for value in values
    ]


def _number(value: Any) -> float | None:
    """A field's value as a number to boost by: a number, or the largest of a list of them."""
    if isinstance(value, list):
        numbers = [number for item in value if (number := _number(item)) is not None]
        return max(numbers, default=None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _added(
    first: dict[str, list[FacetCount]], second: dict[str, list[FacetCount]]
) -> dict[str, list[FacetCount]]:
    """Two disjoint sets' facet counts, summed value by value, most first."""
    answer: dict[str, list[FacetCount]] = {}
    for name in {*first, *second}:
        counts: dict[Any, int] = {}
        kinds: dict[Any, str | int | float | bool] = {}
        for count in [*first.get(name, []), *second.get(name, [])]:
            key = (type(count.value).__name__, count.value)
            counts[key] = counts.get(key, 0) + count.count
            kinds[key] = count.value
        values = [FacetCount(kinds[key], n) for key, n in counts.items()]
        values.sort(key=lambda v: (-v.count, str(v.value)))
        answer[name] = values[:FACET_VALUES]
    return answer
