"""The directory of active published retrievers, for the public API and the page at `/`."""

from __future__ import annotations

import math
from datetime import datetime

from app import urls
from app.adapters.store import PublishedRecord, Store
from app.schemas.public import (
    ListPublicRetrieversResponse,
    PublicRetrieverListItem,
    PublicRetrieverListStats,
)
from app.services.published_lists import find_published


class Directory:
    def __init__(self, store: Store, public_url: str) -> None:
        self.store = store
        self.public_url = public_url

    async def listing(
        self, page: int, page_size: int, search: str | None, include_inactive: bool = False
    ) -> ListPublicRetrieversResponse:
        """Published retrievers (also those switched off, when asked: their pages are 404s,
        and `is_active` says so), searched by name, title and description."""
        needle = search.lower() if search else None

        def keep(record: PublishedRecord) -> bool:
            if needle is None:
                return True
            config = record.display_config
            description = config.get("description") or record.description or ""
            return needle in f"{record.public_name} {config['title']} {description}".lower()

        found = await find_published(
            self.store, keep, (page - 1) * page_size, page_size, include_inactive=include_inactive
        )
        total = len(found.matched)
        protected = sum(1 for record in found.matched if record.password_secret_name is not None)
        active = sum(1 for record in found.matched if record.is_active)
        return ListPublicRetrieversResponse(
            results=[self._item(record) for record in found.page],
            total_count=total,
            page=page,
            page_size=page_size,
            total_pages=math.ceil(total / page_size),
            stats=PublicRetrieverListStats(
                total_active=active,
                total_password_protected=protected,
                total_open=total - protected,
            ),
        )

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
