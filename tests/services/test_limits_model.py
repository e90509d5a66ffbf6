"""The limiter against a reference model: never more admitted than every window allows."""

from __future__ import annotations

import asyncio
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from app.adapters.counters import Counters
from app.services.limits import RateLimiter, Window
from tests.helpers import FakeClock

WINDOWS = st.lists(
    st.tuples(st.integers(1, 6), st.sampled_from([1, 2, 5, 60])),
    min_size=1,
    max_size=3,
    unique_by=lambda item: item[1],
)
STEPS = st.lists(
    st.tuples(st.sampled_from([0, 0, 0, 0.3, 0.7, 1, 2.5, 61]), st.integers(1, 8)),
    min_size=1,
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(windows=WINDOWS, steps=STEPS)
def test_the_limiter_matches_a_reference_model(
    windows: list[tuple[int, int]], steps: list[tuple[float, int]]
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(Counters("memory://", "fallback", clock), clock)
    shapes = [Window(f"w{seconds}", limit, seconds, "r") for limit, seconds in windows]
    admitted_in: Counter[tuple[str, int]] = Counter()  # the model: admissions per window slot

    async def run() -> None:
        for advance, burst in steps:
            clock.advance(advance)
            now = clock().timestamp()
            for _ in range(burst):
                slots = [(w.name, int(now // w.seconds)) for w in shapes]
                expected = all(
                    admitted_in[slot] < w.limit for slot, w in zip(slots, shapes, strict=True)
                )
                decision = await limiter.hit(shapes)
                assert decision is not None
                assert decision.allowed == expected
                if expected:
                    admitted_in.update(slots)
                    assert decision.remaining == min(
                        w.limit - admitted_in[slot] for slot, w in zip(slots, shapes, strict=True)
                    )
                else:
                    assert decision.remaining == 0
                    assert decision.reset >= 1

    asyncio.run(run())
    # And never, in any slot, more than its window allows.
    for (name, _), count in admitted_in.items():
        limit = next(w.limit for w in shapes if w.name == name)
        assert count <= limit
