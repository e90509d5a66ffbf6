"""One `Search` as Typesense's search parameters, and its answer as a `SearchResult` (pinned and
hidden documents and boosts are applied around it by `relevance.search`, as in the other engines).

Words: the query's folded words (so that no character a user types is Typesense syntax) over the
search fields' word columns, earlier fields weighing more; typos as Meilisearch forgives them (one
from 5 letters, two from 9), the last word as a prefix; matches with typos and with words left
out from the end only when those with every word as typed are few, as in the other engines
(Typesense's `typo_tokens_threshold` and `drop_tokens_threshold`). The last word is a prefix only
while fewer than WHOLE_WORD_THRESHOLD documents hold it as typed in the search field that holds it
most (`words.as_prefix`, as the other engines): one count of the word as typed for each search
field (`counts`) is asked first, then the search, with `prefix=false` (`whole`) when a count
reaches it (the answer kept a while, `wholewords.py`): the same
documents, totals, facets and highlights as the other engines, and no prefix expansion of a
common word (the node's costliest search). Highlights are made here from the stored body by
the other engines' rules (`highlight.py`), so that every engine marks text alike.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from app import jsonutil
from app.adapters.engine.highlight import highlight, highlights
from app.adapters.engine.relevance import marked, query_words
from app.adapters.engine.results import Hit, Search, SearchResult, Unsortable
from app.adapters.engine.typesense import synonyms
from app.adapters.engine.typesense.documents import BODY, KEY, SEQ
from app.adapters.engine.typesense.filters import filter_by, refused
from app.adapters.engine.typesense.names import column, field_of, hexed, token, unhexed
from app.adapters.engine.words import (
    MOST_WORDS_THRESHOLD,
    TYPO_THRESHOLD,
    Alternatives,
    as_prefix,
)
from app.schemas.search import FacetCount

MAX_FACET_VALUES = 100
MAX_PER_PAGE = 250
MAX_CLAUSES = 24  # Typesense 0.24 finds an expression of more "not valid" (measured)
FACETED = ("s", "n", "b")  # the columns counted as a field's values: text, numbers, booleans


def parameters(
    search: Search, columns: Collection[str]
) -> tuple[dict[str, Any], synonyms.Definitions] | None:
    """Typesense's parameters and the synonyms they need on the collection (`synonyms.py`);
    None when nothing can match (words over no field with words)."""
    words, needed = synonyms.query(search.text, search.relevance)  # (stop words left out)
    searched = [name for f in search.fields if (name := column("t", f)) in columns]
    if words and not searched:
        return None
    params: dict[str, Any] = {
        "q": " ".join(words) if words else "*",
        "query_by": ",".join(searched) if words else "",
        **_page(search.offset, search.limit),
        "include_fields": f"id,{BODY}",
        "highlight_fields": "none",
    }
    if words:
        params.update(
            query_by_weights=",".join(str(max(1, 15 - n)) for n in range(len(searched))),
            prefix="true",
            num_typos=2,
            min_len_1typo=5,
            min_len_2typo=9,
            # As the other engines (`words.py`): typos are tried when fewer than TYPO_THRESHOLD
            # documents have the words as typed, words left out when fewer than
            # MOST_WORDS_THRESHOLD have them all; past those, the matches they would add rank
            # after every page a reader turns to, and finding them was most of a search's time.
            typo_tokens_threshold=TYPO_THRESHOLD,
            drop_tokens_threshold=MOST_WORDS_THRESHOLD,
        )
    else:
        del params["query_by"]
    clauses = [f"id:=[{','.join(hexed(i) for i in search.ids)}]"] if search.ids is not None else []
    if search.ids is not None and not search.ids:
        return None
    if search.excluded:
        clauses.append(f"{KEY}:!=[{','.join(token(i) for i in search.excluded)}]")
    expression = filter_by(search.tree, search.filters, columns)
    if expression is not None:
        clauses.append(expression)
    if clauses:
        params["filter_by"] = " && ".join(f"({clause})" for clause in clauses)
        # Each clause is one `:` (columns and values are hex or numbers, never holding one).
        if params["filter_by"].count(":") > MAX_CLAUSES:
            raise refused(f"a filter of more than {MAX_CLAUSES} conditions (values of one field "
                          "in one condition count once)")  # fmt: skip
    if search.sort is not None:
        name = column("o", search.sort.field)
        if name not in columns:
            raise Unsortable(search.sort.field)
        params["sort_by"] = f"{name}:{search.sort.direction},{SEQ}:asc"
    else:  # without words, or among equal matches: in the order written
        params["sort_by"] = f"_text_match:desc,{SEQ}:asc" if words else f"{SEQ}:asc"
    counted = [
        name for f in search.facets for kind in FACETED if (name := column(kind, f)) in columns
    ]
    if counted:
        params.update(facet_by=",".join(counted), max_facet_values=MAX_FACET_VALUES)
    return params, needed


def whole(params: dict[str, Any]) -> dict[str, Any]:
    """The search with its last word as typed only."""
    return {**params, "prefix": "false"}


def counts(search: Search, params: dict[str, Any]) -> list[dict[str, Any]]:
    """For each search field, a search counting the documents that hold the query's last word
    as typed (no typos, no prefix, no filters, no page): the other engines' document frequency,
    which decides whether the word is a prefix (`prefixed`); none without words."""
    words, _ = query_words(search.text, search.relevance)
    if "query_by" not in params or not words:
        return []
    return [
        {"q": words[-1], "query_by": name, "prefix": "false", "num_typos": 0,
         "typo_tokens_threshold": 0, "drop_tokens_threshold": 0, "per_page": 0,
         "include_fields": "id", "highlight_fields": "none"}
        for name in params["query_by"].split(",")
    ]  # fmt: skip


def prefixed(counted: list[dict[str, Any]]) -> bool:
    """Whether the last word is a prefix, from its `counts`' answers (`words.as_prefix`)."""
    return as_prefix(max((int(each.get("found", 0)) for each in counted), default=0))


