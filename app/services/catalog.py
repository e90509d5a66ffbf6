"""The published retrievers as the public side reads them: parsed once, cached briefly.

A change in this process clears the cache at once (publishing, and a change of the
retriever's relevance rules, tell it); other processes' changes reach it within twice
`CACHE_SECONDS` (`app/adapters/cache.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from markupsafe import Markup

from app import jsonutil
from app.adapters.backends import Backends
from app.adapters.cache import RefreshingCache
from app.adapters.store import PublishedRecord, Store
from app.adapters.threads import in_thread
from app.errors import NotFound
from app.metrics import CacheCounter
from app.rendering.plugins import PluginFrame
from app.rendering.theme import page_css
from app.schemas.display import DisplayConfig
from app.schemas.publishing import RateLimitConfig
from app.services import relevance
from app.services.plugins import plugin_frames
from app.services.relevance import LOCAL, Rules

CACHE_SECONDS = 0.9
MAX_CACHED = 10_000


@dataclass(frozen=True)
class PublicRetriever:
    """A published retriever as the public side needs it, parsed once per lookup."""

    record: PublishedRecord
    backend: Any  # the backend config, parsed by its kind's model
    display: DisplayConfig
    rate_limit: RateLimitConfig
    frames: dict[str, PluginFrame]  # the fields drawn by a plugin, and their frames
    rules: Rules | None = None  # its relevance rules (a local backend's only)

    @property
    def public_name(self) -> str:
        return self.record.public_name

    @property
    def password_protected(self) -> bool:
        return self.record.password_secret_name is not None

    @cached_property
    def theme_css(self) -> Markup:
        """The page's CSS for this config, built once per loaded config, not per page."""
        return page_css(self.display)


class Catalog:
    def __init__(self, store: Store, backends: Backends, counter: CacheCounter) -> None:
        self.store = store
        self.backends = backends
        self._retrievers: RefreshingCache[str, PublicRetriever] = RefreshingCache(
            self._load, CACHE_SECONDS, MAX_CACHED, cache_errors=(NotFound,), counter=counter
        )

    async def lookup(self, public_name: str) -> PublicRetriever:
        """The active published retriever of that name, or 404."""
        return await self._retrievers.get(public_name)

    def forget(self, public_name: str | None = None) -> None:
        """Drop a cached retriever after an owner's change (every one, when no name)."""
        self._retrievers.clear(public_name)

    async def _load(self, public_name: str) -> PublicRetriever:
        return await in_thread(self._read, public_name)

    def _read(self, public_name: str) -> PublicRetriever:
        with self.store.read() as tx:
            record = tx.get_published_by_name(public_name)
            retriever = tx.get_retriever(record.namespace, record.retriever_id) if record else None
            if record is None or retriever is None or not record.is_active:
                raise NotFound(f"No published retriever is named {public_name!r}.")
            display = DisplayConfig.model_validate_json(jsonutil.dumps(record.display_config))
            frames = plugin_frames(tx.conn, record.namespace, display)
            rules = None
            if retriever.backend.get("type") == LOCAL:
                rules = relevance.load(tx, record.namespace, record.retriever_id)
        return PublicRetriever(
            record=record,
            backend=self.backends.parse(retriever.backend),
            display=display,
            rate_limit=RateLimitConfig.model_validate_json(
                jsonutil.dumps(record.rate_limit_config)
            ),
            frames=frames,
            rules=rules,
        )
