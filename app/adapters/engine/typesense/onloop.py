"""A search of words, filters and facets answered on the event loop, over aiohttp
(`connection.LoopSearches`): one request to the node, awaited, with no worker thread between.
Through the server, a search in a worker thread cost more than the node's own work: the
thread's turn and dozens of threads taking the interpreter from each other between sending and
reading (docs/performance.md, "Typesense").

Only what needs no other request or blocking read goes this way: the collection's schema known
(`schemas.py`; older than a second, it is read again in a worker thread meanwhile, one read at
a time, so a write through another server is seen within a second or two; made stale by a
write through this process, the search waits for it in the thread), its synonym roots put
already, no pins, hidden documents or boosts, no vector and no find similar. For anything else
`search_on_loop` answers None and the caller runs `search` in a worker thread, as before.
A search of words is one request, or two when whether its last word is a prefix is not known
yet (the counts first, `wholewords.steps`, which the worker thread's `wholewords.by_words` takes
too); a request the same as one already in flight waits for that one's answer (`inflight.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import cached_property, partial
from typing import Any

from app import jsonutil
from app.adapters.engine.results import Search, SearchResult
from app.adapters.engine.typesense import query, wholewords
from app.adapters.engine.typesense.answers import MissingColumn, answer
from app.adapters.engine.typesense.connection import LoopSearches, reached
from app.adapters.engine.typesense.inflight import InFlight
from app.adapters.engine.typesense.names import collection_name
from app.adapters.engine.typesense.schemas import Held, Schemas


class TypesenseOnLoop:
    """The part of `TypesenseEngine` that searches on the event loop."""

    prefix: str
    schemas: Schemas
    loop_searches: LoopSearches
    whole_words: wholewords.WholeWords
    _reading: set[str]  # the collections whose schema is being read again

    def _held(self, name: str) -> Held | None: ...

    def _known(self, name: str) -> Held | None:
        held, again = self.schemas.peek(name)
        if held is not None and again and name not in self._reading:
            self._reading.add(name)
            asyncio.get_running_loop().run_in_executor(None, self._read_again, name)
        return held

    def _read_again(self, name: str) -> None:
        try:
            with contextlib.suppress(Exception):  # (a search asking then says what is wrong)
                self._held(name)
        finally:
            self._reading.discard(name)

    def embedding_known(
        self, namespace: str, collection: str
    ) -> tuple[bool, dict[str, Any] | None]:
        """Whether the collection's embedding settings are known without asking the node, and
        they (None: it embeds nothing)."""
        held = self._known(collection_name(self.prefix, namespace, collection))
        return (held is not None, held.embedding if held is not None else None)

    async def search_on_loop(
        self, namespace: str, collection: str, search: Search
    ) -> SearchResult | None:
        """As `search`, or None when it needs more than one request (then run `search`)."""
        name = collection_name(self.prefix, namespace, collection)
        held = self._known(name)
        rules = search.relevance
        if (
            held is None
            or search.similar_to is not None
            or search.vector is not None
            or (rules is not None and (rules.pinned or rules.hidden or rules.boosts))
        ):
            return None
        planned = query.parameters(search, held.columns)
        if planned is None:
            return SearchResult(hits=[], total=0, facets={f: [] for f in search.facets})
        params, needed = planned
        if not set(needed) <= held.synonyms:
            return None
        try:
            found, prefix = await self._by_words(name, search, params)
        except MissingColumn:
            return None  # (dropped and made again meanwhile: `search` reads the schema again)
        if needed and not found.get("found"):
            return None  # (`search` puts the synonym roots again, as it does)
        return query.result(search, found, prefix)

    async def _by_words(
        self, name: str, search: Search, params: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """`wholewords.steps`, each request awaited."""
        run = wholewords.steps(self.whole_words, name, search, params)
        asked = next(run)
        while True:
            try:
                asked = run.send(await self._answers(name, asked))
            except StopIteration as done:
                answered: tuple[dict[str, Any], bool] = done.value
                return answered

    @cached_property
    def _in_flight(self) -> InFlight:
        return InFlight()

    async def _answers(self, name: str, searches: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The answers of searches of one collection, sent in one request, or taken from the
        same request in flight (`inflight.py`)."""
        body = {"searches": [{"collection": name, **params} for params in searches]}
        asked = (name, self.whole_words.writes(name), jsonutil.dumps(body))
        with reached():
            send = partial(self.loop_searches.multi_search, body)
            sent = await self._in_flight.answer(asked, send)
        return [answer(dict(each)) for each in sent["results"]]
