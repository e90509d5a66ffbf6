"""The searches behind a search page: what its filters panel and sort menu offer, and one page of
results with the counts the panel shows.

What a page offers is read from the collection itself: the values of each candidate field are
counted once over every document (kept for a minute per retriever version, then counted again
while the pages go on offering what was kept), and each field is
offered as values, as a range of numbers, or not at all (`rendering.facets.classify`). The
counts beside each value are "disjunctive", as shoppers expect: a field's counts ignore that
field's own picks, so ticking one brand still shows how many the others would add. That takes
one more read per field with picks; the page counts as one search against the rate limits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from app.adapters.threads import overlapping
from app.errors import AppError, StoreUnavailable
from app.rendering.card_slots import description_field, label_of, thumbnail_field, title_field
from app.rendering.facets import Choices, RangeFacet, Selection, ValuesFacet, classify, sort_options
from app.schemas.public import MAX_FACETS
from app.schemas.search import FULL_TEXT_INPUT, FacetCount, SearchRequest, Sort
from app.services.access import Caller
from app.services.catalog import PublicRetriever
from app.services.query import Answer, PublicQuery
from app.services.searchlog import Surface

CHOICES_SECONDS = 60.0
FILTERS_EXTENSION = "filters"


@dataclass(frozen=True)
class PageResult:
    answer: Answer
    counts: dict[str, list[FacetCount]] = field(default_factory=dict)  # the panel's


class Browse:
    def __init__(self, query: PublicQuery, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.query = query
        self.monotonic = monotonic
        self._choices: dict[tuple[str, int], tuple[float, Choices]] = {}
        self._finding: dict[tuple[str, int], asyncio.Future[Choices]] = {}

    async def choices(self, retriever: PublicRetriever) -> Choices:
        """The filters and sort orders the page offers (none when the backend cannot count)."""
        # By the published record's own id: a retriever published again after an unpublish
        # starts at version 1 again, and its old version's choices (a field since taken back)
        # must not be offered for it.
        key = (retriever.record.public_id, retriever.record.version)
        now = self.monotonic()
        kept = self._choices.get(key)
        # One discovery at a time: the requests that come meanwhile wait for it. (Counting every
        # exposed field's values over the whole collection takes a Typesense node 220 ms of CPU
        # on the Debian catalog; 32 pages at once each asking for it took the node past its
        # timeout, and, not kept, asked again.)
        finding = self._finding.get(key)
        if finding is None and (kept is None or now - kept[0] >= CHOICES_SECONDS):
            finding = self._finding[key] = asyncio.ensure_future(self._found(retriever, key, now))
            finding.add_done_callback(lambda _: self._finding.pop(key, None))
        if kept is not None:  # a minute old or more: still offered while it is found again
            return kept[1]
        assert finding is not None
        return await asyncio.shield(finding)

    async def _found(self, retriever: PublicRetriever, key: tuple[str, int], now: float) -> Choices:
        try:
            # On a thread, even over the embedded engine, whose quick searches run on the event
            # loop: counting every value of a 64,000-document collection held the loop (and every
            # page waiting on it) for 40 to 200 ms once a minute.
            with overlapping():
                found = await self._discover(retriever)
        except StoreUnavailable:
            return Choices()  # for now: not kept, so the panel is back as soon as the store is
        except AppError:  # a backend that cannot count values (an upstream) offers nothing
            found = Choices()
        if len(self._choices) > 1000:
            self._choices.clear()
        self._choices[key] = (now, found)
        return found

    async def _discover(self, retriever: PublicRetriever) -> Choices:
        display = retriever.display
        configs = display.field_config or {}
        named: list[str] | None = (display.extensions or {}).get(FILTERS_EXTENSION)
        # Never the inputs' fields (the form has them), titles, pictures or descriptions.
        left_out = {title_field(display), thumbnail_field(display), description_field(display)}
        left_out |= {i.field_name for i in display.inputs}
        offered = display.exposed_fields if named is None else named
        candidates = [name for name in offered if name not in left_out]
        counted: dict[str, list[FacetCount]] = {}
        total = 0
        for start in range(0, len(display.exposed_fields), MAX_FACETS):
            chunk = tuple(display.exposed_fields[start : start + MAX_FACETS])
            page = await self.query.read_one(retriever, facets=chunk)
            total = page.total or 0
            counted.update(page.facets or {})
        facets: list[ValuesFacet | RangeFacet] = []
        numbers: list[tuple[str, str]] = []
        dates: list[tuple[str, str]] = []
        for name in display.exposed_fields:
            label = label_of(name, configs.get(name))
            offer, number, date = classify(
                name, label, counted.get(name, []), total, named is not None
            )
            if number:
                numbers.append((name, label))
            if date:
                dates.append((name, label))
            if offer is not None and name in candidates:
                if isinstance(offer, RangeFacet):
                    offer = await self._bounds(retriever, offer)
                facets.append(offer)
        if named is not None:
            facets.sort(key=lambda facet: named.index(facet.name))
        return Choices(tuple(facets), sort_options(numbers, dates))

    async def _bounds(self, retriever: PublicRetriever, facet: RangeFacet) -> RangeFacet:
        """A range facet with the lowest and highest values of the collection."""
        ends = []
        for direction in ("asc", "desc"):
            page = await self.query.read_one(retriever, sort=Sort(facet.name, direction))
            value = page.documents[0].get(facet.name) if page.documents else None
            ends.append(float(value) if isinstance(value, int | float) else None)
        return RangeFacet(facet.name, facet.label, low=ends[0], high=ends[1])

    async def search(
        self,
        retriever: PublicRetriever,
        caller: Caller,
        inputs: dict[str, Any],
        chosen: Selection,
        choices: Choices,
        page: int,
        page_size: int,
        surface: Surface = "page",
        counted: bool = True,
    ) -> PageResult:
        """One page of results with the panel's counts (a 429 or any refusal raises). A list
        of documents like one is that document's neighbours within the filters: the text
        query stays in the page's URL for the way back, and out of the search."""
        if chosen.similar_to:
            inputs = {name: value for name, value in inputs.items() if name != FULL_TEXT_INPUT}
        request = SearchRequest(
            inputs=inputs,
            filters=chosen.tree(),
            facets=choices.counted[:MAX_FACETS],
            sort=chosen.sort.sort if chosen.sort else None,
            page_number=page,
            page_size=page_size,
            similar_to=chosen.similar_to,
        )
        # Not `counted`: the console's preview, which neither spends nor logs a search.
        answer = await self.query.run(retriever, caller, request, surface=surface, counted=counted)
        counts = dict(answer.results.facets or {})
        for name in chosen.picks:
            if name not in counts:  # a range: nothing counted
                continue
            # Disjunctive: this field's values counted as if none of them were picked.
            alone = replace(
                request,
                filters=chosen.tree(without=name),
                facets=(name,),
                sort=None,
                page_number=1,
                page_size=1,
            )
            other = await self.query.run(retriever, caller, alone, counted=False)
            counts.update(other.results.facets or {})
        return PageResult(answer, counts)
