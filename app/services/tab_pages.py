"""Pages of tabs, the public side: a page by its slug (a stored page, or a published
retriever's own single-tab page), its tabs' retrievers, and the search of every tab at once.

Each tab is its retriever's own: its password, its rate limits, its exposed fields. The
federated search sends one query to every tab concurrently through the public query protocol
(`PublicQuery`), each with a timeout of its own (and each search over this server's engine on a
thread of its own, so that they overlap); a tab that fails, is refused or is slow
answers with its error, never blanking the others. The lists are merged by reciprocal rank
(`docs/pages.md`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app import jsonutil
from app.adapters.cache import RefreshingCache
from app.adapters.engine.fusion import RRF_K
from app.adapters.store import Store
from app.adapters.store import pages as rows
from app.adapters.threads import in_thread, overlapping
from app.errors import AppError, GatewayTimeout, NotFound
from app.metrics import CacheCounter
from app.schemas.display import DisplayConfig
from app.schemas.pages import (
    AllTabConfig,
    FeaturedGalleryConfig,
    HeroConfig,
    PageMeta,
    SectionConfig,
    StatItem,
)
from app.schemas.search import Results, SearchRequest
from app.services.access import Caller
from app.services.catalog import PublicRetriever
from app.services.page_inputs import SharedInput, inputs_for, shared_inputs, text_inputs
from app.services.page_layout import default_layout, laid_out
from app.services.query import PublicQuery
from app.services.searchlog import Surface

CACHE_SECONDS = 0.9
MAX_CACHED = 10_000
DEFAULT_TAB_TIMEOUT_SECONDS = 8.0
SINGLE_TAB_ID = "search"


@dataclass(frozen=True)
class Tab:
    tab_id: str
    label: str
    retriever_id: str
    public_name: str | None  # None: its retriever is not published (any more)
    description: str | None = None


@dataclass(frozen=True)
class OpenPage:
    """A page as the public side shows it: its tabs in order and its sections laid out."""

    slug: str
    namespace: str
    meta: PageMeta
    tabs: tuple[Tab, ...]
    sections: tuple[SectionConfig, ...]
    hero: HeroConfig | None = None
    stats: tuple[StatItem, ...] = ()
    featured_gallery: FeaturedGalleryConfig | None = None
    custom_html: str | None = None
    all_tab: AllTabConfig = field(default_factory=AllTabConfig)
    single: bool = False  # a retriever's own page, made from it rather than stored

    def tab(self, tab_id: str | None) -> Tab | None:
        """The tab of that id; the first when none is asked for; None for an unknown id."""
        if tab_id is None:
            return self.tabs[0]
        return next((tab for tab in self.tabs if tab.tab_id == tab_id), None)

    def section(self, section_id: str) -> SectionConfig | None:
        return next((s for s in self.sections if s.section_id == section_id), None)


@dataclass(frozen=True)
class TabAnswer:
    """One tab's part of a federated search: its results, or why it has none."""

    tab: Tab
    results: Results | None = None
    error: AppError | None = None
    retriever: PublicRetriever | None = None
    inputs: tuple[str, ...] = ()  # the names of the inputs it was given


@dataclass(frozen=True)
class Merged:
    """One document of the merged list: as the first tab (in the page's order) that found it
    shows it, with its fused score and every tab that found it."""

    tab: Tab
    document: dict[str, Any]
    score: float
    found_in: tuple[str, ...]


@dataclass(frozen=True)
class Federated:
    answers: tuple[TabAnswer, ...]
    merged: tuple[Merged, ...]


