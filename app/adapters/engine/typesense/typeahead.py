"""Typeahead on Typesense: a field's words that start with what is typed (`w_` columns, each
document's distinct words as the other engines index them) and its values that do (`s_`),
each counted by Typesense's facets, the prefix asked by `facet_query`.

Typesense's `facet_query` matches the start of any word of a value, so its answer is cut
down to the values that themselves start with the prefix (case-folded, as the other engines
compare them), from the `CANDIDATES` most common of those it names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.adapters.engine.index import fold
from app.adapters.engine.typesense.names import column

CANDIDATES = 250  # values a field's facet query names at most, before they are cut down

Searches = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


def terms(
    run: Searches, name: str, columns: frozenset[str], fields: list[str], prefix: str, limit: int
) -> list[tuple[str, int]]:
    """Words of these fields that start with `prefix`, with how many documents hold each
    (summed over the fields), most first."""
    words = fold(prefix)
    counted = [c for f in dict.fromkeys(fields) if (c := column("w", f)) in columns]
    if len(words) != 1 or not counted:
        return []
    counts: dict[str, int] = {}
    for value, count in _counts(run, name, counted, words[0]):
        if value.startswith(words[0]):
            counts[value] = counts.get(value, 0) + count
    return _ranked(counts, limit)


def values(
    run: Searches, held: list[tuple[str, frozenset[str]]], field: str, prefix: str, limit: int
) -> list[tuple[str, int]]:
    """Text values of `field` that start with `prefix` (case-folded), over these collections
    (name and columns each), with how many documents carry each, most first."""
    wanted = prefix.casefold()
    counts: dict[str, int] = {}
    for name, columns in held:
        if (counted := column("s", field)) in columns:
            for value, count in _counts(run, name, [counted], " ".join(fold(prefix))):
                if value.casefold().startswith(wanted):
                    counts[value] = counts.get(value, 0) + count
    return _ranked(counts, limit)


def _counts(run: Searches, name: str, counted: list[str], words: str) -> list[tuple[str, int]]:
    """Each column's values (matching `words`, when some), with their counts."""
    searches = [
        {"collection": name, "q": "*", "per_page": 0, "facet_by": c,
         "max_facet_values": CANDIDATES, **({"facet_query": f"{c}:{words}"} if words else {})}
        for c in counted
    ]  # fmt: skip
    return [
        (str(entry["value"]), int(entry["count"]))
        for answer in run(searches)
        for facet in answer.get("facet_counts", [])
        for entry in facet["counts"]
    ]


def _ranked(counts: dict[str, int], limit: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
