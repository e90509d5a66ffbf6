"""Requests and responses of the publish calls (`/v1/retrievers/{id}/publish` and friends)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from app.schemas.base import IconBase64, Model, OpenModel, PublicName
from app.schemas.display import DisplayConfig

Tag = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Category = Annotated[str, StringConstraints(max_length=50)]
MAX_TAGS = 20


class RateLimitTier(StrEnum):
    STANDARD = "standard"
    ELEVATED = "elevated"
    ENTERPRISE = "enterprise"
    UNLIMITED = "unlimited"


class RateLimitConfig(Model):
    enabled: bool = True
    tier: RateLimitTier = RateLimitTier.STANDARD
    requests_per_minute: int | None = Field(default=None, ge=1)
    requests_per_hour: int | None = Field(default=None, ge=1)
    requests_per_day: int | None = Field(default=None, ge=1)
    max_results_per_query: int = Field(default=100, ge=1, le=1000)
    enable_ip_limits: bool = False
    max_requests_per_ip_hour: int | None = Field(default=None, ge=1)
    description: Annotated[str, StringConstraints(max_length=500)] | None = None


class PublishRetrieverRequest(Model):
    display_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    public_name: PublicName | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    icon_base64: IconBase64 | None = None
    display_config: DisplayConfig | None = None
    rate_limit_config: RateLimitConfig | None = None
    password_secret_name: str | None = None
    # Off unless asked: the metadata names the collection and its search fields publicly.
    include_metadata: bool = False
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    category: Category | None = None


class UpdatePublishedRetrieverRequest(OpenModel):
    """The seed call. Only the fields sent change; see `publishing.apply_update`."""

    display_config: DisplayConfig | None = None
    # Validated as a partial: the keys sent are merged over the stored config.
    rate_limit_config: dict[str, Any] | None = None
    password_secret_name: str | None = None
    is_active: bool | None = None
    tags: list[Tag] | None = Field(default=None, max_length=MAX_TAGS)
    category: Category | None = None
    display_name: Annotated[str, StringConstraints(max_length=100)] | None = None
    description: Annotated[str, StringConstraints(max_length=500)] | None = None
    icon_base64: IconBase64 | None = None
    public_name: str | None = None


class PublishRetrieverResponse(Model):
    public_id: str
    retriever_id: str
    public_name: str
    public_url: str
    short_url: str
    public_api_key: str
    password_protected: bool
    warnings: list[str] = Field(default_factory=list)


class PublishedRetrieverResponse(Model):
    retriever_id: str
    retriever_name: str
    public_id: str
    public_name: str
    public_url: str
    display_name: str | None
    description: str | None
    icon_base64: str | None
    public_api_key: str
    display_config: dict[str, Any]
    rate_limit_config: dict[str, Any]
    password_protected: bool
    password_secret_name: str | None
    is_active: bool
    retriever_metadata: dict[str, Any] | None
    tags: list[str] | None
    category: str | None
    namespace_id: str
    created_at: datetime
    updated_at: datetime
    warnings: list[str] = Field(default_factory=list)


class PublishedRetrieverList(Model):
    results: list[PublishedRetrieverResponse]
    total: int
    limit: int
    offset: int


class PublicNameAvailabilityResponse(Model):
    name: str
    available: bool
    reason: str | None = None


class GenericDeleteResponse(Model):
    message: str = "Successfully deleted"
    success: bool = True


class PublishStats(Model):
    """`OrganizationPublishStatsResponse`."""

    current_count: int
    max_allowed: int
    remaining: int
    at_limit: bool


class ReconcileResponse(Model):
    retriever_id: str
    state: Literal["consistent", "not_published"]
    public_name: str | None
    dry_run: bool
    repaired: bool
    actions: list[str]