class TabPages:
    def __init__(
        self,
        store: Store,
        query: PublicQuery,
        counter: CacheCounter,
        *,
        single_tab_pages: bool = True,
        timeout: float = DEFAULT_TAB_TIMEOUT_SECONDS,
        documents_in: Callable[[str, str], int] = lambda namespace, collection: 0,
    ) -> None:
        self.store = store
        self.query = query
        self.single_tab_pages = single_tab_pages
        self.timeout = timeout
        self.documents_in = documents_in
        self._pages: RefreshingCache[str, OpenPage] = RefreshingCache(
            self._load, CACHE_SECONDS, MAX_CACHED, cache_errors=(NotFound,), counter=counter
        )

    async def open(self, slug: str) -> OpenPage:
        """The active page of that slug, or 404."""
        return await self._pages.get(slug)

    def forget(self, slug: str | None = None) -> None:
        self._pages.clear(slug)

    async def retriever(self, tab: Tab) -> PublicRetriever:
        """The tab's published retriever (404 when it is not published or not active)."""
        if tab.public_name is None:
            raise NotFound(f"The search behind the tab {tab.label!r} is not published.")
        found = await self.query.catalog.lookup(tab.public_name)
        if found.record.retriever_id != tab.retriever_id:
            # The page was read while the name was its retriever's; since unpublished, the
            # name may be another retriever's now (another organization's, even).
            raise NotFound(f"The search behind the tab {tab.label!r} is not published.")
        return found

    async def federated(
        self,
        page: OpenPage,
        text: str,
        callers: Callable[[str], Caller],
        per_tab: int,
        surface: Surface = "page",
        given: Mapping[str, Any] | None = None,
        shared: Sequence[SharedInput] = (),
    ) -> Federated:
        """`text` searched in every tab at once (`callers` gives each retriever's caller, with
        its unlock cookie), with the values `given` for the `shared` inputs passed to the tabs
        that take them, and the lists merged by reciprocal rank."""
        tabs = page.tabs
        given = given or {}
        with overlapping():  # each tab's search on a thread, even a quick one over the engine
            answers = await asyncio.gather(
                *(
                    self._one(tab, text, callers, per_tab, surface, None, given, shared)
                    for tab in tabs
                )
            )
        return Federated(tuple(answers), tuple(fuse(answers)))

    async def shared_inputs(self, page: OpenPage) -> tuple[SharedInput, ...]:
        """The inputs the All tab shows besides its search box (`page_inputs`), over the tabs
        whose retrievers are published."""
        displays = []
        for tab in page.tabs:
            try:
                displays.append((tab.tab_id, tab.label, (await self.retriever(tab)).display))
            except AppError:
                continue
        return shared_inputs(displays)

    async def search_tab(
        self,
        tab: Tab,
        inputs: dict[str, Any],
        callers: Callable[[str], Caller],
        page_size: int,
        surface: Surface = "execute",
    ) -> TabAnswer:
        """One tab searched with its retriever's own `inputs` (validated against them)."""
        return await self._one(tab, "", callers, page_size, surface, inputs)

    async def _one(
        self,
        tab: Tab,
        text: str,
        callers: Callable[[str], Caller],
        per_tab: int,
        surface: Surface,
        inputs: dict[str, Any] | None = None,
        given: Mapping[str, Any] | None = None,
        shared: Sequence[SharedInput] = (),
    ) -> TabAnswer:
        retriever = None
        try:
            async with asyncio.timeout(self.timeout):
                retriever = await self.retriever(tab)
                caller = callers(retriever.public_name)
                await self.query.access.check(retriever, caller)
                asked = inputs
                if asked is None:
                    passed = inputs_for(shared, tab.tab_id, retriever.display, given or {})
                    if passed is None:  # a choice none of its own: nothing there matches
                        none = Results("", [], 1, per_tab, 0, False)
                        return TabAnswer(tab, none, retriever=retriever)
                    asked = {**text_inputs(retriever.display, text), **passed}
                request = SearchRequest(inputs=asked, page_size=per_tab)
                answer = await self.query.run(retriever, caller, request, surface=surface)
            return TabAnswer(tab, answer.results, retriever=retriever, inputs=tuple(asked))
        except AppError as error:
            return TabAnswer(tab, error=error, retriever=retriever)
        except TimeoutError:
            late = GatewayTimeout(f"{tab.label} did not answer within {self.timeout:g} s.")
            return TabAnswer(tab, error=late, retriever=retriever)

    async def featured(
        self, page: OpenPage, caller_of: Callable[[str], Caller]
    ) -> TabAnswer | None:
        """The gallery's documents, by id, as the tab's search shows them (exposed fields only;
        an id that is gone is left out). None when the page has no gallery."""
        gallery = page.featured_gallery
        if gallery is None or not gallery.enabled or not gallery.document_ids:
            return None
        tab = page.tab(gallery.tab_id)
        if tab is None:
            return None
        try:
            retriever = await self.retriever(tab)
            caller = caller_of(retriever.public_name)
            await self.query.access.check(retriever, caller)
            found = await asyncio.gather(
                *(self._document(retriever, caller, i) for i in gallery.document_ids)
            )
        except AppError as error:
            return TabAnswer(tab, error=error)
        documents = [d for d in found if d is not None]
        results = Results("", documents, 1, len(documents), len(documents), False)
        return TabAnswer(tab, results, retriever=retriever)

    async def _document(
        self, retriever: PublicRetriever, caller: Caller, document_id: str
    ) -> dict[str, Any] | None:
        try:
            found = await self.query.document(retriever, caller, document_id, counted=False)
        except NotFound:
            return None
        return found.document

    async def document_counts(self, page: OpenPage) -> dict[str, int]:
        """How many documents each tab over this server's own collections searches."""
        counts: dict[str, int] = {}
        for tab in page.tabs:
            try:
                retriever = await self.retriever(tab)
            except AppError:
                continue
            collection = getattr(retriever.backend, "collection", None)
            if retriever.backend.type == "local" and isinstance(collection, str):
                namespace = retriever.record.namespace
                counts[tab.tab_id] = await in_thread(self.documents_in, namespace, collection)
        return counts

    async def _load(self, slug: str) -> OpenPage:
        return await in_thread(self._read, slug)

    def _read(self, slug: str) -> OpenPage:
        with self.store.read() as tx:
            record = rows.by_slug(tx.conn, slug)
            if record is not None:
                if not record.is_active:
                    raise NotFound(f"No page is named {slug!r}.")
                ids = [tab["retriever_id"] for tab in record.config["tabs"]]
                names = rows.published_names(tx.conn, record.namespace, ids)
                return stored_page(slug, record.namespace, record.config, names)
            published = tx.get_published_by_name(slug) if self.single_tab_pages else None
        if published is None or not published.is_active:
            raise NotFound(f"No page is named {slug!r}.")
        display = DisplayConfig.model_validate_json(jsonutil.dumps(published.display_config))
        tab = Tab(SINGLE_TAB_ID, display.title, published.retriever_id, slug)
        meta = PageMeta(title=display.title, description=display.description)
        search = SectionConfig(section_id="search-tabs-1", type="search-tabs")
        return OpenPage(slug, published.namespace, meta, (tab,), (search,), single=True)


