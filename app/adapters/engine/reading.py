"""One search over one collection's index: the query it builds, the page it reads (by
relevance, by a field, or in the order documents were added), its facet counts, and each
hit's highlights."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
import tantivy
from tantivy import Occur, Order, Query

from app.adapters.engine.fields import BOOL, DATE, NUMBER, STRING, Fields
from app.adapters.engine.filters import equal_to_any, matching
from app.adapters.engine.highlight import highlights, lacking
from app.adapters.engine.index import SCHEMA, by_rowid, fold
from app.adapters.engine.relevance import marked, query_words
from app.adapters.engine.results import Hit, Search, Unsortable
from app.adapters.engine.stored import Record
from app.adapters.engine.words import (
    MOST_WORDS_THRESHOLD,
    SIMILAR_RESULTS,
    TYPO_THRESHOLD,
    all_words_query,
    any_words_query,
    as_prefix,
    similar_query,
    telling_words,
    typed_query,
    weighted_texts,
    weights,
    with_typos,
)
from app.schemas.search import FacetCount, Sort

FACET_VALUES = 100
# Sets of highlights kept with each document read (`hit`): a few queries that find it.
MARKS_KEPT = 4
Reader = Callable[[Query, int, int], tuple[list[tuple[int, float]], int]]


class Plan:
    def __init__(
        self,
        fields: Fields,
        searcher: tantivy.Searcher,
        search: Search,
        like: tuple[int, dict[str, Any]] | None,
        ids: tuple[Sequence[int] | None, Sequence[int] | None] = (None, None),
    ) -> None:
        """`ids`: the search's only documents (None: any) and those it excludes, by row id."""
        search_fields, filters, tree = search.fields, search.filters, search.tree
        self.fields = fields
        self.searcher = searcher
        self.words, self.synonyms = query_words(search.text, search.relevance)
        self.marked = marked(self.words, self.synonyms)
        self.prefix = True  # whether the last word matched as a prefix (`as_prefix`)
        self.total = 0
        self.best: int | None = None  # the best match's rowid, when none has every word
        self.search_fields = search_fields
        self.columns = {
            f"t{fields.slots[name]}": weight
            for name, weight in weights(search_fields).items()
            if name in fields.text
        }
        self.must: list[Query] = []
        self.must_not: list[Query] = []
        for name, wanted in filters.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if values:
                self.must.append(equal_to_any(name, values, fields))
        if tree is not None:
            self.must.append(matching(tree, fields, searcher))
        only, excluded = ids
        if only is not None:
            self.must.append(any_of([by_rowid(rowid) for rowid in only]))
        self.must_not.extend(by_rowid(rowid) for rowid in excluded or ())
        self.similar: list[tuple[int, float]] | None = None  # documents like one, best first
        if like is not None:
            self.similar = self._like(*like)
            self.must.append(any_of([by_rowid(rowid) for rowid, _ in self.similar]))
        self.query = all_of(self.must, self.must_not)  # every match: for totals and facets

    def page(self, limit: int, offset: int, sort: Sort | None) -> list[tuple[int, float]]:
        """(rowid, score) of one page; sets `total`. Matches come in tiers, each whole before
        the next (see `words`): every word as typed, every word with typos, then, when those
        are few, most of the words; or, sorted, each of those tiers' documents with a value,
        then those without."""
        column = None
        if sort is not None:
            column = self.fields.sort_column(sort.field)
            if column is None:
                raise Unsortable(sort.field)
        by: Reader | None = None
        if column is not None and sort is not None:
            order = Order.Asc if sort.direction == "asc" else Order.Desc
            by = partial(self._by_field, column, order)
        page: list[tuple[int, float]] = []
        if self.words and self.columns:
            return self._text_page(limit, offset, column, by)
        if self.similar is not None and by is None:
            self._read([(self.query, self._by_similarity)], limit, offset, page)
        else:
            self._read(self._tiers(self.query, column, by, self._in_order), limit, offset, page)
        return page

    def _text_page(
        self, limit: int, offset: int, column: str | None, by: Reader | None
    ) -> list[tuple[int, float]]:
        """Every word as typed; then, when those are few, a wider level: every word with
        typos allowed, or, when they are fewer still, any of the words (`words`). A level
        holds the one before and ranks it first (`word_query`'s scores), so that, unsorted,
        one search reads it whole; sorted, the wider level's new documents follow apart."""
        words, columns = self.words, self.columns
        held = {words[-1]: self._frequency(words[-1])}
        self.prefix = as_prefix(held[words[-1]])
        exact = typed_query(words, columns, self.synonyms, self.prefix)
        self.query = all_of([*self.must, exact], self.must_not)
        page: list[tuple[int, float]] = []
        skip = self._read(self._tiers(self.query, column, by, self._by_score), limit, offset, page)
        found = self.total
        some = len(words) > 1 and found < MOST_WORDS_THRESHOLD
        if not some and found >= TYPO_THRESHOLD:
            return page
        held.update((word, self._frequency(word)) for word in words[:-1])
        if some:
            total = int(self.searcher.num_docs)
            level = any_words_query(words, columns, held, total, self.synonyms)
        elif any(with_typos(word, held[word]) for word in words):
            level = all_words_query(words, columns, held, self.synonyms)
        else:
            return page
        self.query = all_of([*self.must, level], self.must_not)
        if by is None:
            page, self.total = [], 0
            self._read([(self.query, self._by_score)], limit, offset, page)
        else:
            new = all_of([*self.must, level], [*self.must_not, exact])
            self._read(self._tiers(new, column, by, self._by_score), limit, skip, page)
        if some and found == 0 and self.total:
            top = page if by is None and offset == 0 else self._by_score(self.query, 1, 0)[0]
            self.best = top[0][0] if top else None
        return page

    def ranked_within(
        self,
        query: Query,
        ranked: list[tuple[int, float]],
        limit: int,
        offset: int,
        sort: Sort | None,
        total: int | None = None,
    ) -> list[tuple[int, float]]:
        """One page of a set of documents found some other way (by meaning): `query` matches
        exactly them, for the total (unless it is given) and the facets; `ranked` is their
        order, unless `sort`."""
        self.query, self.total = query, 0
        if sort is None:
            self.total = self.count(query) if total is None else total
            return ranked[offset : offset + limit]
        column = self.fields.sort_column(sort.field)
        if column is None:
            raise Unsortable(sort.field)
        order = Order.Asc if sort.direction == "asc" else Order.Desc
        by = partial(self._by_field, column, order)
        page: list[tuple[int, float]] = []
        self._read(self._tiers(query, column, by, self._in_order), limit, offset, page)
        return page

    def count(self, query: Query) -> int:
        return _count(self.searcher.search(query, 1, count=True))

    def rowids(self, query: Query) -> npt.NDArray[np.uint64]:
        """Every document the query matches, by row id. (Straight from the fast field into an
        array: through (rowid, score) pairs, 6,711 row ids took 7.6 ms, 6 of them in Python.)"""
        result = self.searcher.search(query, max(1, int(self.searcher.num_docs)), count=False)
        addresses = [address for _, address in result.hits]
        if not addresses:
            return np.empty(0, np.uint64)
        return np.array(self.searcher.fast_field_values("rowid", addresses), dtype=np.uint64)

    def _tiers(
        self, query: Query, column: str | None, by: Reader | None, otherwise: Reader
    ) -> list[tuple[Query, Reader]]:
        """A query's documents in `otherwise`'s order, or, sorted, those with a value in
        `column` by it, then those without in the order they were added."""
        if column is None or by is None:
            return [(query, otherwise)]
        valued = all_of([query, Query.exists_query(column)], [])
        unvalued = all_of([query], [Query.exists_query(column)])
        return [(valued, by), (unvalued, self._in_order)]

    def _read(
        self,
        tiers: list[tuple[Query, Reader]],
        limit: int,
        skip: int,
        page: list[tuple[int, float]],
    ) -> int:
        """Add the tiers' hits to `page` up to `limit`, past the first `skip`, counting every
        match in `total`; how many are still to skip."""
        for query, read in tiers:
            hits, count = read(query, max(1, limit - len(page)), skip)
            if len(page) < limit and skip < count:
                page.extend(hits[: limit - len(page)])
            skip = max(0, skip - count)
            self.total += count
        return skip

    def left_out(self, best: dict[str, Any]) -> tuple[str, ...]:
        """The words of the query that the body of the best match lacks."""
        names = [name for name in self.search_fields if name in self.fields.text]
        return lacking(best, names, self.words, prefix=self.prefix)

    def _like(self, rowid: int, body: dict[str, Any]) -> list[tuple[int, float]]:
        """The SIMILAR_RESULTS documents that share most of what this one is about (its
        telling words over the search fields), within the filters."""
        texts = weighted_texts(body, self.search_fields, self.fields.text)

        def frequencies(words: list[str]) -> dict[str, int]:
            return {word: self._frequency(word) for word in words}

        terms = telling_words(texts, frequencies, int(self.searcher.num_docs))
        if not terms:
            return []
        like = similar_query(terms, self.columns)
        query = all_of([*self.must, like], [*self.must_not, by_rowid(rowid)])
        return self._by_score(query, SIMILAR_RESULTS, 0)[0]

    def _frequency(self, word: str) -> int:
        """How many documents hold the word in the search field that holds it most."""
        return max(self.searcher.doc_freq(column, word) for column in self.columns)

    def _by_similarity(self, query: Query, limit: int, offset: int) -> tuple[list[Any], int]:
        assert self.similar is not None
        return self.similar[offset : offset + limit], len(self.similar)

    def _by_score(self, query: Query, limit: int, offset: int) -> tuple[list[Any], int]:
        result = self.searcher.search(query, limit, count=True, offset=offset)
        return self._rowids(result.hits, scored=True), _count(result)

    def _by_field(
        self, column: str, order: Order, query: Query, limit: int, offset: int
    ) -> tuple[list[Any], int]:
        result = self.searcher.search(
            query, limit, count=True, order_by_field=column, offset=offset, order=order
        )
        return self._rowids(result.hits, scored=False), _count(result)

    def _in_order(self, query: Query, limit: int, offset: int) -> tuple[list[Any], int]:
        """In the order documents were first added (nothing to rank by)."""
        result = self.searcher.search(
            query, limit, count=True, order_by_field="rowid", offset=offset, order=Order.Asc
        )
        return self._rowids(result.hits, scored=False), _count(result)

    def _rowids(self, hits: list[tuple[Any, Any]], *, scored: bool) -> list[tuple[int, float]]:
        if not hits:
            return []
        rowids = self.searcher.fast_field_values("rowid", [address for _, address in hits])
        return [
            (int(rowid or 0), round(float(key), 6) if scored else 0.0)
            for rowid, (key, _) in zip(rowids, hits, strict=True)
        ]

    def hit(self, record: Record, score: float, names: tuple[str, ...]) -> Hit:
        """A found document with its highlights, made once for these fields and words and
        kept with the document (a few sets of them, the latest)."""
        key = (names, self.marked, self.prefix)
        marks = record.marks.get(key)
        if marks is None:
            marks = highlights(record.body, names, self.marked, prefix=self.prefix)
            if len(record.marks) >= MARKS_KEPT:
                record.marks.clear()
            record.marks[key] = marks
        return Hit(record.document_id, score, record.body, marks)

    def facets(self, names: Sequence[str]) -> dict[str, list[FacetCount]]:
        """Each field's values over every match, most first (at most FACET_VALUES)."""
        spec: dict[str, Any] = {}
        for number, name in enumerate(names):
            slot, kinds = self.fields.slots.get(name), self.fields.kinds.get(name, set())
            if slot is None:
                continue
            for kind, column in ((STRING, "s"), (DATE, "s"), (BOOL, "b"), (NUMBER, "n")):
                if kind in kinds:
                    spec[f"{number}.{column}"] = {
                        "terms": {"field": f"{column}{slot}", "size": FACET_VALUES}
                    }
        counted = self.searcher.aggregate(self.query, spec) if spec else {}
        answer: dict[str, list[FacetCount]] = {}
        for number, name in enumerate(names):
            values = [
                FacetCount(_value(column, bucket), int(bucket["doc_count"]))
                for key, result in counted.items()
                if key.split(".")[0] == str(number)
                for column in [key.split(".")[1]]
                for bucket in result.get("buckets", [])
            ]
            values.sort(key=lambda v: (-v.count, str(v.value)))
            answer[name] = values[:FACET_VALUES]
        return answer


