"""The throttle on wrong passwords, and where it counts them.

Ordinary rate limits, with Redis as their storage and `fallback` on failure, count in each
process's memory while Redis is down. Wrong passwords must not: an address already throttled
would get a fresh allowance in each worker, at every outage. Nor are password checks refused
while Redis is down: a blip would then lock new visitors out of every password page and fail
every API call that sends X-Retriever-Password, which is the outage `fallback` is chosen to
avoid. So the throttle counts in Redis while it answers, and writes each wrong guess to the
store as well (the database that every worker shares); while Redis is down, it counts every
guess in the store. Every guess counted in Redis is also held to the store's count, so that
what Redis forgets (a restart, a write that failed) never buys a guess. The store sees one
read per guess and one write per wrong one, which the throttle itself keeps few, and, only
during an outage, two writes per right one (its count, then its give-back).
"""

from __future__ import annotations

import logging
from contextlib import suppress
from dataclasses import dataclass, replace

from app.errors import LimitsUnavailable, StoreUnavailable
from app.services.limits import Decision, RateLimiter, Window

logger = logging.getLogger("retriever_pages")


@dataclass(frozen=True)
class Guess:
    """A guess let through to be checked, and where it was counted."""

    window: Window
    counted_in: RateLimiter


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
        of processes sharing the counts) never check more than the window's limit. A guess
        counted in Redis is held to the store's count of wrong ones as well: Redis may have
        forgotten some (it restarted empty, or guesses were counted in the store while it was
        down, or bringing it level failed), and the store never does."""
        try:
            counted_in = self.limiter
            decision = await counted_in.hit([window])
        except LimitsUnavailable:
            if self.store is None:
                raise
            counted_in = self.store
            decision = await counted_in.hit([window])
        assert decision is not None  # one window given, one decision
        if decision.allowed and counted_in is not self.store:
            decision = await self._level(window, decision)
        if not decision.allowed:
            raise decision.refuse(
                f"Too many wrong passwords from this address; try again in {decision.reset} s."
            )
        return Guess(window, counted_in)

    async def right(self, guess: Guess) -> None:
        """A right password gives its count back."""
        await guess.counted_in.give_back(guess.window)

    async def wrong(self, guess: Guess) -> None:
        """A wrong password keeps its count; one counted in Redis is written to the store too."""
        if self.store is None or guess.counted_in is self.store:
            return
        try:
            await self.store.add(guess.window, 1)
        except StoreUnavailable:
            logger.warning("a wrong password was counted in Redis only: the store is down")

    async def _level(self, window: Window, decision: Decision) -> Decision:
        """A guess Redis let through, decided again with the store's wrong guesses: when the
        store has more than Redis, Redis is brought level (this guess with them), and the
        guess is refused if that is over the limit."""
        if self.store is None:
            return decision
        counted = window.limit - decision.remaining  # this guess included
        try:
            kept = await self.store.count(window)
        except StoreUnavailable:
            logger.warning("a password guess was counted in Redis only: the store is down")
            return decision
        if kept + 1 <= counted:
            return decision
        try:
            counted = await self.limiter.add(window, kept + 1 - counted)
        except LimitsUnavailable:
            counted = kept + 1
        if counted <= window.limit:
            return replace(decision, remaining=window.limit - counted)
        with suppress(LimitsUnavailable):
            await self.limiter.give_back(window)
        return self.limiter.refusal(window)
