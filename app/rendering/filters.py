"""The filters panel and the sort menu of a search page, read from and written back to the URL.

A field offered in the panel filters by its values (`?f.brand=Lumen&f.brand=Kestrel`, any of
them) or by a range of numbers (`?f.price.min=10&f.price.max=50`); the sort menu is
`?sort=price` (low to high) or `?sort=-price`. The URL holds the whole state, so a page with
filters is shareable and works with JavaScript off. Which fields are offered, and how, comes
from the values the engine counted (`classify`); the page turns a selection into Mixpeek's
filter tree (`tree`), the same one the JSON API takes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from app import urls
from app.rendering.form import Params
from app.schemas.display import PAGE_PARAMETERS, DisplayConfig

PREFIX = "f."
# A field is offered as values when it has at most this many, and some value repeats.
MAX_VALUES = 30
MAX_VALUE_CHARS = 60
# Numbers with few distinct whole values (years of warranty, sizes) read better as boxes.
MAX_NUMBER_VALUES = 10
SHOWN_VALUES = 8  # the rest of a field's values sit behind "more"
MAX_REPEATS = 100  # values of one input a page's links carry (a multiselect's, at most)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.+-Z]*)?")

Kind = Literal["values", "range"]


@dataclass(frozen=True)
class FilterField:
    name: str
    label: str
    kind: Kind
    values: tuple[Any, ...] = ()  # a values field's values, as stored (typed)
    low: float | None = None  # a range field's bounds over the whole collection
    high: float | None = None

    def value_of(self, text: str) -> Any:
        """A token from the URL as the value the collection stores (true, 3, "Lumen"); a
        token the field never held stays as it is."""
        return next((value for value in self.values if token(value) == text), text)


@dataclass(frozen=True)
class SortOption:
    key: str  # as in the URL: "price" or "-price"
    field: str
    direction: Literal["asc", "desc"]
    label: str


@dataclass(frozen=True)
class Choices:
    """What a page offers: filter fields and sort orders (both empty when the backend cannot
    count or sort)."""

    fields: tuple[FilterField, ...] = ()
    sorts: tuple[SortOption, ...] = ()


def token(value: Any) -> str:
    """A value as the URL and the form write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def classify(
    name: str, label: str, values: Sequence[tuple[Any, int]], documents: int, chosen: bool
) -> tuple[FilterField | None, bool, bool]:
    """How a field is offered, from its counted values over the whole collection: (the filter,
    whether it sorts as numbers, whether it sorts as dates). `chosen`: the publisher named the
    field, so it is offered whenever it can be."""
    if not values:
        return None, False, False
    raw = [value for value, _ in values]
    if all(isinstance(v, bool) for v in raw):
        return FilterField(name, label, "values", tuple(raw)), False, False
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
        whole = all(float(v).is_integer() for v in raw)
        if whole and len(raw) <= MAX_NUMBER_VALUES and (chosen or len(raw) < documents):
            return FilterField(name, label, "values", tuple(sorted(raw))), True, False
        return FilterField(name, label, "range"), True, False
    if all(isinstance(v, str) for v in raw):
        if all(_ISO_DATE.fullmatch(v) for v in raw):
            return None, False, True
        few = len(raw) <= MAX_VALUES and all(len(v) <= MAX_VALUE_CHARS for v in raw)
        repeats = sum(count for _, count in values) > len(raw) or len(raw) < documents
        if chosen or (few and repeats):
            return FilterField(name, label, "values", tuple(raw)), False, False
    return None, False, False


def sort_options(
    numbers: Iterable[tuple[str, str]], dates: Iterable[tuple[str, str]]
) -> tuple[SortOption, ...]:
    """The sort menu's orders, for (field, label) pairs of numbers and of dates."""
    options = []
    for name, label in numbers:
        options.append(SortOption(name, name, "asc", f"{label}: low to high"))
        options.append(SortOption(f"-{name}", name, "desc", f"{label}: high to low"))
    for name, label in dates:
        options.append(SortOption(f"-{name}", name, "desc", f"{label}: newest first"))
        options.append(SortOption(name, name, "asc", f"{label}: oldest first"))
    return tuple(options)


@dataclass
class Selection:
    """The filters, sort and similar-to item a URL asks for."""

    values: dict[str, list[str]] = field(default_factory=dict)  # field → tokens
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    sort: SortOption | None = None
    similar_to: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # URL parameter → what is wrong

    @property
    def active(self) -> bool:
        return bool(self.values or self.ranges)


def selection(params: Params, choices: Choices) -> Selection:
    """What the URL picks. Only values the panel offers are picks (at most the field's
    values, however many a URL repeats): a page's work stays bounded, and a value that is not
    there any more filters nothing rather than everything away."""
    chosen = Selection()
    for spec in choices.fields:
        key = PREFIX + spec.name
        if spec.kind == "values":
            offered = {token(value) for value in spec.values}
            tokens = [t for t in dict.fromkeys(params.getlist(key)) if t in offered]
            if tokens:
                chosen.values[spec.name] = tokens
            continue
        low = _number(params.get(key + ".min", ""), key + ".min", chosen.errors)
        high = _number(params.get(key + ".max", ""), key + ".max", chosen.errors)
        if low is not None and high is not None and low > high:
            low, high = high, low
        if low is not None or high is not None:
            chosen.ranges[spec.name] = (low, high)
    wanted = params.get("sort", "")
    chosen.sort = next((option for option in choices.sorts if option.key == wanted), None)
    similar = params.get("similar_to", "").strip()
    chosen.similar_to = similar[:500] or None
    return chosen