def terms(
    searcher: tantivy.Searcher, fields: Fields, names: list[str], prefix: str, limit: int
) -> list[tuple[str, int]]:
    """Indexed words of these fields that start with `prefix`, with document counts (summed
    over the fields), most first. The term dictionary's counts still hold deleted documents
    until their segment merges, so each word is counted again by a search: a word whose
    documents are all gone is not suggested."""
    words = fold(prefix)
    if len(words) != 1:
        return []
    counts: dict[str, int] = {}
    for name in names:
        if name in fields.text:
            column = f"t{fields.slots[name]}"
            for term, _ in searcher.terms_with_prefix(column, words[0], limit=limit):
                query = Query.term_query(SCHEMA, column, term)
                counts[term] = counts.get(term, 0) + _count(searcher.search(query, 1, count=True))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(term, count) for term, count in ranked if count][:limit]


def _value(column: str, bucket: dict[str, Any]) -> str | int | float | bool:
    key = bucket["key"]
    if column == "b":
        return bool(key)
    if column == "n" and isinstance(key, float) and key.is_integer():
        return int(key)
    return key  # type: ignore[no-any-return]


def _count(result: tantivy.SearchResult) -> int:
    # `count` is there when asked for (`count=True`), though the type stubs leave it out.
    return int(getattr(result, "count", None) or 0)


def all_of(must: list[Query], must_not: list[Query]) -> Query:
    if not must:
        must = [Query.all_query()]
    if len(must) == 1 and not must_not:
        return must[0]
    return Query.boolean_query(
        [*((Occur.Must, query) for query in must), *((Occur.MustNot, q) for q in must_not)]
    )


def any_of(queries: list[Query]) -> Query:
    if not queries:
        return Query.empty_query()
    return Query.boolean_query([(Occur.Should, query) for query in queries])
