"""Whether the parts this server needs answer: the store, and Redis when configured."""

from __future__ import annotations

from app.adapters.counters import Counters
from app.adapters.store import Store
from app.adapters.threads import in_thread
from app.errors import AppError


class Readiness:
    def __init__(self, store: Store, counters: Counters) -> None:
        self.store = store
        self.counters = counters

    async def report(self) -> tuple[bool, dict[str, str]]:
        """(ready, each part's state). A Redis outage with the `fallback` setting is reported
        but does not make the server unready: it still serves."""
        parts: dict[str, str] = {}
        ready = True
        try:
            await in_thread(self.store.ping)
            parts["store"] = "ok"
        except AppError:
            parts["store"] = "down"
            ready = False
        if self.counters.shared:
            if await self.counters.check():
                parts["rate_limits"] = "ok"
            elif self.counters.on_failure == "fallback":
                parts["rate_limits"] = "down, counting in process memory"
            else:
                parts["rate_limits"] = "down"
                ready = False
        return ready, parts
