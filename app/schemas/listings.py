"""A published retriever as Mixpeek's marketplace catalog shows it (`MarketplaceListing`,
`MarketplaceListingDetail`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import RootModel

from app.schemas.base import Model


class SubscriptionTier(Model):
    tier: Literal["free", "basic", "pro", "enterprise"]
    price_per_month: float = 0


class RetrieverListing(Model):
    listing_id: str
    internal_id: str
    namespace_id: str
    retriever_id: str
    title: str
    description: str
    public_name: str
    category: str | None
    groups: list[str]
    tags: list[str]
    logo_url: str | None
    app_url: str
    icon_base64: str | None
    available_tiers: list[SubscriptionTier]
    display_config: dict[str, Any]
    password_secret_name: None
    password_protected: bool
    status: Literal["published"]
    visibility: Literal["listed"]
    is_active: bool
    created_at: str
    updated_at: str
    published_at: str
    total_subscribers: int | None
    total_queries: int | None


class RetrieverListingDetail(RetrieverListing):
    input_schema: dict[str, Any] | None
    example_request: dict[str, Any] | None
    anonymous_rate_limit: dict[str, Any] | None


class RetrieverCatalog(RootModel[list[RetrieverListing]]):
    """The catalog: a bare list of listings, as Mixpeek's API answers it."""
