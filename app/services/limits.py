"""Rate limits: fixed windows, counted in the `Counters` storage (memory or Redis).

The window arithmetic is ours, so that time comes from the injectable clock; the counting is
the storage's (app/adapters/counters.py): in memory, a request's windows in one pass that no
other request can interleave with; in Redis, through `limits`, so that a round trip never blocks
the event loop. A request counts in every window at once; if any window is over, all its counts
are given back, so a refused request uses up nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from app.adapters.clock import Clock
from app.errors import TooManyRequests
from app.kept import Kept, made
from app.schemas.publishing import RateLimitConfig, RateLimitTier

MINUTE, HOUR, DAY = 60, 3600, 86400
TIER_LIMITS: dict[RateLimitTier, tuple[int, int, int] | None] = {
    RateLimitTier.STANDARD: (10, 100, 1_000),
    RateLimitTier.ELEVATED: (30, 500, 5_000),
    RateLimitTier.ENTERPRISE: (100, 2_000, 20_000),
    RateLimitTier.UNLIMITED: None,
}
DEFAULT_IP_LIMIT_PER_HOUR = 100
IPV6_CLIENT_PREFIX = 64  # one subscriber's network: an ISP hands each customer a /64 at least


@lru_cache(maxsize=4096)  # a client counts in its windows at every search: parsed once
def address_key(ip: str) -> str:
    """What a per-address limit counts: an IPv4 address, or the IPv6 /64 it lies in, since
    anyone with one IPv6 address has the other 2^64 of that network too."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


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

    def refuse(self, message: str) -> TooManyRequests:
        return TooManyRequests(
            message, window=self.window.name, retry_after=self.reset, headers=self.headers()
        )


def windows_for(config: RateLimitConfig, retriever: str, client_ip: str) -> list[Window]:
    """Every window a query to `retriever` from `client_ip` counts in; none when disabled."""
    if not config.enabled:
        return []
    windows = list(_retriever_windows(config, retriever))
    if config.enable_ip_limits:
        limit = config.max_requests_per_ip_hour or DEFAULT_IP_LIMIT_PER_HOUR
        windows.append(Window("ip-hour", limit, HOUR, f"{retriever}:{address_key(client_ip)}"))
    return windows


# The windows a retriever's config settles for every caller, worked out once per loaded config
# (a config object is parsed once per version and kept, compared here by identity).
MAX_SETTLED = 1024
_SETTLED: Kept[tuple[int, str], tuple[Any, Any]] = Kept(MAX_SETTLED)


def _retriever_windows(config: RateLimitConfig, retriever: str) -> tuple[Window, ...]:
    return made(_SETTLED, (id(config), retriever), config, lambda: _settled(config, retriever))


def _settled(config: RateLimitConfig, retriever: str) -> tuple[Window, ...]:
    windows = []
    tier = TIER_LIMITS[config.tier]
    overrides = (config.requests_per_minute, config.requests_per_hour, config.requests_per_day)
    for name, seconds, index in (("minute", MINUTE, 0), ("hour", HOUR, 1), ("day", DAY, 2)):
        limit = overrides[index] or (tier[index] if tier else None)
        if limit is not None:
            windows.append(Window(name, limit, seconds, retriever))
    return tuple(windows)


class CountStorage(Protocol):
    """Where counts live: `Counters` (memory or Redis) or `StoreCounters` (the store)."""

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int: ...

    async def get(self, key: str) -> int: ...

    async def incr_many(self, entries: Sequence[tuple[str, int, int]]) -> list[int]:
        """`incr` of each (key, expiry, amount); the new counts, in order."""
        ...


class RateLimiter:
    def __init__(self, counters: CountStorage, clock: Clock, prefix: str = "rp") -> None:
        self.counters = counters
        self.clock = clock
        self.prefix = prefix

    def _key(self, window: Window, now: float) -> str:
        return _key(self.prefix, window, now)

    async def count(self, window: Window) -> int:
        """`window`'s count now, deciding nothing."""
        return await self.counters.get(self._key(window, self.clock().timestamp()))

    def refusal(self, window: Window) -> Decision:
        """The decision that refuses `window` until it starts over."""
        return Decision(False, window, 0, _reset(self.clock().timestamp(), window.seconds))

    async def give_back(self, window: Window) -> None:
        """Undo one count of `window` (a request that turned out not to count)."""
        await self.add(window, -1)

    async def add(self, window: Window, amount: int) -> int:
        """Add `amount` to `window`'s count, deciding nothing; the new count."""
        now = self.clock().timestamp()
        return await self.counters.incr(
            self._key(window, now), _reset(now, window.seconds) + 1, amount
        )

    async def hit(self, windows: Sequence[Window], cost: int = 1) -> Decision | None:
        """Count `cost` requests in every window; refuse (giving them back) if any is over.

        Returns None when there is no window to count in.
        """
        if not windows:
            return None
        now = self.clock().timestamp()
        prefix = self.prefix
        resets = []
        entries = []
        for window in windows:
            seconds = window.seconds
            reset = _reset(now, seconds)
            resets.append(reset)
            entries.append((_key(prefix, window, now), reset + 1, cost))
        counts = await self.counters.incr_many(entries)
        over = [i for i, window in enumerate(windows) if counts[i] > window.limit]
        if over:
            await self.counters.incr_many([(key, expiry, -cost) for key, expiry, _ in entries])
            # Retry when every refusing window has started over.
            i = max(over, key=lambda i: resets[i])
            return Decision(False, windows[i], 0, resets[i])
        # The tightest window: the fewest left, then the soonest to start over.
        best = 0
        for i in range(1, len(windows)):
            left, best_left = windows[i].limit - counts[i], windows[best].limit - counts[best]
            if left < best_left or (left == best_left and resets[i] < resets[best]):
                best = i
        return Decision(True, windows[best], windows[best].limit - counts[best], resets[best])


def _reset(now: float, seconds: int) -> int:
    """Whole seconds until the fixed window holding `now` ends (at least 1)."""
    return max(1, int(seconds - (now % seconds) + 0.999))


def _key(prefix: str, window: Window, now: float) -> str:
    """Where `window`'s count of the moment `now` is kept."""
    return f"{prefix}:{window.name}:{window.scope}:{int(now // window.seconds)}"
