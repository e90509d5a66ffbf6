"""The public side: a published retriever's config, its queries, its password, its clicks.

A query's way through: look up the published retriever (404 when unknown or inactive) →
check the public key and password → validate the inputs → ask the backend for one page →
keep only the exposed fields.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from starlette.concurrency import run_in_threadpool

from app import crypto, jsonutil
from app.backends import Backend, Query
from app.cache import RefreshingCache
from app.clock import Clock, stamp
from app.errors import BadGateway, Forbidden, NotFound, Unauthorized
from app.exposure import expose
from app.inputs import validate_inputs
from app.metrics import Metrics
from app.passwords import FailedAttempts, UnlockCookies
from app.ratelimit import Decision, RateLimiter, TooManyRequests, Window, windows_for
from app.rendering.theme import page_css
from app.schemas.display import DisplayConfig
from app.schemas.public import (
    ExecuteRequest,
    InteractionRequest,
    InteractionResponse,
    ListPublicRetrieversResponse,
    PublicRetrieverListItem,
    PublicRetrieverListStats,
)
from app.schemas.publishing import RateLimitConfig
from app.store import PublishedRecord, Store
from app.vault import Vault

DEFAULT_PAGE_SIZE = 10
EXECUTION_ID_PREFIX = "exe_"
INTERACTION_ID_PREFIX = "int_"
MAX_INTERACTION_DETAILS_BYTES = 8 * 1024
INTERACTIONS_PER_IP_HOUR = 2000
# How long another process's change may take to show; this process's own changes show at once.
CACHE_SECONDS = 0.9
MAX_CACHED = 10_000
MAX_CACHED_ANSWERS = 2_000


@dataclass(frozen=True)
class Caller:
    """Who is asking, as far as access is concerned."""

    ip: str
    api_key: str | None = None
    password: str | None = None
    cookie: str | None = None


@dataclass(frozen=True)
class PublicRetriever:
    """A published retriever as the public side needs it, parsed once per lookup."""

    record: PublishedRecord
    backend: dict[str, Any]
    display: DisplayConfig
    rate_limit: RateLimitConfig

    @property
    def password_protected(self) -> bool:
        return self.record.password_secret_name is not None

    @cached_property
    def theme_css(self) -> str:
        """The page's CSS for this config, built once per loaded config, not per page."""
        return page_css(self.display)


