"""The facets of a search page: which fields its filters panel offers and how, what a URL picks
of them, and the filter tree those picks make.

One class per kind of facet, as Datasette has them: a field filtered by its values
(`?f.brand=Lumen&f.brand=Kestrel`, any of them) and a field filtered by a range of numbers
(`?f.price.min=10&f.price.max=50`). Each reads its own URL parameters (`Facet.read`) and its
pick knows the parameters it holds and the filter it makes (`Pick.holds`, `Pick.condition`):
the page's `f.` parameters are read and written here and nowhere else, and the filter tree is
built once, typed, for the query protocol to pass on as it is. The sort menu (`?sort=price`,
`?sort=-price`) and the similar-to item are read here too. Drawing the panel is `filters.py`'s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from app.rendering.form import Params
from app.schemas.filters import Condition, Filter, Group
from app.schemas.search import FacetCount, Sort

PREFIX = "f."
# A field is offered as values when it has at most this many, and some value repeats.
MAX_VALUES = 30
MAX_VALUE_CHARS = 60
# Numbers with few distinct whole values (years of warranty, sizes) read better as boxes.
MAX_NUMBER_VALUES = 10
MAX_NUMBER = 1e15  # the largest bound a range takes, either way
MAX_SIMILAR_TO_CHARS = 500
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.+-Z]*)?")

# A URL parameter a pick holds: (key, value), or (key, None) for any value of that key.
Held = frozenset[tuple[str, str | None]]


def token(value: Any) -> str:
    """A value as the URL and the form write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Facet:
    name: str
    label: str
    kind: ClassVar[str]

    @property
    def param(self) -> str:
        return PREFIX + self.name

    def read(self, params: Params, errors: dict[str, str]) -> Pick | None:
        """What the URL picks of this field (None: nothing); a value it cannot read is noted
        in `errors` under its parameter, and left out."""
        raise NotImplementedError


@dataclass(frozen=True)
class ValuesFacet(Facet):
    kind: ClassVar[str] = "values"
    values: tuple[Any, ...] = ()  # as the collection stores them (typed)

    def value_of(self, text: str) -> Any:
        """A token from the URL as the value the collection stores (true, 3, "Lumen"); a
        token the field never held stays as it is."""
        return next((value for value in self.values if token(value) == text), text)

    def read(self, params: Params, errors: dict[str, str]) -> ValuesPick | None:
        # Only the values the panel offers are picks (each once, however many times a URL
        # repeats it): the page's work stays bounded, and a value that is not there any more
        # filters nothing rather than everything away.
        offered = {token(value) for value in self.values}
        tokens = tuple(t for t in dict.fromkeys(params.getlist(self.param)) if t in offered)
        return ValuesPick(self, tokens) if tokens else None


@dataclass(frozen=True)
class RangeFacet(Facet):
    kind: ClassVar[str] = "range"
    low: float | None = None  # the bounds over the whole collection, for the placeholders
    high: float | None = None

    def read(self, params: Params, errors: dict[str, str]) -> RangePick | None:
        low = _number(params, self.param + ".min", errors)
        high = _number(params, self.param + ".max", errors)
        if low is not None and high is not None and low > high:
            low, high = high, low
        if low is None and high is None:
            return None
        return RangePick(self, low, high)


@dataclass(frozen=True)
class ValuesPick:
    facet: ValuesFacet
    tokens: tuple[str, ...]

    def condition(self) -> Filter:
        values = [self.facet.value_of(t) for t in self.tokens]
        return Condition(self.facet.name, "in", values)

    def holds(self) -> Held:
        return frozenset((self.facet.param, t) for t in self.tokens)


@dataclass(frozen=True)
class RangePick:
    facet: RangeFacet
    low: float | None
    high: float | None

    def condition(self) -> Filter:
        name = self.facet.name
        ends: list[Filter] = []
        if self.low is not None:
            ends.append(Condition(name, "gte", self.low))
        if self.high is not None:
            ends.append(Condition(name, "lte", self.high))
        return ends[0] if len(ends) == 1 else Group("AND", tuple(ends))

    def holds(self) -> Held:
        return frozenset((self.facet.param + end, None) for end in (".min", ".max"))


Pick = ValuesPick | RangePick


@dataclass(frozen=True)
class SortOption:
    key: str  # as in the URL: "price" or "-price"
    sort: Sort
    label: str


@dataclass(frozen=True)
class Choices:
    """What a page offers: facets and sort orders (both empty when the backend cannot count
    or sort)."""

    facets: tuple[ValuesFacet | RangeFacet, ...] = ()
    sorts: tuple[SortOption, ...] = ()

    @property
    def counted(self) -> tuple[str, ...]:
        """The fields whose values a search counts for the panel."""
        return tuple(f.name for f in self.facets if isinstance(f, ValuesFacet))


@dataclass(frozen=True)
class Selection:
    """The filters, sort and similar-to item a URL asks for."""

    picks: dict[str, Pick] = field(default_factory=dict)  # by field, in the panel's order
    sort: SortOption | None = None
    similar_to: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # URL parameter → what is wrong

    @property
    def active(self) -> bool:
        return bool(self.picks)

    def tree(self, without: str | None = None) -> Filter | None:
        """The picks as one filter tree (`without`: leave one field out, to count that
        field's values as if nothing of it were picked)."""
        conditions = tuple(p.condition() for name, p in self.picks.items() if name != without)
        if not conditions:
            return None
        return conditions[0] if len(conditions) == 1 else Group("AND", conditions)

    def holds(self) -> Held:
        """Every URL parameter the picks hold."""
        return frozenset().union(*(pick.holds() for pick in self.picks.values()))


def select(params: Params, choices: Choices) -> Selection:
    """What the URL picks of what the page offers."""
    errors: dict[str, str] = {}
    picks = {}
    for facet in choices.facets:
        pick = facet.read(params, errors)
        if pick is not None:
            picks[facet.name] = pick
    wanted = params.get("sort", "")
    sort = next((option for option in choices.sorts if option.key == wanted), None)
    similar = params.get("similar_to", "").strip()[:MAX_SIMILAR_TO_CHARS]
    return Selection(picks, sort, similar or None, errors)


def classify(
    name: str, label: str, values: Sequence[FacetCount], documents: int, chosen: bool
) -> tuple[ValuesFacet | RangeFacet | None, bool, bool]:
    """How a field is offered, from its counted values over the whole collection: (the facet,
    whether it sorts as numbers, whether it sorts as dates). `chosen`: the publisher named the
    field, so it is offered whenever it can be. A range's bounds are the caller's to read."""
    if not values:
        return None, False, False
    raw = [counted.value for counted in values]
    if all(isinstance(v, bool) for v in raw):
        return ValuesFacet(name, label, tuple(raw)), False, False
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw):
        whole = all(float(v).is_integer() for v in raw)
        if whole and len(raw) <= MAX_NUMBER_VALUES and (chosen or len(raw) < documents):
            return ValuesFacet(name, label, tuple(sorted(raw))), True, False
        return RangeFacet(name, label), True, False
    if all(isinstance(v, str) for v in raw):
        if all(_ISO_DATE.fullmatch(str(v)) for v in raw):
            return None, False, True
        few = len(raw) <= MAX_VALUES and all(len(str(v)) <= MAX_VALUE_CHARS for v in raw)
        repeats = sum(counted.count for counted in values) > len(raw) or len(raw) < documents
        if chosen or (few and repeats):
            return ValuesFacet(name, label, tuple(raw)), False, False
    return None, False, False


def sort_options(
    numbers: Iterable[tuple[str, str]], dates: Iterable[tuple[str, str]]
) -> tuple[SortOption, ...]:
    """The sort menu's orders, for (field, label) pairs of numbers and of dates."""
    options = []
    for name, label in numbers:
        options.append(SortOption(name, Sort(name, "asc"), f"{label}: low to high"))
        options.append(SortOption(f"-{name}", Sort(name, "desc"), f"{label}: high to low"))
    for name, label in dates:
        options.append(SortOption(f"-{name}", Sort(name, "desc"), f"{label}: newest first"))
        options.append(SortOption(name, Sort(name, "asc"), f"{label}: oldest first"))
    return tuple(options)


def _number(params: Params, key: str, errors: dict[str, str]) -> float | None:
    text = params.get(key, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[key] = "must be a number"
        return None
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        errors[key] = "must be a number between -10^15 and 10^15"
        return None
    return int(value) if value.is_integer() else value
