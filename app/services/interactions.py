"""Views and clicks recorded on a published page, and the owner's read of them."""

from __future__ import annotations

from typing import Any

from app import crypto, jsonutil
from app.adapters.clock import Clock, stamp
from app.adapters.store import Store
from app.adapters.threads import in_thread
from app.schemas.public import InteractionRequest
from app.services.access import Caller
from app.services.catalog import PublicRetriever
from app.services.limits import RateLimiter, Window, address_key
from app.services.retrievers import retriever_or_404

INTERACTION_ID_PREFIX = "int_"
MAX_INTERACTION_DETAILS_BYTES = 8 * 1024
INTERACTIONS_PER_IP_HOUR = 2000


class Interactions:
    def __init__(self, store: Store, limiter: RateLimiter, clock: Clock) -> None:
        self.store = store
        self.limiter = limiter
        self.clock = clock

    async def admit(self, retriever: PublicRetriever, caller: Caller, count: int = 1) -> None:
        """Count `count` interactions from this address, or refuse them with 429."""
        window = Window(
            "interactions",
            INTERACTIONS_PER_IP_HOUR,
            3600,
            f"{retriever.record.retriever_id}:{address_key(caller.ip)}",
        )
        decision = await self.limiter.hit([window], count)
        if decision is not None and not decision.allowed:
            raise decision.refuse("Too many interactions from this address.")

    async def record(
        self, retriever: PublicRetriever, requests: list[InteractionRequest], session_id: str | None
    ) -> list[str]:
        """Store the interactions in one transaction; their ids, in order."""
        now = stamp(self.clock())
        rows = [_row(retriever, request, session_id, now) for request in requests]
        await in_thread(self._insert, rows)
        return [row["interaction_id"] for row in rows]

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        with self.store.write() as tx:
            for row in rows:
                tx.insert_interaction(row)

    def listing(self, namespace: str, retriever_id: str, limit: int, offset: int) -> dict[str, Any]:
        """What users clicked and viewed on the retriever's page, newest first."""
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            rows, total = tx.list_interactions(namespace, retriever_id, limit, offset)
        for row in rows:
            row.pop("namespace", None)
        return {"results": rows, "total": total, "limit": limit, "offset": offset}


def _row(
    retriever: PublicRetriever, request: InteractionRequest, session_id: str | None, now: str
) -> dict[str, Any]:
    details = {
        key: value
        for key, value in (
            ("query_snapshot", request.query_snapshot),
            ("document_score", request.document_score),
            ("result_set_size", request.result_set_size),
            ("metadata", request.metadata),
        )
        if value is not None
    }
    if len(jsonutil.dumps(details)) > MAX_INTERACTION_DETAILS_BYTES:
        details = {"truncated": True}
    return {
        "interaction_id": crypto.new_id(INTERACTION_ID_PREFIX),
        "retriever_id": retriever.record.retriever_id,
        "namespace": retriever.record.namespace,
        "document_id": request.document_id,
        "interaction_types": list(request.interaction_type),
        "position": request.position,
        "execution_id": request.execution_id,
        "session_id": request.session_id or session_id,
        "details": details or None,
        "created_at": now,
    }
