"""One search over one collection's index: the query it builds, the page it reads (by
relevance, by a field, or in the order documents were added), its facet counts, and each
hit's highlights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import tantivy
from tantivy import Occur, Order, Query

from app.adapters.engine.fields import BOOL, DATE, NUMBER, STRING, Fields
from app.adapters.engine.filters import equal_to_any, matching
from app.adapters.engine.highlight import highlight
from app.adapters.engine.index import by_rowid, fold
from app.adapters.engine.results import FacetValue, Hit, Sort
from app.adapters.engine.words import similar_query, text_query, weights, words_of
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
        columns = {
            f"t{fields.slots[name]}": weight
            for name, weight in weights(search_fields).items()
            if name in fields.text
        }
        must: list[Query] = []
        must_not: list[Query] = []
        self.ranked = bool(self.words and columns)
        if self.ranked:
            must.append(text_query(list(self.words), columns))
        if like is not None:
            rowid, body = like
            must.append(_similar(fields, search_fields, body))
            must_not.append(by_rowid(rowid))
            self.ranked = True
        for name, wanted in filters.items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if values:
                must.append(equal_to_any(name, values, fields))
        if tree is not None:
            must.append(matching(tree, fields, searcher))
        self.query = _all_of(must, must_not)

    def page(self, limit: int, offset: int, sort: Sort | None) -> list[tuple[int, float]]:
        """(rowid, score) of one page; sets `total`."""
        column = self.fields.sort_column(sort.field) if sort is not None else None
        if sort is not None and column is not None:
            return self._sorted(column, sort.direction, limit, offset)
        if self.ranked:
            result = self.searcher.search(self.query, limit, count=True, offset=offset)
            self.total = _count(result)
            return self._rowids(result.hits, scored=True)
        return self._in_order(self.query, limit, offset)

    def _sorted(
        self, column: str, direction: str, limit: int, offset: int
    ) -> list[tuple[int, float]]:
        """By the field's values; documents without one come after all that have one."""
        order = Order.Asc if direction == "asc" else Order.Desc
        valued = _all_of([self.query, Query.exists_query(column)], [])
        result = self.searcher.search(
            valued, limit, count=True, order_by_field=column, offset=offset, order=order
        )
        with_value = _count(result)
        page = self._rowids(result.hits, scored=False)
        rest = _all_of([self.query], [Query.exists_query(column)])
        tail = self._in_order(rest, limit - len(page), max(0, offset - with_value))
        self.total += with_value
        return page + (tail if len(page) < limit else [])

    def _in_order(self, query: Query, limit: int, offset: int) -> list[tuple[int, float]]:
        """In the order documents were first added (no words to rank by)."""
        result = self.searcher.search(
            query, max(limit, 1), count=True, order_by_field="rowid", offset=offset, order=Order.Asc
        )
        self.total += _count(result)
        return self._rowids(result.hits[:limit], scored=False)

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
        highlights: dict[str, str] = {}
        if self.words:
            for name in marked:
                text = highlight(body.get(name), self.words)
                if text is not None:
                    highlights[name] = text
        return Hit(document_id, score, body, highlights)

    def facets(self, names: Sequence[str]) -> dict[str, list[FacetValue]]:
        """Each field's values over every match, most first (at most FACET_VALUES)."""
        spec: dict[str, Any] = {}
        for number, name in enumerate(names):
            slot, kinds = self.fields.slots.get(name), self.fields.kinds.get(name, set())
            if slot is None:
                continue
            for kind, column in ((STRING, "f"), (DATE, "f"), (BOOL, "b"), (NUMBER, "n")):
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
    over the fields), most first."""
    words = fold(prefix)
    if len(words) != 1:
        return []
    counts: dict[str, int] = {}
    for name in names:
        if name in fields.text:
            for term, count in searcher.terms_with_prefix(
                f"t{fields.slots[name]}", words[0], limit=limit
            ):
                counts[term] = counts.get(term, 0) + int(count)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _similar(fields: Fields, search_fields: Sequence[str], body: dict[str, Any]) -> Query:
    texts = {
        f"t{fields.slots[name]}": [item for item in _items(body.get(name)) if isinstance(item, str)]
        for name in search_fields
        if name in fields.text
    }
    texts = {column: values for column, values in texts.items() if values}
    return similar_query(texts) if texts else Query.empty_query()


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


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