def stored_page(
    slug: str, namespace: str, config: Mapping[str, Any], names: Mapping[str, str]
) -> OpenPage:
    """A stored page's body as the public side reads it: tabs in `order` (then as listed),
    and the sections laid out (the default layout when none are given)."""
    listed = list(enumerate(config["tabs"]))
    listed.sort(key=lambda pair: (pair[1].get("order") is None, pair[1].get("order") or 0, pair[0]))
    tabs = tuple(
        Tab(
            t["tab_id"],
            t["label"],
            t["retriever_id"],
            names.get(t["retriever_id"]),
            t.get("description"),
        )
        for _, t in listed
    )
    hero = HeroConfig.model_validate(config["hero"]) if config.get("hero") else None
    stats = tuple(StatItem.model_validate(s) for s in config.get("stats") or [])
    gallery_config = config.get("featured_gallery")
    gallery = FeaturedGalleryConfig.model_validate(gallery_config) if gallery_config else None
    custom_html = config.get("custom_html") or None
    sections = [SectionConfig.model_validate(s) for s in config.get("sections") or []]
    if not sections:
        sections = default_layout(hero, stats, gallery, custom_html)
    return OpenPage(
        slug=slug,
        namespace=namespace,
        meta=PageMeta.model_validate(config["meta"]),
        tabs=tabs,
        sections=tuple(laid_out(sections)),
        hero=hero,
        stats=stats,
        featured_gallery=gallery,
        custom_html=custom_html,
        all_tab=AllTabConfig.model_validate(config.get("all_tab") or {}),
    )


def source_of(answer: TabAnswer) -> tuple[str, ...]:
    """What a document id is unique within: a collection of this server's (two tabs over one
    collection find the same documents), else the tab's own retriever."""
    retriever = answer.retriever
    if retriever is not None and retriever.backend.type == "local":
        return ("local", retriever.record.namespace, str(retriever.backend.collection))
    return ("tab", answer.tab.tab_id)


def fuse(answers: list[TabAnswer], k: int = RRF_K) -> list[Merged]:
    """Reciprocal rank fusion: a document's score is the sum, over the tabs that found it, of
    1 / (k + its rank there), ranks from 1. Ties keep the order of rank, then of the tabs."""
    scores: dict[tuple[Any, ...], float] = {}
    first: dict[tuple[Any, ...], tuple[Tab, dict[str, Any]]] = {}
    found: dict[tuple[Any, ...], list[str]] = {}
    lists = [(a, a.results.documents if a.results else []) for a in answers]
    for answer, docs in lists:  # in the page's order: who shows a document found twice
        for document in docs:
            key = (*source_of(answer), str(document.get("document_id")))
            first.setdefault(key, (answer.tab, document))
            found.setdefault(key, []).append(answer.tab.tab_id)
    deepest = max((len(docs) for _, docs in lists), default=0)
    for rank in range(1, deepest + 1):  # rank by rank, so that ties keep that order
        for answer, docs in lists:
            if rank <= len(docs):
                key = (*source_of(answer), str(docs[rank - 1].get("document_id")))
                scores[key] = scores.get(key, 0.0) + 1 / (k + rank)
    ordered = sorted(scores, key=lambda key: scores[key], reverse=True)  # stable
    return [
        Merged(first[key][0], first[key][1], round(scores[key], 8), tuple(found[key]))
        for key in ordered
    ]
