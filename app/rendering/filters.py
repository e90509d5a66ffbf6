"""The filters panel of a search page as it is drawn: each facet with its options and counts,
the chips of the active filters, and the links that change them. What is offered and picked,
and the URL parameters that say so, are `facets.py`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app import urls
from app.rendering.facets import (
    Choices,
    Held,
    RangeFacet,
    RangePick,
    Selection,
    ValuesFacet,
    ValuesPick,
    token,
)
from app.schemas.display import PAGE_PARAMETERS, DisplayConfig
from app.schemas.search import FacetCount

SHOWN_VALUES = 8  # the rest of a facet's values sit behind "more"
MAX_REPEATS = 100  # values of one input a page's links carry (a multiselect's, at most)


def canonical(
    items: Sequence[tuple[str, str]], inputs: Iterable[str], chosen: Selection
) -> list[tuple[str, str]]:
    """The page's query parameters that mean something, in their order: the inputs' (each at
    most MAX_REPEATS times), the page's own, and the picks, once each. Every link the page
    writes is built from these, so a URL stuffed with parameters costs no more to answer."""
    held = set(chosen.holds())
    known = {*inputs, *PAGE_PARAMETERS}
    kept: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for key, value in items:
        if (key, value) in held:
            held.discard((key, value))  # a picked value, once
        elif (key, None) not in held and (key not in known or seen.get(key, 0) >= MAX_REPEATS):
            continue
        seen[key] = seen.get(key, 0) + 1
        kept.append((key, value))
    return kept


@dataclass(frozen=True)
class Option:
    token: str
    label: str
    count: int
    checked: bool


@dataclass(frozen=True)
class PanelField:
    facet: ValuesFacet | RangeFacet
    options: tuple[Option, ...] = ()  # a values facet's, by count
    more: tuple[Option, ...] = ()  # the rest, behind "more"
    low: str = ""  # a range facet's, as the URL holds them
    high: str = ""


@dataclass(frozen=True)
class Chip:
    """One active filter, with the URL that removes it."""

    label: str
    remove_url: str


ValueLabel = Callable[[str, Any], str]  # (field, value) → how the cards would name the value


def panel(
    choices: Choices,
    chosen: Selection,
    counts: Mapping[str, Sequence[FacetCount]],
    value_label: ValueLabel,
) -> list[PanelField]:
    """Each offered facet with its options and counts. A picked value is always listed, even
    when nothing matches; a values facet with no value at all is left out."""
    drawn = []
    for facet in choices.facets:
        pick = chosen.picks.get(facet.name)
        if isinstance(facet, RangeFacet):
            ends = (pick.low, pick.high) if isinstance(pick, RangePick) else (None, None)
            drawn.append(PanelField(facet, low=_text(ends[0]), high=_text(ends[1])))
            continue
        picked = pick.tokens if isinstance(pick, ValuesPick) else ()
        counted = {token(c.value): c for c in counts.get(facet.name, [])}
        options = [
            Option(t, value_label(facet.name, c.value), c.count, t in picked)
            for t, c in counted.items()
        ]
        options += [
            Option(t, value_label(facet.name, facet.value_of(t)), 0, True)
            for t in picked
            if t not in counted
        ]
        if not options:
            continue
        options.sort(key=lambda o: (not o.checked, -o.count, o.label.casefold()))
        keep = max(SHOWN_VALUES, sum(o.checked for o in options))
        drawn.append(PanelField(facet, tuple(options[:keep]), tuple(options[keep:])))
    return drawn


def _text(value: float | None) -> str:
    return "" if value is None else token(value)


def chips(
    base: str, items: Sequence[tuple[str, str]], chosen: Selection, value_label: ValueLabel
) -> list[Chip]:
    """The active filters, each with a link that drops it (and the page number): one a
    picked value, one a range."""
    found = []
    for pick in chosen.picks.values():
        label = pick.facet.label
        if isinstance(pick, ValuesPick):
            for t in pick.tokens:
                text = f"{label}: {value_label(pick.facet.name, pick.facet.value_of(t))}"
                found.append(Chip(text, url(base, items, frozenset({(pick.facet.param, t)}))))
            continue
        if pick.low is not None and pick.high is not None:
            text = f"{label}: {token(pick.low)} to {token(pick.high)}"
        elif pick.low is not None:
            text = f"{label}: {token(pick.low)} or more"
        else:
            text = f"{label}: up to {token(pick.high)}"
        found.append(Chip(text, url(base, items, pick.holds())))
    return found


def clear_url(base: str, items: Sequence[tuple[str, str]], chosen: Selection) -> str:
    """The same search without any filter of the panel."""
    return url(base, items, chosen.holds())


def url(base: str, items: Sequence[tuple[str, str]], drop: Held = frozenset()) -> str:
    """`base` with the query parameters `items`, less those dropped; always back to the first
    page (a filter change makes a new list)."""
    kept = [
        (k, v)
        for k, v in items
        if v != "" and k != "page" and (k, v) not in drop and (k, None) not in drop
    ]
    return urls.with_query(base, kept)


def value_labeller(display: DisplayConfig) -> Callable[[str, Any], str]:
    """How the panel and its chips name a value: a boolean by its field's labels, else as the
    value reads."""
    configs = display.field_config or {}

    def label(name: str, value: Any) -> str:
        config = configs.get(name)
        options = config.format_options if config else None
        if value is True:
            return options.true_label if options else "Yes"
        if value is False:
            return options.false_label if options else "No"
        return token(value)

    return label
