"""One search over one collection's index: the query it builds, the page it reads (by
relevance, by a field, or in the order documents were added), its facet counts, and each
hit's highlights."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import tantivy
from tantivy import Occur, Order, Query

from app.adapters.engine.fields import BOOL, DATE, NUMBER, STRING, Fields, items_of
from app.adapters.engine.filters import equal_to_any, matching
from app.adapters.engine.highlight import highlights
from app.adapters.engine.index import SCHEMA, by_rowid, fold
from app.adapters.engine.results import FacetValue, Hit, Sort, Unsortable
from app.adapters.engine.words import (
    TYPO_THRESHOLD,
    similar_query,
    text_query,
    typos,
    weights,
    words_of,
)
from app.schemas.filters import Filter

FACET_VALUES = 100
Stored = tuple[str, dict[str, Any]]  # (document_id, body)


class Plan:
    def __init__(
        self,
        fields: Fields,
        searcher: tantivy.Searcher,
        search_fields: Sequence[str],
        text: str,
        filters: Mapping[str, Any],
        tree: Filter | None,
        like: tuple[int, dict[str, Any]] | None,
    ) -> None:
        self.fields = fields
        self.searcher = searcher
        self.words = tuple(words_of(text))
        self.total = 0
        self.columns = {
            f"t{fields.slots[name]}": weight
            for name, weight in weights(search_fields).items()
            if name in fields.text
        }
        self.must: list[Query] = []
        self.must_not: list[Query] = []
        self.similar = like is not None
        if like is not None:
            rowid, body = like
            self.must.append(_similar(fields, search_fields, body))
            self.must_not.append(by_rowid(rowid))
        for name, wanted in filters.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if values:
                self.must.append(equal_to_any(name, values, fields))
        if tree is not None:
            self.must.append(matching(tree, fields, searcher))
        self.query = _all_of(self.must, self.must_not)  # every match: for totals and facets

    def page(self, limit: int, offset: int, sort: Sort | None) -> list[tuple[int, float]]:
        """(rowid, score) of one page; sets `total`. Matches come in tiers, each whole before
        the next: the words as typed, then (when those are few) the words with typos; or,
        sorted, documents with a value, then those without."""
        tiers: list[tuple[Query, Callable[..., Any]]] = []
        column = self.fields.sort_column(sort.field) if sort is not None else None
        if sort is not None and column is None:
            raise Unsortable(sort.field)
        if self.words and self.columns:
            # Sorted, the text tiers only decide which documents match: count, read no page.
            tiers = self._text_tiers(1, 0) if column else self._text_tiers(max(1, limit), offset)
        elif self.similar:
            tiers = [(self.query, self._by_score)]
        if sort is not None and column is not None:
            matches = self.query
            order = Order.Asc if sort.direction == "asc" else Order.Desc
            valued = _all_of([matches, Query.exists_query(column)], [])
            unvalued = _all_of([matches], [Query.exists_query(column)])
            by_value = partial(self._by_field, column, order)
            tiers = [(valued, by_value), (unvalued, self._in_order)]
        if not tiers:
            tiers = [(self.query, self._in_order)]
        page: list[tuple[int, float]] = []
        skip = offset
        for query, read in tiers:
            hits, count = read(query, max(1, limit - len(page)), skip)
            if len(page) < limit and skip < count:
                page.extend(hits[: limit - len(page)])
            skip = max(0, skip - count)
            self.total += count
        return page

    def _text_tiers(self, limit: int, offset: int) -> list[tuple[Query, Callable[..., Any]]]:
        """The words as typed, and, if they match fewer than TYPO_THRESHOLD documents, the
        words with typos (that the first tier did not find). Sets `query` to all of them.
        The first tier's page is read here, to count it, and handed back as read."""
        words = list(self.words)
        exact = text_query(words, self.columns, with_typos=False)
        self.query = _all_of([*self.must, exact], self.must_not)
        first = self._by_score(self.query, limit, offset)
        tiers: list[tuple[Query, Callable[..., Any]]] = [(self.query, lambda *_: first)]
        if first[1] >= TYPO_THRESHOLD or not any(typos(word) for word in words):
            return tiers
        typo = text_query(words, self.columns, with_typos=True)
        typo_only = _all_of([*self.must, typo], [*self.must_not, exact])
        self.query = _all_of([*self.must, typo], self.must_not)
        return [*tiers, (typo_only, self._by_score)]

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

    def hit(self, stored: Stored, score: float, marked: Sequence[str]) -> Hit:
        document_id, body = stored
        return Hit(document_id, score, body, highlights(body, marked, self.words))

    def facets(self, names: Sequence[str]) -> dict[str, list[FacetValue]]:
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
        answer: dict[str, list[FacetValue]] = {}
        for number, name in enumerate(names):
            values = [
                FacetValue(_value(column, bucket), int(bucket["doc_count"]))
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


def _similar(fields: Fields, search_fields: Sequence[str], body: dict[str, Any]) -> Query:
    texts = {
        f"t{fields.slots[name]}": [
            item for item in items_of(body.get(name)) if isinstance(item, str)
        ]
        for name in search_fields
        if name in fields.text
    }
    texts = {column: values for column, values in texts.items() if values}
    return similar_query(texts) if texts else Query.empty_query()


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


def _all_of(must: list[Query], must_not: list[Query]) -> Query:
    if not must:
        must = [Query.all_query()]
    if len(must) == 1 and not must_not:
        return must[0]
    return Query.boolean_query(
        [*((Occur.Must, query) for query in must), *((Occur.MustNot, q) for q in must_not)]
    )
