"""The services of one running app, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from app.clock import Clock, system_clock
from app.crypto import SecretBox
from app.owners import OwnerAuth
from app.publishing import Publishing
from app.settings import Settings
from app.store import Store
from app.vault import Vault


@dataclass(frozen=True)
class Context:
    settings: Settings
    clock: Clock
    store: Store
    owners: OwnerAuth
    vault: Vault
    publishing: Publishing


def build_context(settings: Settings, clock: Clock = system_clock) -> Context:
    store = Store(settings.effective_database_url)
    return Context(
        settings=settings,
        clock=clock,
        store=store,
        owners=OwnerAuth(store, settings.api_keys, clock),
        vault=Vault(store, SecretBox(settings.effective_secret_key), clock),
        publishing=Publishing(store, settings.public_url, clock),
    )


def context_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx
