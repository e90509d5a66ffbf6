"""Published retrievers listed, filtered and paged: the one way the public directory and the
marketplace list read them.

Both lists are short (one row per published page) and filter on display-config fields that the
store keeps as JSON, so the filter runs here, over every row, and the page is cut after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.adapters.store import PublishedRecord, Store
from app.adapters.threads import in_thread


@dataclass(frozen=True, slots=True)
class Found:
    """The records the filter kept (oldest first), and the page of them that was asked for."""

    matched: list[PublishedRecord]
    page: list[PublishedRecord]


async def find_published(
    store: Store,
    keep: Callable[[PublishedRecord], bool],
    offset: int,
    limit: int,
    *,
    include_inactive: bool = False,
) -> Found:
    """The active published retrievers (also those switched off, when asked) that `keep`
    keeps, and `limit` of them from `offset`."""
    records = await in_thread(_published, store, include_inactive)
    matched = [record for record in records if keep(record)]
    return Found(matched, matched[offset : offset + limit])


def _published(store: Store, include_inactive: bool) -> list[PublishedRecord]:
    with store.read() as tx:
        return tx.list_active_published(include_inactive)
