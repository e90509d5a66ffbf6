"""The public query protocol, owned here once for every surface (the JSON API, the page, the
embed):

    open:  look up the published retriever (404 when unknown or inactive)
           → check the public key and the password
    run:   count it in the retriever's rate-limit windows (429 when over)
           → parse the request → validate the inputs against the display config
           → ask the backend for one page (or the answer cache)
           → keep only the exposed fields

Surfaces translate HTTP into a `Caller` and an `ExecuteRequest` (or the raw JSON body) and
the `Answer` back into HTTP; they decide nothing else.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any, cast

from app import crypto
from app.adapters.backends import Backends, Page, Query
from app.adapters.engine.words import words_of
from app.errors import AppError, NotFound, PasswordRequired
from app.metrics import Metrics
from app.schemas.public import ExecuteRequest, PublicRetrieverTemplate
from app.schemas.search import (
    FULL_TEXT_INPUT,
    Results,
    SearchRequest,
)
from app.schemas.stages import collections_of, public_stages
from app.services.access import Access, Caller
from app.services.answers import AnswerCache
from app.services.catalog import Catalog, PublicRetriever
from app.services.exposure import expose
from app.services.inputs import validate_inputs
from app.services.limits import RateLimiter, Window, address_key, windows_for
from app.services.search_requests import search_request
from app.services.searchlog import Outcome, Searched, SearchLog, Surface, fold

LOCKED_CONFIG_KEYS = ("title", "description", "logo_url", "icon_base64", "theme", "seo")
EXECUTION_ID_PREFIX = "exe_"
TYPEAHEAD_PER_MINUTE = 120  # suggestions an address may ask for a minute, per retriever


@dataclass(frozen=True)
class Answer:
    """One page of results, and the rate-limit headers it carries."""

    results: Results
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def body(self) -> dict[str, Any]:
        """As `ExecuteResponse`."""
        return self.results.body()


@dataclass(frozen=True)
class Found:
    """One document as a search shows it (exposed fields only), and the rate-limit headers."""

    document: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class PublicQuery:
    def __init__(
        self,
        catalog: Catalog,
        access: Access,
        limiter: RateLimiter,
        backends: Backends,
        answers: AnswerCache,
        metrics: Metrics,
        log: SearchLog,
    ) -> None:
        self.catalog = catalog
        self.access = access
        self.limiter = limiter
        self.backends = backends
        self.answers = answers
        self.metrics = metrics
        self.log = log

    async def open(
        self, public_name: str, caller: Caller, *, password: bool = True
    ) -> PublicRetriever:
        """The retriever, once the caller may query it (404, 401 `PasswordRequired`, 403).
        `password=False` for calls that read nothing, such as recording an interaction,
        which Mixpeek documents as working without the password."""
        retriever = await self.catalog.lookup(public_name)
        await self.access.check(retriever, caller, password=password)
        return retriever

    async def config(self, public_name: str, caller: Caller) -> dict[str, Any]:
        """`PublicRetrieverConfigResponse`. Behind a password, only what the password page
        shows (title, description, logo, theme, SEO) until the password or cookie is given."""
        try:
            retriever = await self.open(public_name, caller)
        except PasswordRequired:
            retriever = await self.catalog.lookup(public_name)
            display = {
                key: value
                for key, value in retriever.record.display_config.items()
                if key in LOCKED_CONFIG_KEYS
            }
            # What the SDK's model requires; nothing can be searched or shown yet.
            display.update(inputs=[], exposed_fields=["document_id"])
            return _config(retriever, display)
        return _config(retriever, retriever.record.display_config)

    async def template(self, public_name: str, caller: Caller, page_url: str) -> dict[str, Any]:
        """`PublicRetrieverTemplateResponse`, behind the same password as the config."""
        retriever = await self.open(public_name, caller)
        record, backend = retriever.record, retriever.backend.model_dump(mode="json")
        inputs = {
            i.field_name: i.field_schema.model_dump(exclude_none=True)
            for i in retriever.display.inputs
        }
        return PublicRetrieverTemplate(
            retriever_name=record.display_name or retriever.display.title,
            description=retriever.display.description or record.description,
            collection_identifiers=collections_of(backend),
            stages=public_stages(backend),
            input_schema=inputs,
            budget_limits={},
            tags=record.tags,
            display_config=record.display_config,
            source_public_name=record.public_name,
            source_public_url=page_url,
        ).model_dump(mode="json")

    async def admit(
        self, retriever: PublicRetriever, caller: Caller, *, typing: bool = False
    ) -> dict[str, str]:
        """Count one query in the retriever's windows (429 when over); the RateLimit headers
        that every answer after this carries. Suggestions while `typing` count in a window
        of their own per address, so that a shopper typing never spends the searches the
        retriever's tier allows."""
        if typing:
            scope = f"{retriever.record.retriever_id}:{address_key(caller.ip)}"
            windows = [Window("typeahead", TYPEAHEAD_PER_MINUTE, 60, scope)]
        else:
            windows = windows_for(retriever.rate_limit, retriever.record.retriever_id, caller.ip)
        decision = await self.limiter.hit(windows)
        if decision is not None and not decision.allowed:
            self.metrics.rate_limited.labels(decision.window.name).inc()
            raise decision.refuse(
                f"Too many {'suggestions' if typing else 'searches'} ({decision.window.limit} "
                f"per {decision.window.name}); try again in {decision.reset} s."
            )
        return decision.headers() if decision else {}

    @asynccontextmanager
    async def counting(
        self,
        retriever: PublicRetriever,
        caller: Caller,
        *,
        counted: bool = True,
        typing: bool = False,
    ) -> AsyncIterator[dict[str, str]]:
        """`admit` (unless not `counted`), giving its RateLimit headers for the answer; an error
        raised inside carries them as well, so a caller always learns how much is left."""
        headers = await self.admit(retriever, caller, typing=typing) if counted else {}
        try:
            yield headers
        except AppError as error:
            error.headers.update(headers)
            raise

    async def run(
        self,
        retriever: PublicRetriever,
        caller: Caller,
        request: SearchRequest | ExecuteRequest | bytes,
        *,
        counted: bool = True,
        surface: Surface = "execute",
    ) -> Answer:
        """Count, check, search, expose, and log the search (`surface` says where it was
        asked). A request the server built itself (the page's) is a `SearchRequest` already;
        an `ExecuteRequest` or raw JSON is checked after the count, so every error carries the
        rate-limit headers and a caller always learns how much is left. `counted=False` for a
        further read that one search of a page needs (its filters' counts), which was counted
        and logged once already."""
        started = time.perf_counter()
        parsed = request if isinstance(request, SearchRequest) else None
        outcome: Outcome | None = None
        results, cached = None, False
        try:
            # `counting`, inline (an async context manager costs a generator and two calls).
            headers = await self.admit(retriever, caller) if counted else {}
            try:
                if parsed is None:
                    parsed = search_request(retriever, cast(ExecuteRequest | bytes, request))
                # Documents like one, or near a vector, need no text: a required query
                # input is not required then.
                inputs = validate_inputs(
                    retriever.display.inputs,
                    dict(parsed.inputs),
                    required=not (parsed.similar_to or parsed.vector),
                )
                exposed = tuple(retriever.display.exposed_fields)
                rules = retriever.rules
                text = inputs.get(FULL_TEXT_INPUT)
                query = Query(
                    namespace=retriever.record.namespace,
                    backend=retriever.backend,
                    search=_with_inputs(parsed, inputs),
                    exposed=exposed,
                    relevance=rules.for_search(text, exposed) if rules else None,
                )
                results, cached = await self._results(retriever, query)
            except AppError as error:
                error.headers.update(headers)
                raise
            outcome = "ok"
            return Answer(results, headers)
        except AppError as error:
            outcome = (
                "refused" if error.status == 429 else "failed" if error.status >= 500 else None
            )
            raise
        finally:
            if counted and outcome is not None:
                self.log.record(
                    Searched(
                        retriever,
                        "similar" if parsed and parsed.similar_to else surface,
                        outcome,
                        (time.perf_counter() - started) * 1000,
                        parsed,
                        results.total if results else None,
                        cached,
                        results.execution_id if results else None,
                        caller.session_id,
                        caller.ip,
                    )
                )

    async def document(
        self, retriever: PublicRetriever, caller: Caller, document_id: str, *, counted: bool = True
    ) -> Found:
        """One document by its id, as a search shows it (exposed fields only), counted like a
        search, or a 404. `counted` as for `run`."""
        async with self.counting(retriever, caller, counted=counted) as headers:
            backend = self.backends[retriever.backend.type].backend
            found = await backend.document(
                retriever.record.namespace, retriever.backend, document_id
            )
            if found is None:
                raise NotFound(f"No result {document_id!r} in this search.")
            return Found(expose(found, retriever.display.exposed_fields), headers)

    async def read_one(self, retriever: PublicRetriever, **options: Any) -> Page:
        """The backend's first result for `options` (the fields of `SearchRequest`), as it has
        it: for the server's own reads, which are neither counted nor exposed here."""
        backend = self.backends[retriever.backend.type].backend
        return await backend.search(
            Query(
                namespace=retriever.record.namespace,
                backend=retriever.backend,
                search=SearchRequest(inputs={}, page_size=1, **options),
                exposed=tuple(retriever.display.exposed_fields),
            )
        )

    async def _results(self, retriever: PublicRetriever, query: Query) -> tuple[Results, bool]:
        """The results, and whether they came from the answer cache."""
        ttl = (retriever.display.extensions or {}).get("query_cache_seconds")
        if not ttl:
            return await self._search(retriever, query), False
        search = query.search
        key = (
            # A publish makes a new public id and starts its versions again at 1: answers kept
            # for an earlier publish (fields since taken back) must never answer for this one.
            retriever.record.public_id,
            retriever.record.version,
            retriever.rules.version if retriever.rules else 0,  # a change of rules: new answers
            replace(search, inputs=_cache_inputs(search.inputs), skip_cache=False),
        )
        cached = None if search.skip_cache else self.answers.get(key)
        if cached is None:
            results = await self._search(retriever, query)
            self.answers.put(key, results, ttl)
            return results, False
        # Each answer is its own execution, even when its documents come from memory.
        return replace(cached, execution_id=crypto.new_id(EXECUTION_ID_PREFIX)), True

    async def _search(self, retriever: PublicRetriever, query: Query) -> Results:
        backend = self.backends[retriever.backend.type].backend
        page = await backend.search(query)
        search = query.search
        exposed = retriever.display.exposed_fields
        documents = [expose(doc, exposed) for doc in page.documents[: search.page_size]]
        seen = search.offset + len(documents)
        return Results(
            execution_id=crypto.new_id(EXECUTION_ID_PREFIX),
            documents=documents,
            page_number=search.page_number,
            page_size=search.page_size,
            total=page.total if page.total is not None else seen,
            has_next=seen < page.total
            if page.total is not None
            else len(documents) == search.page_size,
            facets=page.facets,
            words_left_out=page.left_out,
        )


