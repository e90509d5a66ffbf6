"""The services of one running app, built once from the settings, top to bottom:
store → vault (owning its cache of values) → backends (a registry) → the use cases.
No object is changed after it is built.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.adapters.backends import Backends
from app.adapters.backends.local import LocalBackend
from app.adapters.backends.mixpeek import MixpeekBackend, UpstreamClient
from app.adapters.backends.typesense import TypesenseBackend
from app.adapters.clock import Clock, system_clock
from app.adapters.counters import Counters, StoreCounters
from app.adapters.destinations import DestinationPolicy
from app.adapters.embedders.builtin import builtin_embedders
from app.adapters.engine import SearchEngine, TypesenseEngine, open_engine
from app.adapters.store import Store
from app.crypto import SecretBox
from app.metrics import Metrics
from app.rendering.formats import builtin_renderers
from app.rendering.registry import Renderers
from app.schemas.retrievers import (
    LocalBackendConfig,
    MixpeekBackendConfig,
    TypesenseBackendConfig,
)
from app.services.access import Access
from app.services.analytics import Analytics
from app.services.answers import AnswerCache
from app.services.backend_checks import checked_at_publish
from app.services.browse import Browse
from app.services.catalog import Catalog
from app.services.collections import Collections
from app.services.console import ConsoleSessions
from app.services.console_access import ConsoleAccess
from app.services.console_collections import ConsoleCollections
from app.services.console_editor import ConsoleEditor
from app.services.console_plugins import ConsolePlugins
from app.services.console_retrievers import ConsoleRetrievers
from app.services.cookies import UnlockCookies
from app.services.directory import Directory
from app.services.embedding import Embedding
from app.services.interactions import Interactions
from app.services.keys import OwnerKeys
from app.services.limits import RateLimiter
from app.services.listings import Listings
from app.services.marketplace import Marketplace
from app.services.pages import Pages
from app.services.plugins import Plugins
from app.services.publish_state import PublishState
from app.services.publishing import Publishing
from app.services.query import PublicQuery
from app.services.readiness import Readiness
from app.services.relevance import RelevanceRulesService
from app.services.reports import Reports
from app.services.retrievers import Retrievers
from app.services.searchlog import SearchLog
from app.services.tab_pages import TabPages
from app.services.throttle import PasswordThrottle
from app.services.typeahead import Typeahead
from app.services.vault import Vault
from app.services.versions import PageVersions
from app.settings import Settings


@dataclass(frozen=True)
class Console:
    """The publisher's console: its sessions, and its views of collections and retrievers."""

    sessions: ConsoleSessions
    collections: ConsoleCollections
    retrievers: ConsoleRetrievers
    editor: ConsoleEditor
    access: ConsoleAccess
    plugins: ConsolePlugins


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    metrics: Metrics
    store: Store
    engine: SearchEngine
    upstream: UpstreamClient
    vault: Vault
    backends: Backends
    renderers: Renderers
    keys: OwnerKeys
    retrievers: Retrievers
    relevance: RelevanceRulesService
    publishing: Publishing
    versions: PageVersions
    pages: Pages
    tab_pages: TabPages
    publish_state: PublishState
    plugins: Plugins
    marketplace: Marketplace
    collections: Collections
    embedding: Embedding
    typeahead: Typeahead
    catalog: Catalog
    access: Access
    query: PublicQuery
    browse: Browse
    interactions: Interactions
    analytics: Analytics
    reports: Reports
    directory: Directory
    listings: Listings
    readiness: Readiness
    console: Console

    async def aclose(self) -> None:
        await self.query.log.aclose()
        await self.embedding.aclose()
        await self.upstream.aclose()
        self.engine.close()
        self.store.close()


def _password_throttle(store: Store, counters: Counters, clock: Clock) -> PasswordThrottle:
    """Wrong passwords count where the rate limits do, except that under Redis with `fallback`
    they never fall back to process memory: the store keeps them (see `PasswordThrottle`)."""
    if not counters.shared or counters.on_failure != "fallback":
        return PasswordThrottle(RateLimiter(counters, clock))
    redis_only = Counters(counters.uri, "refuse", clock)
    return PasswordThrottle(
        RateLimiter(redis_only, clock), RateLimiter(StoreCounters(store, clock), clock)
    )


