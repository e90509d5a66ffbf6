"""The services of one running app, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from app.backends.local import LocalBackend
from app.backends.mixpeek import MixpeekBackend, UpstreamClient
from app.clock import Clock, system_clock
from app.crypto import SecretBox
from app.engine import ENGINE_FILE, Engine
from app.metrics import Metrics
from app.owners import OwnerAuth
from app.passwords import UnlockCookies
from app.publishing import Publishing
from app.ratelimit import Counters, RateLimiter
from app.searching import Searching
from app.settings import Settings
from app.store import Store
from app.vault import Vault


@dataclass(frozen=True)
class Context:
    settings: Settings
    clock: Clock
    store: Store
    engine: Engine
    upstream: UpstreamClient
    owners: OwnerAuth
    vault: Vault
    publishing: Publishing
    searching: Searching
    counters: Counters
    metrics: Metrics

    async def aclose(self) -> None:
        await self.upstream.aclose()
        self.engine.close()
        self.store.close()


def build_context(settings: Settings, clock: Clock = system_clock) -> Context:
    store = Store(settings.effective_database_url)
    engine = Engine(settings.data_dir / ENGINE_FILE)
    upstream = UpstreamClient(settings.upstream_timeout_seconds)
    vault = Vault(store, SecretBox(settings.effective_secret_key), clock)
    counters = Counters(settings.rate_limit_storage, settings.rate_limit_on_failure, clock)
    limiter = RateLimiter(counters, clock)
    cookies = UnlockCookies(
        settings.effective_secret_key, clock, settings.unlock_cookie_max_age_seconds
    )
    metrics = Metrics()
    searching = Searching(store, vault, {}, settings.public_url, clock, limiter, cookies, metrics)
    vault.changed = searching.forget
    # The backends need the searching service's secret lookup, so they are added after it.
    searching.backends = {
        "local": LocalBackend(engine),
        "mixpeek": MixpeekBackend(upstream, searching.upstream_key, metrics),
    }
    return Context(
        settings=settings,
        clock=clock,
        store=store,
        engine=engine,
        upstream=upstream,
        owners=OwnerAuth(store, settings.api_keys, clock),
        vault=vault,
        publishing=Publishing(store, settings.public_url, clock, searching.forget),
        searching=searching,
        counters=counters,
        metrics=metrics,
    )


def context_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx
