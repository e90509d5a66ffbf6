"""What a search box's words become: a tantivy query with field weights, typo tolerance and a
prefix for the last word; the query for documents that match most of the words when none
match them all; and the words a document is about, for documents like it.

Matches come in tiers, each whole before the next (Meilisearch's ranking rules `words` then
`typo`): documents with every word as typed (the last also as a prefix); then, when those are
fewer than TYPO_THRESHOLD, those with every word where some are typed with typos; or, when
they are fewer than MOST_WORDS_THRESHOLD, those and then documents with some of the words,
most words first (Meilisearch's matching strategy, with the words a document lacks chosen by what
it has rather than from the end of the query). Typos follow Meilisearch's defaults: none for
words under 5 letters, one edit (a swap counts as one) from 5, two from 9. Nothing a user
types is query syntax: each word becomes a term.

The last word is a prefix only while fewer than WHOLE_WORD_THRESHOLD documents hold it as typed
(`as_prefix`): a word that many documents hold whole is most likely meant whole, and its longer
words' documents were half of what tantivy's search of a common word cost.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from rapidfuzz.distance import OSA
from tantivy import Occur, Query

from app.adapters.engine.fields import items_of
from app.adapters.engine.index import SCHEMA, fold

MAX_QUERY_WORDS = 16
# A synonym's match scores this share of the word's as typed (BM25): otherwise alike, a
# document with the word itself comes first (Meilisearch calls it a mistake that its synonyms
# rank as the word, meilisearch#3410).
SYNONYM_SHARE = 0.5
# For each word of a query, the other words that count as it (`relevance.query_words`): each
# a tuple, all of whose words one field holds.
Alternatives = tuple[tuple[tuple[str, ...], ...], ...]
PREFIX_WEIGHT = 0.3
TYPO_WEIGHT = 0.1
# Documents with every word typed with typos are added after those with every word as typed
# when these are fewer than this (five pages of twenty), and a word is looked up with typos
# when fewer documents than this hold it as typed. Past it, typo matches would only start
# after the fifth page, and looking them up is most of a query's cost (a typo's automaton
# walks each search field's words: a one-word query took 1.5 ms with it, 0.6 ms without, on
# the Debian catalog). A misspelt word that a few documents happen to hold finds the hundreds
# that spell it right after them.
TYPO_THRESHOLD = 100
# The last word also matches the longer words it starts only when fewer documents than this
# (five pages of twenty) hold it as typed, as for typos. Past it, the word is most likely
# typed whole (`python`, `library`, `for`), five pages of documents have it as typed, and its
# longer words (`pythonic`, `libraryname`, `format`) were half of tantivy's search of a common
# word on the Debian catalog (0.26 ms with them, 0.14 without): tantivy reads every posting of
# every one of them into a bitset of the collection, for each search field, for documents that
# almost always ranked after the word's own (docs/performance.md, "Measured").
# (Typesense bounds the same expansion to the 4 commonest longer words, `max_candidates`.)
WHOLE_WORD_THRESHOLD = 100
# Documents with only some of the words are added after those with all of them when these are
# fewer than this: half a page, so that a query with a page of full matches stays exact.
MOST_WORDS_THRESHOLD = 10
# A word's BM25 score is at most a few hundred (idf under 14, a saturated frequency under 2.2,
# field weights summing to under 30), so a word as typed is worth more than any BM25 sum can
# add, and a word at all more than every word as typed: documents rank by how much of the query
# they have, then by how many of its words are as typed (not typos), then by BM25.
EXACT_BONUS = 1_000.0
WORD_BONUS = EXACT_BONUS * (MAX_QUERY_WORDS + 1)
# In documents with some of the words, a word only found with typos counts for this share of
# it found as typed.
TYPO_SHARE = 0.5
SIMILAR_TERMS = 25  # the words of a document that a search for documents like it uses
SIMILAR_RESULTS = 20  # how many documents like one a search lists: a short list, not the rest
TYPED_KEPT = 1024  # the first level's queries kept, by words and columns (`typed_query`)


def words_of(text: str) -> list[str]:
    return fold(text)[:MAX_QUERY_WORDS]


def typos(word: str) -> int:
    """How many edits a word may carry and still match."""
    return 2 if len(word) >= 9 else 1 if len(word) >= 5 else 0


def near(piece: str, word: str, allowed: int, prefix: bool) -> bool:
    """Whether `piece` is `word` typed with at most `allowed` edits (optimal string alignment,
    as tantivy counts them); with `prefix`, whether some start of it is."""
    if prefix and len(piece) > len(word):
        # The word may be the start of this one, typed with typos: compare like lengths.
        return any(
            OSA.distance(piece[:length], word, score_cutoff=allowed) <= allowed
            for length in range(len(word) - allowed, len(word) + allowed + 1)
            if 0 < length <= len(piece)
        )
    return (
        abs(len(piece) - len(word)) <= allowed
        and OSA.distance(piece, word, score_cutoff=allowed) <= allowed
    )


def weights(fields: Sequence[str]) -> dict[str, float]:
    """The first search field weighs 10, the second 5, the third 3.33..."""
    return {field: round(10.0 / (rank + 1), 3) for rank, field in enumerate(fields)}


def as_prefix(frequency: int) -> bool:
    """Whether the last word also matches the longer words it starts, given how many
    documents hold it as typed (see WHOLE_WORD_THRESHOLD)."""
    return frequency < WHOLE_WORD_THRESHOLD


def typed_query(
    words: Sequence[str],
    columns: Mapping[str, float],
    synonyms: Alternatives = (),
    prefix: bool = True,
) -> Query:
    """Documents with every word as typed (the last also as a prefix, with `prefix`) or one
    of its `synonyms`, by BM25 times each column's weight; a prefix scores PREFIX_WEIGHT of the
    weight (without `prefix`, the word as typed does). The first level, and the query most
    searches are: nothing but term and prefix scorers. The same words over the same columns
    make the same query: the last TYPED_KEPT are kept (a query holds no index of its own)."""
    return _typed(tuple(words), tuple(columns.items()), synonyms, prefix)


@lru_cache(maxsize=TYPED_KEPT)
def _typed(
    words: tuple[str, ...],
    columns: tuple[tuple[str, float], ...],
    synonyms: Alternatives,
    prefix: bool,
) -> Query:
    last = len(words) - 1
    must = []
    for n, word in enumerate(words):
        should: list[Query] = []
        for column, weight in columns:
            term = Query.term_query(SCHEMA, column, word, index_option="freq")
            should.append(Query.boost_query(term, weight))
            if n == last:
                should.append(_start(column, word, prefix, weight * PREFIX_WEIGHT))
            for phrase in synonyms[n] if n < len(synonyms) else ():
                should.append(Query.boost_query(together(phrase, column), weight * SYNONYM_SHARE))
        must.append((Occur.Must, _any(should)))
    return Query.boolean_query(must)


def _start(column: str, word: str, prefix: bool, score: float) -> Query:
    """`score` for the word in a column as a prefix (itself or a longer word it starts), or,
    without `prefix`, as typed."""
    if prefix:
        query = Query.fuzzy_term_query(SCHEMA, column, word, distance=0, prefix=True)
        return Query.boost_query(query, score)  # (an automaton's matches score 1)
    return Query.const_score_query(Query.term_query(SCHEMA, column, word), score)


def together(phrase: Sequence[str], column: str) -> Query:
    """A synonym in one column: its word, or every word of it."""
    terms = [Query.term_query(SCHEMA, column, word, index_option="freq") for word in phrase]
    if len(terms) == 1:
        return terms[0]
    return Query.boolean_query([(Occur.Must, term) for term in terms])


def word_query(
    word: str,
    columns: Mapping[str, float],
    *,
    last: bool,
    with_typos: bool,
    worth: float | None = None,
    synonyms: Sequence[Sequence[str]] = (),
) -> Query:
    """One word in any of the columns, scored so that sums of them rank as the levels say:
    WORD_BONUS for having the word at all (as typed, as a prefix when it is the last word, or,
    `with_typos`, within its typos), EXACT_BONUS more when as typed or as a prefix, plus BM25
    times the column's weight for the word as typed. With a `worth`, the first bonus is
    WORD_BONUS times the worth times the weight of the best column holding the word (relative
    to the first): a rare word in a title says more than a common one in a description. Its
    `synonyms` count as the word as typed. Each form is looked up once per column: a typo's
    automaton over a large column's words is most of a query's cost."""
    allowed = typos(word) if with_typos else 0
    exact: list[Query] = []
    forms: list[Query] = []
    scored: list[Query] = []
    top = max(columns.values())
    for column, weight in columns.items():
        term = Query.term_query(SCHEMA, column, word, index_option="freq")
        own = [term]
        if last:
            own.append(Query.fuzzy_term_query(SCHEMA, column, word, distance=0, prefix=True))
        others = [together(phrase, column) for phrase in synonyms]
        scored.append(Query.boost_query(term, weight))
        scored += [Query.boost_query(other, weight * SYNONYM_SHARE) for other in others]
        exact += [*own, *others]
        # Any form of the word in this column (a typo's automaton also takes it as typed).
        form = (
            Query.fuzzy_term_query(SCHEMA, column, word, distance=allowed, prefix=last)
            if allowed
            else own[-1]
        )
        if worth is None:
            forms += [
                Query.const_score_query(query, WORD_BONUS + TYPO_WEIGHT * weight)
                for query in [form, *others]
            ]
            continue
        bonus = WORD_BONUS * worth * (1 + weight / top) / 2
        forms.append(Query.const_score_query(_any([*own, *others]), bonus))
        if allowed:
            forms.append(Query.const_score_query(form, bonus * TYPO_SHARE))
    return _any(
        [
            Query.disjunction_max_query(forms),
            Query.const_score_query(_any(exact), EXACT_BONUS),
            *scored,
        ]
    )


def with_typos(word: str, frequency: int) -> bool:
    """Whether a word is also looked up with typos: when it may carry some (`typos`), and
    fewer than TYPO_THRESHOLD documents hold it as typed. A word that many documents hold is
    most likely meant as typed, and its typo matches would come after all of those."""
    return typos(word) > 0 and frequency < TYPO_THRESHOLD


def all_words_query(
    words: Sequence[str],
    columns: Mapping[str, float],
    frequencies: Mapping[str, int],
    synonyms: Alternatives = (),
) -> Query:
    """Documents with every word, as typed or with typos (see `word_query`, `with_typos`),
    or one of its synonyms: those with them as typed first. `frequencies` are the words'
    document frequencies. The last word is a prefix as `as_prefix` says."""
    last = _prefixed(words, frequencies)
    return Query.boolean_query(
        [
            (
                Occur.Must,
                word_query(
                    word,
                    columns,
                    last=n == last,
                    with_typos=with_typos(word, frequencies.get(word, 0)),
                    synonyms=synonyms[n] if n < len(synonyms) else (),
                ),
            )
            for n, word in enumerate(words)
        ]
    )


def any_words_query(
    words: Sequence[str],
    columns: Mapping[str, float],
    frequencies: Mapping[str, int],
    total: int,
    synonyms: Alternatives = (),
) -> Query:
    """Documents with any of the words (typos as `all_words_query`), those with most of the
    query first: each word is worth its rarity (`rarity`) in the best field that holds it, so
    a document lacking a common word ("for", "tool") ranks above one lacking a rare one
    (Meilisearch's `frequency` matching strategy, which leaves out the commonest words first),
    and one with a word in its title above one with a word as rare in its description."""
    last = _prefixed(words, frequencies)
    clauses = []
    for n, word in enumerate(words):
        held = frequencies.get(word, 0)
        one = word_query(
            word,
            columns,
            last=n == last,
            with_typos=with_typos(word, held),
            worth=rarity(held, total),
            synonyms=synonyms[n] if n < len(synonyms) else (),
        )
        clauses.append((Occur.Should, one))
    return Query.boolean_query(clauses)


def _prefixed(words: Sequence[str], frequencies: Mapping[str, int]) -> int:
    """The position of the word taken as a prefix: the last, unless `as_prefix` says it is
    meant whole (then -1, none)."""
    last = len(words) - 1
    return last if words and as_prefix(frequencies.get(words[last], 0)) else -1


def rarity(frequency: int, documents: int) -> float:
    """How telling a word is: log(1 + N / df), as BM25's idf without its floor at one half."""
    return math.log(1 + documents / max(1, frequency))


def weighted_texts(
    body: Mapping[str, Any], search_fields: Sequence[str], text_fields: Container[str]
) -> list[tuple[float, str]]:
    """A document's texts in its search fields, each with its field's weight (`weights`):
    what `telling_words` reads."""
    field_weights = weights(search_fields)
    return [
        (field_weights[name], item)
        for name in search_fields
        if name in text_fields
        for item in items_of(body.get(name))
        if isinstance(item, str)
    ]


def telling_words(
    texts: Iterable[tuple[float, str]],
    frequencies: Callable[[list[str]], Mapping[str, int]],
    documents: int,
) -> list[tuple[str, float]]:
    """The words a document is about, with how much each says: a word counts its field's
    weight each time it occurs (a word in the title and again in the description is what the
    document is about), times its rarity in the collection (log(1 + N / df)). `texts` are the
    document's (field weight, text) pairs; `frequencies` gives each word's document frequency.
    A word no other document holds cannot find one, and is left out."""
    counts: dict[str, float] = defaultdict(float)
    for weight, text in texts:
        for word in fold(text):
            counts[word] += weight
    if not counts:
        return []
    found = frequencies(list(counts))
    scored = [
        (word, weight * rarity(found[word], documents))
        for word, weight in counts.items()
        if found.get(word, 0) > 1
    ]
    scored.sort(key=lambda pair: (-pair[1], pair[0]))
    return scored[:SIMILAR_TERMS]


def similar_query(terms: Sequence[tuple[str, float]], columns: Mapping[str, float]) -> Query:
    """Documents sharing the words of `telling_words`: each word found in any column scores
    its own weight, times the weight of the best column it is in (relative to the first)."""
    top = max(columns.values())
    clauses = [
        (
            Occur.Should,
            Query.disjunction_max_query(
                [
                    Query.const_score_query(
                        Query.term_query(SCHEMA, column, word), score * weight / top
                    )
                    for column, weight in columns.items()
                ]
            ),
        )
        for word, score in terms
    ]
    return Query.boolean_query(clauses) if clauses else Query.empty_query()


def _any(queries: list[Query]) -> Query:
    return Query.boolean_query([(Occur.Should, query) for query in queries])
