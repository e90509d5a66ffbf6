"""Rate limits: fixed windows counted in a `limits` async storage (memory or Redis).

The window arithmetic is ours, so that time comes from the injectable clock; the counting is
`limits`', so that a Redis round trip never blocks the event loop. A request counts in every
window at once; if any window is over, all its counts are given back, so a refused request
uses up nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string

from app.clock import Clock
from app.errors import AppError
from app.schemas.publishing import RateLimitConfig, RateLimitTier

logger = logging.getLogger("retriever_pages")

MINUTE, HOUR, DAY = 60, 3600, 86400
TIER_LIMITS: dict[RateLimitTier, tuple[int, int, int] | None] = {
    RateLimitTier.STANDARD: (10, 100, 1_000),
    RateLimitTier.ELEVATED: (30, 500, 5_000),
    RateLimitTier.ENTERPRISE: (100, 2_000, 20_000),
    RateLimitTier.UNLIMITED: None,
}
DEFAULT_IP_LIMIT_PER_HOUR = 100
REDIS_TIMEOUT_SECONDS = 0.5
RETRY_STORAGE_AFTER_SECONDS = 5.0
OnFailure = Literal["fallback", "refuse"]


class TooManyRequests(AppError):
    status = 429
    type = "rate_limited"

    def __init__(self, message: str, decision: Decision) -> None:
        super().__init__(
            message,
            details={"window": decision.window.name, "retry_after": decision.reset},
            headers=decision.headers(),
        )
        self.decision = decision


class LimitsUnavailable(AppError):
    status = 503
    type = "rate_limits_unavailable"


@dataclass(frozen=True)
class Window:
    name: str
    limit: int
    seconds: int
    scope: str  # what is counted: a retriever, or a retriever and a client address


@dataclass(frozen=True)
class Decision:
    allowed: bool
    window: Window  # the tightest window, or the one that refused
    remaining: int
    reset: int  # seconds until that window starts over

    def headers(self) -> dict[str, str]:
        name = self.window.name
        headers = {
            "RateLimit-Policy": f'"{name}";q={self.window.limit};w={self.window.seconds}',
            "RateLimit": f'"{name}";r={self.remaining};t={self.reset}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


def windows_for(config: RateLimitConfig, retriever: str, client_ip: str) -> list[Window]:
    """Every window a query to `retriever` from `client_ip` counts in; none when disabled."""
    if not config.enabled:
        return []
    windows = []
    tier = TIER_LIMITS[config.tier]
    overrides = (config.requests_per_minute, config.requests_per_hour, config.requests_per_day)
    for name, seconds, index in (("minute", MINUTE, 0), ("hour", HOUR, 1), ("day", DAY, 2)):
        limit = overrides[index] or (tier[index] if tier else None)
        if limit is not None:
            windows.append(Window(name, limit, seconds, retriever))
    if config.enable_ip_limits:
        limit = config.max_requests_per_ip_hour or DEFAULT_IP_LIMIT_PER_HOUR
        windows.append(Window("ip-hour", limit, HOUR, f"{retriever}:{client_ip}"))
    return windows


class Counters:
    """The counting storage, with the configured behaviour when it fails.

    "fallback" counts in this process's memory while the storage is down (and tries it again
    every few seconds); "refuse" answers 503 instead.
    """

    def __init__(self, uri: str, on_failure: OnFailure, clock: Clock) -> None:
        self.uri = uri
        self.on_failure = on_failure
        self.clock = clock
        self.shared = uri.startswith(("redis://", "rediss://"))
        self._memory = MemoryStorage()
        self._storage: Storage = _redis_storage(uri) if self.shared else self._memory
        self._down_since: float | None = None

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        storage = self._storage
        if self._down_since is not None:
            if self._now() - self._down_since < RETRY_STORAGE_AFTER_SECONDS:
                return await self._failed(key, expiry, amount)
            self._down_since = None
        try:
            return await storage.incr(key, expiry, amount)
        except Exception:
            if storage is self._memory:
                raise
            logger.warning("rate-limit storage is not answering; on_failure=%s", self.on_failure)
            self._down_since = self._now()
            return await self._failed(key, expiry, amount)

    async def _failed(self, key: str, expiry: int, amount: int) -> int:
        if self.on_failure == "refuse":
            raise LimitsUnavailable("Rate limits cannot be checked right now; try again shortly.")
        return await self._memory.incr(key, expiry, amount)

    async def check(self) -> bool:
        """Whether the storage answers (always, for memory)."""
        if not self.shared:
            return True
        try:
            ok = bool(await self._storage.check())
        except Exception:
            ok = False
        self._down_since = None if ok else (self._down_since or self._now())
        return ok

    def _now(self) -> float:
        return self.clock().timestamp()


class RateLimiter:
    def __init__(self, counters: Counters, clock: Clock, prefix: str = "rp") -> None:
        self.counters = counters
        self.clock = clock
        self.prefix = prefix

    def _key(self, window: Window, now: float) -> str:
        return f"{self.prefix}:{window.name}:{window.scope}:{int(now // window.seconds)}"

    async def peek(self, window: Window) -> int:
        """The window's count now, without counting."""
        now = self.clock().timestamp()
        return await self.counters.incr(self._key(window, now), _reset(now, window.seconds) + 1, 0)

    def refusal(self, window: Window) -> Decision:
        now = self.clock().timestamp()
        return Decision(False, window, 0, _reset(now, window.seconds))

    async def hit(self, windows: Sequence[Window]) -> Decision | None:
        """Count one request in every window; refuse (giving the counts back) if any is over.

        Returns None when there is no window to count in.
        """
        if not windows:
            return None
        now = self.clock().timestamp()
        keys = []
        counts = []
        for window in windows:
            key = self._key(window, now)
            reset = _reset(now, window.seconds)
            keys.append((key, reset + 1))
            counts.append(await self.counters.incr(key, reset + 1))
        over = [(w, c) for w, c in zip(windows, counts, strict=True) if c > w.limit]
        if over:
            for key, expiry in keys:
                await self.counters.incr(key, expiry, -1)
            # Retry when every refusing window has started over.
            window = max((w for w, _ in over), key=lambda w: _reset(now, w.seconds))
            return Decision(False, window, 0, _reset(now, window.seconds))
        remaining = [
            (w.limit - c, _reset(now, w.seconds), w) for w, c in zip(windows, counts, strict=True)
        ]
        left, reset, window = min(remaining, key=lambda item: (item[0], item[1]))
        return Decision(True, window, left, reset)


def _reset(now: float, seconds: int) -> int:
    """Whole seconds until the fixed window holding `now` ends (at least 1)."""
    return max(1, int(seconds - (now % seconds) + 0.999))


def _redis_storage(uri: str) -> Storage:
    storage = storage_from_string(
        "async+" + uri,
        implementation="redispy",
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    assert isinstance(storage, Storage)
    return storage
