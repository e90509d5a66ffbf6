"""Blocking work (SQLite, PostgreSQL, the engine) run off the event loop."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

from anyio import move_on_after
from anyio.to_thread import run_sync

P = ParamSpec("P")
T = TypeVar("T")

# Set where searches run side by side (a page's federated search): there even the work quick
# enough for the event loop goes to a thread, or the searches would run one after another.
_OVERLAPPING: ContextVar[bool] = ContextVar("overlapping", default=False)


async def in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await run_sync(functools.partial(fn, *args, **kwargs))


async def in_thread_within(seconds: float, fn: Callable[[], object]) -> bool:
    """Whether `fn` ended within `seconds` (its error raised); if not, it is left to end on
    its own thread, unawaited: for a probe that must answer even while what it asks hangs."""
    with move_on_after(seconds):
        await run_sync(fn, abandon_on_cancel=True)
        return True
    return False


@contextmanager
def overlapping() -> Iterator[None]:
    """Within it (and in the tasks started within it), `on_loop_allowed()` is False."""
    token = _OVERLAPPING.set(True)
    try:
        yield
    finally:
        _OVERLAPPING.reset(token)


def on_loop_allowed() -> bool:
    """Whether quick work may run on the event loop itself: not where it should overlap."""
    return not _OVERLAPPING.get()