def _page(offset: int, limit: int) -> dict[str, int]:
    """Typesense 0.24 pages by `page` and `per_page` (250 at most): the smallest page size that
    holds the whole slice in one page (`result` cuts the slice out of it)."""
    if limit == 0:
        return {"page": 1, "per_page": 0}
    for size in range(limit, MAX_PER_PAGE + 1):
        if offset // size == (offset + limit - 1) // size:
            return {"page": offset // size + 1, "per_page": size}
    raise refused(f"a page of {limit} results from {offset}", "offset")


def result(search: Search, answer: dict[str, Any], prefix: bool = True) -> SearchResult:
    words, alternatives = query_words(search.text, search.relevance)
    shown = marked(words, alternatives)  # (a synonym is marked where it matched, as a word)
    total = int(answer.get("found", 0))
    hits = []
    page = _page(search.offset, search.limit)
    skip = search.offset - (page["page"] - 1) * page["per_page"]
    for position, found in enumerate(answer.get("hits", [])[skip : skip + search.limit]):
        body = jsonutil.loads(found["document"][BODY])
        # Typesense's order is the ranking, but its `text_match` ties where only the weight of
        # the field that matched differs: the score is the rank, counted down from the total.
        score = float(total - search.offset - position) if words else 0.0
        hits.append(Hit(unhexed(found["document"]["id"]), score, body,
                        highlights(body, search.highlight, shown, prefix=prefix)))  # fmt: skip
    facets: dict[str, list[FacetCount]] = {
        field: [] for field in search.facets
    }  # (a field no document has: no values)
    for counts in answer.get("facet_counts", []):
        kind = counts["field_name"][0]
        facets[field_of(counts["field_name"])] += [
            FacetCount(value=_facet_value(kind, entry["value"]), count=int(entry["count"]))
            for entry in counts["counts"]
        ]
    for values in facets.values():  # most first, then by value (a field's kinds merged)
        values.sort(key=lambda v: (-v.count, str(v.value)))
        del values[MAX_FACET_VALUES:]
    return SearchResult(
        hits=hits,
        total=total,
        facets=facets,
        left_out=_left_out(hits[0].body, search.fields, words, alternatives, prefix)
        if hits and words
        else (),
        prefix=prefix,
    )


def _facet_value(kind: str, value: str) -> str | int | float | bool:
    """Typesense counts every value as text: numbers and booleans as they were given."""
    if kind == "b":
        return value == "true"
    if kind == "n":
        number = float(value or 0)  # (Typesense 0.24 gives the value 0 as "")
        return int(number) if number.is_integer() else number
    return value


def _left_out(
    body: dict[str, Any],
    fields: Collection[str],
    words: tuple[str, ...],
    others: Alternatives,
    prefix: bool,
) -> tuple[str, ...]:
    """The query's words the best match lacks (Typesense left them out to find anything): a
    word it holds, or a synonym of the word (every word of one), it does not lack."""

    def held(word: str, last: bool) -> bool:
        # A word matches as the others do: the last as a prefix (when the search took it so),
        # typos forgiven (`highlight`).
        alone = (word,) if last and prefix else (word, "\x00")
        return any(highlight(body.get(name), alone) is not None for name in fields)

    lacking = []
    for position, word in enumerate(words):
        last = position == len(words) - 1
        synonyms = others[position] if others else ()
        if not held(word, last) and not any(
            all(held(each, last) for each in phrase) for phrase in synonyms
        ):
            lacking.append(word)
    return tuple(lacking)
