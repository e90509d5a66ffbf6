"""The console's plugins: which marketplace listings a namespace has installed already, so
that the page offers to install only the others. Installing and uninstalling are the API's
own calls (`Marketplace.install`, `Plugins.delete`)."""

from __future__ import annotations

from collections.abc import Iterable

from app.adapters.store import Store
from app.adapters.store import marketplace as queries


class ConsolePlugins:
    def __init__(self, store: Store) -> None:
        self.store = store

    def installed(self, namespace: str, public_ids: Iterable[str]) -> set[str]:
        """Those of `public_ids` (listings) installed in `namespace`."""
        with self.store.read() as tx:
            return {p for p in public_ids if queries.installed(tx.conn, p, namespace)}
