"""One search of a publisher's own Typesense collection as the body of a `multi_search`, and
its answer read back as a `Page`.

The collection's schema is the publisher's, so fields are named as they are: the `query`
input is `q` over `query_by`, every other input an exact filter (equal, a member of an array,
or any of a list), and Mixpeek's filter tree one `filter_by` expression. Typesense compares
text without case, whole values only, and has no test for a missing field: what it cannot say
is refused by name, never dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from app.adapters.backends import Page, Query
from app.errors import InvalidInput, invalid
from app.schemas.filters import Condition, Filter, Group, Operator
from app.schemas.retrievers import TypesenseBackendConfig
from app.schemas.search import FULL_TEXT_INPUT, FacetCount

MAX_PER_PAGE = 250  # Typesense's own limit
FACET_VALUES = 100  # as many values of a facet as the other engines count
# The words' typos as the other engines forgive them: one from 5 letters, two from 9.
MIN_LEN_1TYPO, MIN_LEN_2TYPO = 5, 9
# Typesense writes its marks into the raw text; these never occur in text, so the text can be
# escaped first and the marks made `<mark>` after.
MARK_START, MARK_END = "\ue000", "\ue001"
_BOUNDS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_OPPOSITE: dict[str, Operator] = {"eq": "ne", "ne": "eq", "in": "nin", "nin": "in"}
# Typesense's query syntax: a leading `-` excludes a word, quotes make a phrase.
_SYNTAX = re.compile(r'"|(?:(?<=\s)|^)-+')


def refused(where: str, what: str) -> InvalidInput:
    """A 422 for what a Typesense collection cannot be asked."""
    return invalid(
        where,
        "something a Typesense backend can search",
        f"{where}: {what}; this retriever searches a Typesense collection.",
    )


def search_body(query: Query) -> dict[str, Any]:
    """The one search of the `multi_search` body for this query (a 422 for what it cannot
    carry)."""
    config: TypesenseBackendConfig = query.backend
    asked = query.search
    if asked.similar_to is not None:
        raise refused("similar_to", "finding similar documents needs the embedded engine")
    if asked.vector is not None or asked.semantic_ratio is not None:
        where = "inputs.embedding" if asked.vector is not None else "semantic_ratio"
        raise refused(where, "search by meaning needs the embedded engine")
    if asked.page_size > MAX_PER_PAGE:
        raise invalid(
            "pagination.page_size",
            f"at most {MAX_PER_PAGE}",
            f"pagination.page_size: Typesense answers at most {MAX_PER_PAGE} results a page.",
        )
    text = asked.inputs.get(FULL_TEXT_INPUT)
    marked = [name for name in config.query_by if name in query.exposed]
    search: dict[str, Any] = {
        "collection": config.collection,
        "q": _words(text) or "*",
        "query_by": ",".join(config.query_by),
        "min_len_1typo": MIN_LEN_1TYPO,
        "min_len_2typo": MIN_LEN_2TYPO,
        "page": asked.page_number,
        "per_page": asked.page_size,
        "include_fields": ",".join(_roots(query.exposed)),
        "highlight_start_tag": MARK_START,
        "highlight_end_tag": MARK_END,
    }
    if marked:  # the query's fields that the page shows (all of them, once published)
        search["highlight_fields"] = search["highlight_full_fields"] = ",".join(marked)
    exact = {
        name: value
        for name, value in asked.inputs.items()
        if name != FULL_TEXT_INPUT and value not in (None, "", [], False)
    }
    expression = filter_by(exact, asked.filters)
    if expression:
        search["filter_by"] = expression
    if asked.facets:
        search["facet_by"] = ",".join(asked.facets)
        search["max_facet_values"] = FACET_VALUES
    if asked.sort is not None:
        search["sort_by"] = f"{asked.sort.field}:{asked.sort.direction}"
    return search


def document_body(config: TypesenseBackendConfig, document_id: str) -> dict[str, Any] | None:
    """The search for one document by its id, or None for an id no filter can name."""
    if "`" in document_id:
        return None
    return {
        "collection": config.collection,
        "q": "*",
        "query_by": ",".join(config.query_by),
        "filter_by": f"id:=`{document_id}`",
        "per_page": 1,
    }


def filter_by(exact: Mapping[str, Any], tree: Filter | None) -> str | None:
    """The inputs' exact filters and the tree as one expression; None when there is none."""
    parts = [_exact(name, value) for name, value in exact.items()]
    if tree is not None:
        parts.append(_node(tree))
    return " && ".join(f"({part})" for part in parts) or None


def _exact(name: str, value: Any) -> str:
    where = f"inputs.{name}"
    if isinstance(value, list):
        return f"{name}:=[{','.join(_value(item, where) for item in value)}]"
    return f"{name}:={_value(value, where)}"


def _node(node: Filter, where: str = "filters") -> str:
    if isinstance(node, Group):
        if node.kind == "NOT":  # none of them: Typesense has no NOT, so it is pushed down
            return _node(Group("AND", tuple(_negated(child) for child in node.children)), where)
        joined = f" {'&&' if node.kind == 'AND' else '||'} "
        return joined.join(f"({_node(child, where)})" for child in node.children)
    return _condition(node)


