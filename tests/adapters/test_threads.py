"""Searches that run side by side (a page's federated search) leave the event loop, even the
quick ones, so that they can overlap; elsewhere quick work stays on the loop."""

from __future__ import annotations

import asyncio

from app.adapters.threads import on_loop_allowed, overlapping


def test_every_search_started_side_by_side_leaves_the_loop() -> None:
    async def each() -> bool:
        await asyncio.sleep(0)
        return on_loop_allowed()

    async def run() -> tuple[bool, list[bool], bool]:
        before = on_loop_allowed()
        with overlapping():
            inside = await asyncio.gather(each(), each(), each())
        return before, inside, on_loop_allowed()

    before, inside, after = asyncio.run(run())
    assert before is True
    assert inside == [False, False, False]
    assert after is True  # a single search after it keeps the loop's fast path