class Searching:
    def __init__(
        self,
        store: Store,
        vault: Vault,
        backends: Mapping[str, Backend],
        public_url: str,
        clock: Clock,
        limiter: RateLimiter,
        cookies: UnlockCookies,
        metrics: Metrics,
    ) -> None:
        self.metrics = metrics
        self.store = store
        self.vault = vault
        self.limiter = limiter
        self.cookies = cookies
        self.attempts = FailedAttempts(limiter)
        self._retrievers: RefreshingCache[str, PublicRetriever] = RefreshingCache(
            self._load_retriever,
            CACHE_SECONDS,
            MAX_CACHED,
            cache_errors=(NotFound,),
            counter=metrics.cache_counter("configs"),
        )
        # Identical public queries, for retrievers whose publisher turned the cache on.
        self._answers: dict[tuple[str, int, bytes, int, int], tuple[float, dict[str, Any]]] = {}
        self._secrets: RefreshingCache[tuple[str, str], str | None] = RefreshingCache(
            self._load_secret, CACHE_SECONDS, MAX_CACHED, counter=metrics.cache_counter("secrets")
        )
        self._count_answer = metrics.cache_counter("queries")
        self.backends = backends
        self.public_url = public_url
        self.clock = clock

    # Lookup and access --------------------------------------------------------------------

    async def lookup(self, public_name: str) -> PublicRetriever:
        """The published retriever, from a cache that a change in this process clears at once
        and that other processes' changes reach within CACHE_SECONDS."""
        return await self._retrievers.get(public_name)

    def forget(self, public_name: str | None = None) -> None:
        """Drop cached configs and secrets after an owner's change (all, when no name)."""
        self._retrievers.clear(public_name)
        self._secrets.clear()

    async def _load_retriever(self, public_name: str) -> PublicRetriever:
        return await run_in_threadpool(self._lookup, public_name)

    def _lookup(self, public_name: str) -> PublicRetriever:
        with self.store.read() as tx:
            record = tx.get_published_by_name(public_name)
            retriever = tx.get_retriever(record.namespace, record.retriever_id) if record else None
        if record is None or retriever is None or not record.is_active:
            raise _not_found(public_name)
        return PublicRetriever(
            record=record,
            backend=retriever.backend,
            display=DisplayConfig.model_validate_json(jsonutil.dumps(record.display_config)),
            rate_limit=RateLimitConfig.model_validate_json(
                jsonutil.dumps(record.rate_limit_config)
            ),
        )

    async def check_access(self, retriever: PublicRetriever, caller: Caller) -> None:
        """The public key (when sent) and the password (when set), before anything runs."""
        record = retriever.record
        if caller.api_key is not None and not crypto.same(caller.api_key, record.public_api_key):
            raise Forbidden("X-Public-API-Key is not this retriever's key.")
        if not retriever.password_protected:
            return
        secret = await self._password(retriever)
        if caller.cookie and secret and self.cookies.valid(caller.cookie, record.public_id, secret):
            return
        if not caller.password:
            raise Unauthorized(
                "This retriever is password-protected; send the password in X-Retriever-Password."
            )
        if not await self.try_password(retriever, caller, caller.password, secret):
            raise Forbidden("The password is not right.")

    async def try_password(
        self,
        retriever: PublicRetriever,
        caller: Caller,
        password: str,
        secret: str | None = None,
    ) -> bool:
        """Check a guess, refusing with 429 once this address has guessed wrong too often."""
        public_id = retriever.record.public_id
        blocked = await self.attempts.blocked(public_id, caller.ip)
        if blocked is not None:
            raise TooManyRequests(
                f"Too many wrong passwords from this address; try again in {blocked.reset} s.",
                blocked,
            )
        if secret is None:
            secret = await self._password(retriever)
        # Compared in constant time; a missing secret matches nothing.
        if secret is not None and crypto.same(password, secret):
            return True
        await self.attempts.record_failure(public_id, caller.ip)
        self.metrics.password_failures.inc()
        return False

    async def unlock_cookie(self, retriever: PublicRetriever) -> str | None:
        """A fresh unlock cookie's value for a retriever whose password was just given."""
        secret = await self._password(retriever)
        return None if secret is None else self.cookies.issue(retriever.record.public_id, secret)

    async def _password(self, retriever: PublicRetriever) -> str | None:
        name = retriever.record.password_secret_name
        if name is None:
            return None
        return await self._secret(retriever.record.namespace, name)

    async def _secret(self, namespace: str, name: str) -> str | None:
        """A secret's value, cached like configs (and cleared with them)."""
        return await self._secrets.get((namespace, name))

    async def _load_secret(self, key: tuple[str, str]) -> str | None:
        return await run_in_threadpool(self._reveal, *key)

    async def admit(self, retriever: PublicRetriever, caller: Caller) -> Decision | None:
        """Count a query in the retriever's windows, or refuse it with 429."""
        windows = windows_for(retriever.rate_limit, retriever.record.retriever_id, caller.ip)
        decision = await self.limiter.hit(windows)
        if decision is not None and not decision.allowed:
            self.metrics.rate_limited.labels(decision.window.name).inc()
            raise TooManyRequests(
                f"Too many searches ({decision.window.limit} per {decision.window.name}); "
                f"try again in {decision.reset} s.",
                decision,
            )
        return decision

    async def admit_interaction(self, retriever: PublicRetriever, caller: Caller) -> None:
        window = Window(
            "interactions",
            INTERACTIONS_PER_IP_HOUR,
            3600,
            f"{retriever.record.retriever_id}:{caller.ip}",
        )
        decision = await self.limiter.hit([window])
        if decision is not None and not decision.allowed:
            raise TooManyRequests("Too many interactions from this address.", decision)

    def _reveal(self, namespace: str, name: str) -> str | None:
        with self.store.read() as tx:
            return self.vault.reveal(tx, namespace, name)

    async def upstream_key(self, namespace: str, secret_name: str) -> str:
        key = await self._secret(namespace, secret_name)
        if key is None:
            raise BadGateway("The search backend is not configured: its key secret is missing.")
        return key

    # The public calls ---------------------------------------------------------------------

    def config(self, retriever: PublicRetriever) -> dict[str, Any]:
        """`PublicRetrieverConfigResponse`: what a page needs to render; never a secret."""
        return {
            "public_name": retriever.record.public_name,
            "display_config": retriever.record.display_config,
            "password_protected": retriever.password_protected,
            "retriever_metadata": retriever.record.retriever_metadata,
        }

    async def unlocked(self, retriever: PublicRetriever, caller: Caller) -> bool:
        """Whether the caller's cookie opens this retriever (pages use the cookie only)."""
        if not retriever.password_protected:
            return True
        secret = await self._password(retriever)
        return bool(
            caller.cookie
            and secret
            and self.cookies.valid(caller.cookie, retriever.record.public_id, secret)
        )

    async def execute(self, retriever: PublicRetriever, request: ExecuteRequest) -> dict[str, Any]:
        inputs = validate_inputs(retriever.display.inputs, request.inputs)
        page_number, page_size = _page(request, retriever.rate_limit.max_results_per_query)
        return await self.search(retriever, inputs, page_number, page_size)

    async def search(
        self, retriever: PublicRetriever, inputs: dict[str, Any], page_number: int, page_size: int
    ) -> dict[str, Any]:
        """One page of results for inputs already validated; only exposed fields in it."""
        page_size = min(page_size, retriever.rate_limit.max_results_per_query)
        ttl = (retriever.display.extensions or {}).get("query_cache_seconds")
        if not ttl:
            return await self._search(retriever, inputs, page_number, page_size)
        key = (
            retriever.record.retriever_id,
            retriever.record.version,
            jsonutil.dumps(inputs),
            page_number,
            page_size,
        )
        now = time.monotonic()
        cached = self._answers.get(key)
        self._count_answer(cached is not None and cached[0] > now)
        if cached is None or cached[0] <= now:
            answer = await self._search(retriever, inputs, page_number, page_size)
            if len(self._answers) >= MAX_CACHED_ANSWERS:
                self._answers.clear()
            self._answers[key] = (now + ttl, answer)
            return answer
        # Each answer is its own execution, even when its documents come from memory.
        return {**cached[1], "execution_id": crypto.new_id(EXECUTION_ID_PREFIX)}

    async def _search(
        self, retriever: PublicRetriever, inputs: dict[str, Any], page_number: int, page_size: int
    ) -> dict[str, Any]:
        backend = self.backends[retriever.backend["type"]]
        page = await backend.execute(
            Query(
                namespace=retriever.record.namespace,
                backend=retriever.backend,
                inputs=inputs,
                page_number=page_number,
                page_size=page_size,
            )
        )
        exposed = retriever.display.exposed_fields
        documents = [expose(doc, exposed) for doc in page.documents[:page_size]]
        total = page.total
        offset = (page_number - 1) * page_size
        has_next = (
            offset + len(documents) < total if total is not None else len(documents) == page_size
        )
        return {
            "execution_id": crypto.new_id(EXECUTION_ID_PREFIX),
            "status": "completed",
            "documents": documents,
            "results": documents,
            "pagination": {
                "method": "offset",
                "page_number": page_number,
                "page_size": page_size,
                "returned": len(documents),
                "total": total if total is not None else offset + len(documents),
                "has_next": has_next,
            },
        }

    async def record_interaction(
        self, retriever: PublicRetriever, request: InteractionRequest, session_id: str | None
    ) -> InteractionResponse:
        details = {
            key: value
            for key, value in (
                ("query_snapshot", request.query_snapshot),
                ("document_score", request.document_score),
                ("result_set_size", request.result_set_size),
                ("metadata", request.metadata),
            )
            if value is not None
        }
        if len(jsonutil.dumps(details)) > MAX_INTERACTION_DETAILS_BYTES:
            details = {"truncated": True}
        interaction_id = crypto.new_id(INTERACTION_ID_PREFIX)
        row = {
            "interaction_id": interaction_id,
            "retriever_id": retriever.record.retriever_id,
            "namespace": retriever.record.namespace,
            "document_id": request.document_id,
            "interaction_types": list(request.interaction_type),
            "position": request.position,
            "execution_id": request.execution_id,
            "session_id": request.session_id or session_id,
            "details": details or None,
            "created_at": stamp(self.clock()),
        }
        await run_in_threadpool(self._insert_interaction, row)
        return InteractionResponse(interaction_id=interaction_id)

    def _insert_interaction(self, row: dict[str, Any]) -> None:
        with self.store.write() as tx:
            tx.insert_interaction(row)

    async def directory(
        self, page: int, page_size: int, search: str | None
    ) -> ListPublicRetrieversResponse:
        records = await run_in_threadpool(self._active)
        items = [self._list_item(record) for record in records]
        if search:
            needle = search.lower()
            items = [
                item
                for item in items
                if needle in f"{item.public_name} {item.title} {item.description or ''}".lower()
            ]
        protected = sum(1 for item in items if item.password_protected)
        start = (page - 1) * page_size
        return ListPublicRetrieversResponse(
            results=items[start : start + page_size],
            total_count=len(items),
            page=page,
            page_size=page_size,
            total_pages=math.ceil(len(items) / page_size),
            stats=PublicRetrieverListStats(
                total_active=len(items),
                total_password_protected=protected,
                total_open=len(items) - protected,
            ),
        )

    def _active(self) -> list[PublishedRecord]:
        with self.store.read() as tx:
            return tx.list_active_published()

    def _list_item(self, record: PublishedRecord) -> PublicRetrieverListItem:
        config = record.display_config
        seo = config.get("seo") or {}
        return PublicRetrieverListItem(
            public_name=record.public_name,
            public_url=f"{self.public_url}/r/{record.public_name}",
            title=config["title"],
            description=config.get("description") or record.description,
            logo_url=config.get("logo_url"),
            icon_base64=config.get("icon_base64") or record.icon_base64,
            og_image_url=seo.get("og_image_url"),
            password_protected=record.password_secret_name is not None,
            is_active=record.is_active,
            external_links=config.get("external_links"),
            created_at=datetime.fromisoformat(record.created_at),
            updated_at=datetime.fromisoformat(record.updated_at),
        )


def _not_found(public_name: str) -> NotFound:
    return NotFound(f"No published retriever is named {public_name!r}.")


def _page(request: ExecuteRequest, max_results: int) -> tuple[int, int]:
    """(page number, page size); the size never exceeds the retriever's max_results_per_query."""
    if request.pagination is not None:
        number, size = request.pagination.page_number, request.pagination.page_size
        if "page_size" not in request.pagination.model_fields_set:
            size = request.limit or request.page_size or DEFAULT_PAGE_SIZE
    else:
        number, size = 1, request.limit or request.page_size or DEFAULT_PAGE_SIZE
    return number, min(size, max_results)
