"""The directory of active published retrievers, for the public API and the page at `/`."""

from __future__ import annotations

import math
from datetime import datetime

from app import urls
from app.adapters.store import PublishedRecord, Store
from app.adapters.threads import in_thread
from app.schemas.public import (
    ListPublicRetrieversResponse,
    PublicRetrieverListItem,
    PublicRetrieverListStats,
)


class Directory:
    def __init__(self, store: Store, public_url: str) -> None:
        self.store = store
        self.public_url = public_url

    async def listing(
        self, page: int, page_size: int, search: str | None, include_inactive: bool = False
    ) -> ListPublicRetrieversResponse:
        """Published retrievers (also those switched off, when asked: their pages are 404s,
        and `is_active` says so), searched by name, title and description."""
        records = await in_thread(self._published, include_inactive)
        items = [self._item(record) for record in records]
        if search:
            needle = search.lower()
            items = [
                item
                for item in items
                if needle in f"{item.public_name} {item.title} {item.description or ''}".lower()
            ]
        protected = sum(1 for item in items if item.password_protected)
        active = sum(1 for item in items if item.is_active)
        start = (page - 1) * page_size
        return ListPublicRetrieversResponse(
            results=items[start : start + page_size],
            total_count=len(items),
            page=page,
            page_size=page_size,
            total_pages=math.ceil(len(items) / page_size),
            stats=PublicRetrieverListStats(
                total_active=active,
                total_password_protected=protected,
                total_open=len(items) - protected,
            ),
        )

    def _published(self, include_inactive: bool) -> list[PublishedRecord]:
        with self.store.read() as tx:
            return tx.list_active_published(include_inactive)

    def _item(self, record: PublishedRecord) -> PublicRetrieverListItem:
        config = record.display_config
        seo = config.get("seo") or {}
        return PublicRetrieverListItem(
            public_name=record.public_name,
            public_url=urls.absolute(self.public_url, urls.page(record.public_name)),
            title=config["title"],
            description=config.get("description") or record.description,
            logo_url=config.get("logo_url"),
            icon_base64=config.get("icon_base64") or record.icon_base64,
            og_image_url=seo.get("og_image_url"),
            password_protected=record.password_secret_name is not None,
            is_active=record.is_active,
            external_links=config.get("external_links"),
            created_at=datetime.fromisoformat(record.created_at),
            updated_at=datetime.fromisoformat(record.updated_at),
        )
