"""What a namespace has published, as the SDK asks it: the publish limit, and the state a
retriever's publication is in."""

from __future__ import annotations

from app.adapters.store import Store
from app.schemas.publishing import PublishStats, ReconcileResponse
from app.services.retrievers import retriever_or_404


class PublishState:
    def __init__(self, store: Store, max_published: int) -> None:
        self.store = store
        self.max_published = max_published

    def stats(self, namespace: str) -> PublishStats:
        """`OrganizationPublishStatsResponse`: how many this namespace has, and may have."""
        with self.store.read() as tx:
            count = tx.list_published(namespace, 1, 0)[1]
        return PublishStats(
            current_count=count,
            max_allowed=self.max_published,
            remaining=max(0, self.max_published - count),
            at_limit=count >= self.max_published,
        )

    def reconcile(self, namespace: str, retriever_id: str, dry_run: bool) -> ReconcileResponse:
        """Mixpeek keeps a published record and a marketplace listing that can drift apart;
        here one record is both, so there is never anything to repair: this says which of
        the seed's states it is in."""
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            published = tx.get_published(namespace, retriever_id)
        return ReconcileResponse(
            retriever_id=retriever_id,
            state="consistent" if published else "not_published",
            public_name=published.public_name if published else None,
            dry_run=dry_run,
            repaired=False,
            actions=[],
        )
