"""What a search box's words become: a tantivy query with field weights, typo tolerance and a
prefix for the last word; and the query for documents like a given one.

Typos follow Meilisearch's defaults: none for words under 5 letters, one edit (a swap counts
as one) from 5, two from 9. An exact word scores BM25 times its field's weight; a word only
reached by a prefix or a typo scores a small constant instead, so exact matches rank above the
others. Typos are looked for only when the words as typed find fewer than TYPO_THRESHOLD
documents (Typesense's `typo_tokens_threshold`, with its default of 1): typo matches never
push an exact one down, and a query whose words are all found costs no fuzzy expansion (the
median two-word query on the Debian catalog took 1.3 ms with a threshold of 20, 0.3 ms with
1). Nothing a user types is query syntax: each word becomes a term.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rapidfuzz.distance import OSA
from tantivy import Occur, Query

from app.adapters.engine.index import SCHEMA, fold

MAX_QUERY_WORDS = 16
PREFIX_WEIGHT = 0.3
TYPO_WEIGHT = 0.1
TYPO_THRESHOLD = 1
SIMILAR_TERMS = 25


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


def text_query(words: list[str], columns: Mapping[str, float], *, with_typos: bool) -> Query:
    """Every word must match in some column (the last as a prefix too), as typed or, with
    `with_typos`, within the typos it is allowed."""
    must = []
    for position, word in enumerate(words):
        last = position == len(words) - 1
        allowed = typos(word) if with_typos else 0
        should: list[Query] = []
        for column, weight in columns.items():
            should.append(
                Query.boost_query(
                    Query.term_query(SCHEMA, column, word, index_option="freq"), weight
                )
            )
            if last:
                prefix = Query.fuzzy_term_query(SCHEMA, column, word, distance=0, prefix=True)
                should.append(Query.boost_query(prefix, weight * PREFIX_WEIGHT))
            if allowed:
                typo = Query.fuzzy_term_query(SCHEMA, column, word, distance=allowed, prefix=last)
                should.append(Query.boost_query(typo, weight * TYPO_WEIGHT))
        must.append((Occur.Must, _any(should)))
    return Query.boolean_query(must)


def similar_query(texts: Mapping[str, list[str]]) -> Query:
    """Documents sharing the most telling words of these column texts (more-like-this)."""
    return Query.more_like_this_document_fields_query(
        SCHEMA,
        dict(texts),
        min_doc_frequency=1,
        min_term_frequency=1,
        max_query_terms=SIMILAR_TERMS,
    )


def _any(queries: list[Query]) -> Query:
    return Query.boolean_query([(Occur.Should, query) for query in queries])
