"""The plugin marketplace (seed 000): a plugin published for every namespace to install."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from app import jsonutil
from app.icons import checked_icon
from app.schemas.base import Model, PublicName, StrictModel, matching
from app.schemas.plugins import Tag

TrustTier = Literal["community", "verified", "official"]
Capability = Literal["batch", "realtime"]
# What a renderer plugin does: it draws a field in a page as results arrive.
CAPABILITIES: list[Capability] = ["realtime"]
MAX_SAMPLE_VALUES_BYTES = 8 * 1024

ListingTag = Annotated[
    str,
    StringConstraints(min_length=1, max_length=50),
    matching(
        re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]*"),
        "up to 50 letters, digits, spaces and _ . -, starting with a letter or digit",
    ),
]
Icon = Annotated[str, StringConstraints(max_length=300_000), AfterValidator(checked_icon)]


class ModelDependency(StrictModel):
    """A model the plugin needs, listed on its marketplace page for whoever installs it."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    source: Literal["builtin", "huggingface", "url", "custom"] = "builtin"
    format: Annotated[str, StringConstraints(max_length=50)] | None = None
    required: bool = True


class ListingFields(StrictModel):
    """`UpdatePublishedPluginRequest`: only the fields sent change."""

    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    icon_base64: Icon | None = None
    readme_markdown: Annotated[str, StringConstraints(max_length=50_000)] | None = None
    tags: list[ListingTag] | None = Field(default=None, max_length=20)
    category: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    model_dependencies: list[ModelDependency] | None = Field(default=None, max_length=20)
    is_active: bool | None = None
    trust_tier: TrustTier | None = Field(
        default=None, description="Only an operator key may set verified or official."
    )
    sample_values: list[Any] | None = Field(
        default=None,
        max_length=10,
        description="Values the marketplace page previews the renderer on.",
    )

    @field_validator("sample_values")
    @classmethod
    def _sample_bytes(cls, values: list[Any] | None) -> list[Any] | None:
        if values is not None and len(jsonutil.dumps(values)) > MAX_SAMPLE_VALUES_BYTES:
            raise ValueError(f"sample_values are over {MAX_SAMPLE_VALUES_BYTES} bytes of JSON")
        return values


class PublishPluginRequest(ListingFields):
    """The first publish: the listing's name in the marketplace, and what it shows."""

    public_name: PublicName


class PublishedPlugin(Model):
    """`PublishedPluginResponse`, plus what the marketplace page shows."""

    plugin_id: str
    public_id: str
    public_name: str
    tag: str
    version: str
    trust_tier: TrustTier
    created_at: datetime
    updated_at: datetime
    display_name: str | None
    description: str | None
    capabilities: list[Capability]
    tags: list[str]
    category: str | None
    install_count: int
    is_active: bool
    icon_url: str | None
    readme_markdown: str | None
    model_dependencies: list[ModelDependency]
    permissions: list[str]
    sample_values: list[Any]


class Category(Model):
    name: str
    count: int


class PublishedPluginList(Model):
    page: int
    page_size: int
    total: int
    total_pages: int
    plugins: list[PublishedPlugin]
    categories: list[Category]


class InstallPluginRequest(StrictModel):
    public_name: PublicName
    tag: Tag | None = Field(
        default=None, description="The tag in your namespace; the listing's own when absent."
    )
