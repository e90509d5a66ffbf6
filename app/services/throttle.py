"""The throttle on wrong passwords, and where it counts them.

Ordinary rate limits, with Redis as their storage and `fallback` on failure, count in each
process's memory while Redis is down. Wrong passwords must not: an address already throttled
would get a fresh allowance in each worker, at every outage. Nor are password checks refused
while Redis is down: a blip would then lock new visitors out of every password page and fail
every API call that sends X-Retriever-Password, which is the outage `fallback` is chosen to
avoid. So the throttle counts in Redis while it answers, and writes each wrong guess to the
store as well (the database that every worker shares); while Redis is down, it counts every
guess in the store. The store sees one write per wrong guess, which the throttle itself keeps
few, and, only during an outage, two per right one (its count, then its give-back).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass

from app.errors import LimitsUnavailable, StoreUnavailable
from app.services.limits import RateLimiter, Window

logger = logging.getLogger("retriever_pages")


@dataclass(frozen=True)
class Guess:
    """A guess let through to be checked: where it was counted, and the count with it."""

    window: Window
    counted_in: RateLimiter
    count: int


class PasswordThrottle:
    def __init__(self, limiter: RateLimiter, store: RateLimiter | None = None) -> None:
        """`limiter` counts every guess. `store`, when given, keeps the wrong ones too and
        counts every guess while `limiter` raises `LimitsUnavailable` (so `limiter`'s storage
        must refuse, never fall back to memory)."""
        self.limiter = limiter
        self.store = store

    async def admit(self, window: Window) -> Guess:
        """Count a guess before it is checked; 429 once the window is used up.

        Counted first, in one atomic increment, so that concurrent guesses (from any number
        of processes sharing the counts) never check more than the window's limit."""
        try:
            counted_in = self.limiter
            decision = await counted_in.hit([window])
        except LimitsUnavailable:
            if self.store is None:
                raise
            counted_in = self.store
            decision = await counted_in.hit([window])
        assert decision is not None  # one window given, one decision
        if not decision.allowed:
            raise decision.refuse(
                f"Too many wrong passwords from this address; try again in {decision.reset} s."
            )
        return Guess(window, counted_in, window.limit - decision.remaining)

    async def right(self, guess: Guess) -> None:
        """A right password gives its count back."""
        await guess.counted_in.give_back(guess.window)

    async def wrong(self, guess: Guess) -> None:
        """A wrong password keeps its count; one counted in Redis is written to the store too."""
        if self.store is None or guess.counted_in is self.store:
            return
        try:
            kept = await self.store.add(guess.window, 1)
        except StoreUnavailable:
            logger.warning("a wrong password was counted in Redis only: the store is down")
            return
        if kept > guess.count:
            # Redis has fewer than the store: it restarted empty, or guesses were counted in
            # the store while it was down. Bring it level, so that it refuses as the store would.
            with suppress(LimitsUnavailable):
                await self.limiter.add(guess.window, kept - guess.count)