def build_services(settings: Settings, clock: Clock = system_clock) -> Services:
    metrics = Metrics()
    store = Store(settings.effective_database_url, settings.store_timeout_seconds)
    vault = Vault(
        store, SecretBox(settings.effective_secret_key), clock, metrics.cache_counter("secrets")
    )

    engine = open_engine(settings.data_dir, store, settings.typesense)
    destinations = DestinationPolicy.parse(settings.upstream_allow)
    upstream = UpstreamClient(settings.upstream_timeout_seconds, destinations)
    backends = Backends()
    embedders = builtin_embedders(upstream, vault)
    backends.register("local", LocalBackendConfig, LocalBackend(engine, embedders))
    backends.register("mixpeek", MixpeekBackendConfig, MixpeekBackend(upstream, vault, metrics))
    typesense = TypesenseBackend(upstream, vault, metrics)
    backends.register("typesense", TypesenseBackendConfig, typesense)

    renderers = builtin_renderers()
    counters = Counters(settings.rate_limit_storage, settings.rate_limit_on_failure, clock)
    limiter = RateLimiter(counters, clock)
    catalog = Catalog(store, backends, metrics.cache_counter("configs"))
    cookies = UnlockCookies(
        settings.effective_secret_key, clock, settings.unlock_cookie_max_age_seconds
    )
    throttle = _password_throttle(store, counters, clock)
    access = Access(vault, cookies, throttle, metrics)
    query = PublicQuery(
        catalog,
        access,
        limiter,
        backends,
        AnswerCache(settings.query_cache_max_bytes, metrics.cache_counter("queries")),
        metrics,
        SearchLog(
            store,
            clock,
            metrics,
            settings.search_log_retention_days,
            settings.effective_secret_key,
            settings.search_log_buffer,
        ),
    )
    keys = OwnerKeys(store, settings.api_keys, clock)
    retrievers = Retrievers(
        store, clock, renderers, destinations, catalog.forget, engine.text_fields, engine.lacks
    )

    def published_changed(public_name: str | None) -> None:
        catalog.forget(public_name)
        tab_pages.forget(public_name)  # its single-tab page, or the stored page at that slug

    publishing = Publishing(
        store,
        settings.public_url,
        clock,
        renderers,
        published_changed,
        settings.max_published_per_namespace,
        engine.count,
        engine.text_fields,
        engine.embedding,
        engine.lacks,
        checked_at_publish(backends),
    )
    console_collections = ConsoleCollections(engine)
    tab_pages = TabPages(
        store,
        query,
        metrics.cache_counter("pages"),
        single_tab_pages=settings.single_tab_pages,
        documents_in=engine.count,
    )
    return Services(
        settings=settings,
        clock=clock,
        metrics=metrics,
        store=store,
        engine=engine,
        upstream=upstream,
        vault=vault,
        backends=backends,
        renderers=renderers,
        keys=keys,
        retrievers=retrievers,
        relevance=RelevanceRulesService(store, clock, catalog.forget),
        publishing=publishing,
        versions=PageVersions(store, publishing),
        pages=Pages(store, settings.public_url, clock, tab_pages.forget),
        tab_pages=tab_pages,
        publish_state=PublishState(store, settings.max_published_per_namespace),
        plugins=Plugins(store, clock, catalog.forget),
        marketplace=Marketplace(store, clock),
        collections=Collections(engine, store),
        embedding=Embedding(engine, embedders, destinations),
        typeahead=Typeahead(engine, store, settings.suggest_after_sessions),
        catalog=catalog,
        access=access,
        query=query,
        browse=Browse(query),
        interactions=Interactions(store, limiter, clock),
        analytics=Analytics(store, clock),
        reports=Reports(store, clock),
        directory=Directory(store, settings.public_url),
        listings=Listings(store, settings.public_url),
        readiness=Readiness(
            store,
            counters,
            engine.nodes_state if isinstance(engine, TypesenseEngine) else None,
        ),
        console=Console(
            sessions=ConsoleSessions(
                keys,
                throttle,
                store,
                settings.effective_secret_key,
                clock,
                settings.console_session_max_age_seconds,
            ),
            collections=console_collections,
            retrievers=ConsoleRetrievers(store, retrievers),
            editor=ConsoleEditor(store, renderers, backends, clock, console_collections),
            access=ConsoleAccess(store, publishing, vault, clock),
            plugins=ConsolePlugins(store),
        ),
    )
