"""Blocking work (SQLite, PostgreSQL, the engine) run off the event loop."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from anyio.to_thread import run_sync

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    return await run_sync(functools.partial(fn, *args, **kwargs))
