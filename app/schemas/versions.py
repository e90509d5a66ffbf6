"""The published versions of a retriever's page (`/v1/retrievers/{id}/versions`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.schemas.base import Model


class PageVersion(Model):
    number: int
    published_by: str
    published_at: datetime
    note: str | None
    current: bool  # the version the page shows now
    display_config: dict[str, Any]


class PageVersionList(Model):
    results: list[PageVersion]
    total: int
    limit: int
    offset: int