def words_kept(text: str, left_out: list[str]) -> list[str]:
    """The words of a text query, as the engine reads them, less those `words_left_out`."""
    return list(dict.fromkeys(word for word in words_of(text) if word not in left_out))


def _config(retriever: PublicRetriever, display: dict[str, Any]) -> dict[str, Any]:
    return {
        "public_name": retriever.public_name,
        "display_config": display,
        "password_protected": retriever.password_protected,
        "retriever_metadata": retriever.record.retriever_metadata,
    }


def _with_inputs(search: SearchRequest, inputs: dict[str, Any]) -> SearchRequest:
    """`replace(search, inputs=inputs)` without going through `__init__` field by field (a
    search a request, for inputs just checked): a copy of its attributes, the inputs changed."""
    copy = object.__new__(SearchRequest)
    attributes = copy.__dict__
    attributes.update(search.__dict__)
    attributes["inputs"] = inputs
    return copy


def _cache_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs as the answer cache keys them: the full-text query with case and spacing
    folded ("Desk  Lamp" and "desk lamp" search alike), every other input exactly (a filter
    may well tell "Audio" from "audio")."""
    text = inputs.get(FULL_TEXT_INPUT)
    if not isinstance(text, str):
        return dict(inputs)
    return {**inputs, FULL_TEXT_INPUT: fold(text)}