def _negated(node: Filter) -> Filter:
    """The node's negation without NOT (De Morgan; each condition its opposite)."""
    if isinstance(node, Group):
        if node.kind == "NOT":
            return Group("OR", node.children)
        negated = tuple(_negated(child) for child in node.children)
        return Group("OR", negated) if node.kind == "AND" else Group("AND", negated)
    if node.operator in _OPPOSITE:
        return replace(node, operator=_OPPOSITE[node.operator])
    raise refused("filters", f"NOT over the operator {node.operator!r} has no Typesense filter")


def _condition(c: Condition) -> str:
    if c.case_sensitive:
        raise refused("filters", "Typesense compares text without case (case_sensitive)")
    if c.operator in ("eq", "ne", "in", "nin"):
        values = c.value if c.operator in ("in", "nin") else [c.value]
        if any(value is None for value in values):
            raise refused("filters", "Typesense cannot test for a missing or null value")
        sign = "=" if c.operator in ("eq", "in") else "!="
        cells = [_value(value, "filters") for value in values]
        if not cells:
            raise refused("filters", "a Typesense filter needs at least one value")
        return f"{c.field}:{sign}[{','.join(cells)}]"
    if c.operator in _BOUNDS:
        if isinstance(c.value, bool) or not isinstance(c.value, int | float):
            raise refused("filters", "Typesense ranges compare numbers only")
        return f"{c.field}:{_BOUNDS[c.operator]}{_number_text(c.value)}"
    raise refused("filters", f"the operator {c.operator!r} has no Typesense filter")


def _value(value: Any, where: str) -> str:
    """One value as Typesense's filters write it: text in backticks (which it cannot hold)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    if not isinstance(value, str):
        raise invalid(where, "a value or a list of values to match")
    if "`" in value:
        raise refused(where, "a Typesense filter cannot hold a backtick (`)")
    return f"`{value}`"


def _number_text(value: int | float) -> str:
    """A number as Typesense's filters read it: digits, never an exponent (1e+21)."""
    return format(Decimal(repr(value)), "f")


def _words(text: Any) -> str:
    """The text query as words only: nothing typed is Typesense's query syntax."""
    if not isinstance(text, str):
        return ""
    return " ".join(_SYNTAX.sub(" ", text).split())


def _roots(exposed: Iterable[str]) -> list[str]:
    """The top-level fields a result may come from (a dotted field is inside its root)."""
    return list(dict.fromkeys(["id", *(name.split(".")[0] for name in exposed)]))


def page_of(result: dict[str, Any], query: Query) -> Page:
    """One search's answer as a page: the documents with their ids, scores and highlights
    (the query's marked fields that are exposed), the total and the facets asked for."""
    documents = [_document(hit, query.exposed) for hit in result.get("hits") or ()]
    found = result.get("found")
    facets = None
    if query.search.facets:
        counted = {c.get("field_name"): c for c in result.get("facet_counts") or ()}
        facets = {name: _counts(counted.get(name)) for name in query.search.facets}
    return Page(documents=documents, total=found if isinstance(found, int) else None, facets=facets)


def document_of(hit: dict[str, Any]) -> dict[str, Any]:
    """A hit's document as a result, before the exposed-field filter."""
    document = dict(hit.get("document") or {})
    document["document_id"] = str(document.pop("id", ""))
    return document


def _document(hit: dict[str, Any], exposed: tuple[str, ...]) -> dict[str, Any]:
    document = document_of(hit)
    score = hit.get("text_match")
    document["score"] = float(score) if isinstance(score, int | float) else 0.0
    marks = {}
    for entry in hit.get("highlights") or ():
        name = entry.get("field")
        if name in exposed:
            text = _marked(entry, document.get(name))
            if text is not None:
                marks[name] = text
    if marks:
        document["highlights"] = marks
    return document


def _marked(entry: dict[str, Any], value: Any) -> str | None:
    """The field's whole text, HTML-escaped, with Typesense's matched words in `<mark>`; a
    list's items joined as the other engines join them."""
    if isinstance(value, list) and isinstance(entry.get("values"), list):
        marked = dict(zip(entry.get("indices") or (), entry["values"], strict=False))
        items = [marked.get(i, item) for i, item in enumerate(value) if isinstance(item, str)]
        raw: Any = ", ".join(item for item in items if isinstance(item, str))
    else:
        raw = entry.get("value")
    if not isinstance(raw, str) or MARK_START not in raw:
        return None
    return html.escape(raw).replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")


def _counts(counted: dict[str, Any] | None) -> list[FacetCount]:
    """A field's values and counts; numbers as numbers (Typesense writes every value as text,
    and gives numeric fields their stats)."""
    if counted is None:
        return []
    numeric = "min" in (counted.get("stats") or {})
    return [
        FacetCount(_number(item["value"]) if numeric else item["value"], int(item["count"]))
        for item in counted.get("counts") or ()
        if isinstance(item, dict) and isinstance(item.get("value"), str)
    ]


def _number(text: str) -> str | int | float:
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number
