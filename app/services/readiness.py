"""Whether the parts this server needs answer: the store, the engine when it is a Typesense
cluster, and Redis when configured."""

from __future__ import annotations

from collections.abc import Callable

from app.adapters.counters import Counters
from app.adapters.store import Store
from app.adapters.threads import in_thread, in_thread_within
from app.errors import AppError

STORE_ANSWERS_WITHIN_SECONDS = 3.0


class Readiness:
    def __init__(
        self,
        store: Store,
        counters: Counters,
        engine_nodes: Callable[[], dict[str, str]] | None = None,
    ) -> None:
        """`engine_nodes`: each node of a Typesense cluster (HOST:PORT) and its state, "ok" or
        what is wrong with it (`TypesenseEngine.nodes_state`); None for an engine that lives
        in the store."""
        self.store = store
        self.counters = counters
        self.engine_nodes = engine_nodes
        self._pinging = False  # a ping of the store on its way (on a thread), maybe hung

    def _ping(self) -> None:
        self._pinging = True
        try:
            self.store.ping()
        finally:
            self._pinging = False

    async def report(self) -> tuple[bool, dict[str, str], list[str]]:
        """(ready, each part's state, the parts that make it unready). A Redis outage with the
        `fallback` setting is reported but does not make the server unready: it still serves;
        nor does a Typesense node down while another answers."""
        parts: dict[str, str] = {}
        down: list[str] = []
        try:
            # A store that hangs (a frozen machine, a lost network) is down too: the probe
            # answers rather than wait with it, and while a ping it left has not come back,
            # it sends no other (each would hold a thread and a connection of the store's).
            answered = not self._pinging and await in_thread_within(
                STORE_ANSWERS_WITHIN_SECONDS, self._ping
            )
            parts["store"] = "ok" if answered else "down"
        except AppError:
            parts["store"] = "down"
        if parts["store"] != "ok":
            down.append("store")
        if self.engine_nodes is not None:
            nodes = await in_thread(self.engine_nodes)
            answering = [node for node, state in nodes.items() if state == "ok"]
            if len(answering) == len(nodes):
                parts["engine"] = "ok"
            elif answering:
                parts["engine"] = (
                    f"ok, {len(answering)} of {len(nodes)} Typesense nodes answer ({_wrong(nodes)})"
                )
            else:
                parts["engine"] = _wrong(nodes)
                down.append("engine")
        if self.counters.shared:
            if await self.counters.check():
                parts["rate_limits"] = "ok"
            elif self.counters.on_failure == "fallback":
                parts["rate_limits"] = "down, counting in process memory"
            else:
                parts["rate_limits"] = "down"
                down.append("rate_limits")
        return not down, parts, down


def _wrong(nodes: dict[str, str]) -> str:
    """What is wrong with the nodes that are not ok: "Typesense at HOST:PORT is unreachable"."""
    by_state: dict[str, list[str]] = {}
    for node, state in nodes.items():
        if state != "ok":
            by_state.setdefault(state, []).append(node)
    said = [
        f"{_listed(named)} {'is' if len(named) == 1 else 'are'} {state}"
        for state, named in by_state.items()
    ]
    return "Typesense at " + "; ".join(said)


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