def canonical(
    items: Sequence[tuple[str, str]], inputs: Iterable[str], chosen: Selection
) -> list[tuple[str, str]]:
    """The page's query parameters that mean something, in their order: the inputs' (each at
    most MAX_REPEATS times), the page's own, and the picks, once each. Every link the page
    writes is built from these, so a URL stuffed with parameters costs no more to answer."""
    picked = {(PREFIX + name, t) for name, tokens in chosen.values.items() for t in tokens}
    known = {*inputs, *PAGE_PARAMETERS}
    known |= {PREFIX + name + end for name in chosen.ranges for end in (".min", ".max")}
    kept: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for key, value in items:
        if (key, value) in picked:
            picked.discard((key, value))
        elif key not in known or seen.get(key, 0) >= MAX_REPEATS:
            continue
        seen[key] = seen.get(key, 0) + 1
        kept.append((key, value))
    return kept


def _number(text: str, key: str, errors: dict[str, str]) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[key] = "must be a number"
        return None
    if not math.isfinite(value) or abs(value) > 1e15:
        errors[key] = "must be a number between -10^15 and 10^15"
        return None
    return int(value) if value.is_integer() else value


def tree(chosen: Selection, choices: Choices, without: str | None = None) -> dict[str, Any] | None:
    """The selection as Mixpeek's filter tree (`without`: leave one field out, to count that
    field's values as if nothing of it were picked)."""
    conditions: list[dict[str, Any]] = []
    specs = {spec.name: spec for spec in choices.fields}
    for name, tokens in chosen.values.items():
        if name != without:
            values = [specs[name].value_of(t) for t in tokens]
            conditions.append({"field": name, "operator": "in", "value": values})
    for name, (low, high) in chosen.ranges.items():
        if name == without:
            continue
        if low is not None:
            conditions.append({"field": name, "operator": "gte", "value": low})
        if high is not None:
            conditions.append({"field": name, "operator": "lte", "value": high})
    return {"AND": conditions} if conditions else None


# The panel, as the template draws it ---------------------------------------------------------


@dataclass(frozen=True)
class Option:
    token: str
    label: str
    count: int
    checked: bool


@dataclass(frozen=True)
class PanelField:
    spec: FilterField
    options: tuple[Option, ...] = ()  # values fields
    more: tuple[Option, ...] = ()  # the rest, behind "more"
    low: str = ""  # range fields: what the URL holds
    high: str = ""

    @property
    def param(self) -> str:
        return PREFIX + self.spec.name


@dataclass(frozen=True)
class Chip:
    """One active filter, with the URL that removes it."""

    label: str
    remove_url: str


def panel(
    choices: Choices,
    chosen: Selection,
    counts: Mapping[str, Sequence[tuple[Any, int]]],
    value_label: Callable[[str, Any], str],
) -> list[PanelField]:
    """Each offered field with its options and counts (`value_label(field, value)` names a
    value as the cards would). A picked value is always listed, even when nothing matches."""
    drawn = []
    for spec in choices.fields:
        if spec.kind == "range":
            low, high = chosen.ranges.get(spec.name, (None, None))
            drawn.append(PanelField(spec, low=_text(low), high=_text(high)))
            continue
        picked = chosen.values.get(spec.name, [])
        counted = {token(value): (value, count) for value, count in counts.get(spec.name, [])}
        options = [
            Option(t, value_label(spec.name, value), count, t in picked)
            for t, (value, count) in counted.items()
        ]
        options += [
            Option(t, value_label(spec.name, spec.value_of(t)), 0, True)
            for t in picked
            if t not in counted
        ]
        if not options:
            continue
        options.sort(key=lambda o: (not o.checked, -o.count, o.label.casefold()))
        keep = max(SHOWN_VALUES, sum(o.checked for o in options))
        drawn.append(PanelField(spec, tuple(options[:keep]), tuple(options[keep:])))
    return drawn


def _text(value: float | None) -> str:
    return "" if value is None else token(value)


def chips(
    base: str,
    items: Sequence[tuple[str, str]],
    choices: Choices,
    chosen: Selection,
    value_label: Callable[[str, Any], str],
) -> list[Chip]:
    """The active filters, each with a link that drops it (and the page number)."""
    specs = {spec.name: spec for spec in choices.fields}
    found = []
    for name, tokens in chosen.values.items():
        for t in tokens:
            text = f"{specs[name].label}: {value_label(name, specs[name].value_of(t))}"
            found.append(Chip(text, url(base, items, drop={(PREFIX + name, t)})))
    for name, (low, high) in chosen.ranges.items():
        key = PREFIX + name
        if low is not None and high is not None:
            text = f"{specs[name].label}: {token(low)} to {token(high)}"
        elif low is not None:
            text = f"{specs[name].label}: {token(low)} or more"
        else:
            text = f"{specs[name].label}: up to {token(high)}"
        found.append(Chip(text, url(base, items, drop_keys={key + ".min", key + ".max"})))
    return found


def clear_url(base: str, items: Sequence[tuple[str, str]]) -> str:
    """The same search without any filter of the panel."""
    return url(base, items, drop_keys={k for k, _ in items if k.startswith(PREFIX)})


def url(
    base: str,
    items: Sequence[tuple[str, str]],
    *,
    drop: set[tuple[str, str]] | None = None,
    drop_keys: set[str] | None = None,
) -> str:
    """`base` with the query parameters `items`, less those dropped; always back to the first
    page (a filter change makes a new list)."""
    gone = drop or set()
    keys = (drop_keys or set()) | {"page"}
    kept = [(k, v) for k, v in items if k not in keys and (k, v) not in gone and v != ""]
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
