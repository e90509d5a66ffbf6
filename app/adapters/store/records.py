"""Typed rows: what the store hands to the services, and takes back."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from app.schemas.marketplace import TrustTier


@dataclass(frozen=True, slots=True)
class _Record:
    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Self:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})

    def as_row(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class RetrieverRecord(_Record):
    retriever_id: str
    namespace: str
    retriever_name: str
    description: str | None
    input_schema: dict[str, Any] | None
    backend: dict[str, Any]
    display_config: dict[str, Any] | None
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class PublishedRecord(_Record):
    retriever_id: str
    namespace: str
    public_id: str
    public_name: str
    public_api_key: str
    display_name: str | None
    description: str | None
    icon_base64: str | None
    display_config: dict[str, Any]
    rate_limit_config: dict[str, Any]
    password_secret_name: str | None
    is_active: bool
    tags: list[str] | None
    category: str | None
    retriever_metadata: dict[str, Any] | None
    created_at: str
    updated_at: str
    version: int


@dataclass(frozen=True, slots=True)
class PluginRecord(_Record):
    plugin_id: str
    namespace: str
    tag: str
    name: str
    description: str | None
    blob: str | None
    url: str | None
    is_draft: bool
    minimum_role_required: str
    version: str
    icon_tag: str | None
    parameters: dict[str, Any]
    permissions: list[str]
    meta_version: int
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class PluginVersionRecord(_Record):
    plugin_id: str
    version: str
    blob: str | None
    url: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class ListingRecord(_Record):
    """A plugin's listing in the marketplace."""

    public_id: str
    plugin_id: str
    namespace: str
    public_name: str
    version: str
    trust_tier: TrustTier
    description: str | None
    icon: str | None
    readme_markdown: str | None
    tags: list[str]
    category: str | None
    model_dependencies: list[dict[str, Any]]
    sample_values: list[Any]
    is_active: bool
    install_count: int
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class ListedPluginRecord(ListingRecord):
    """A listing with its plugin's name, tag, entry point, permissions and parameters beside
    it: what the marketplace shows."""

    name: str
    tag: str
    url: str | None
    permissions: list[str]
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class InstallRecord(_Record):
    """A listed plugin installed in a namespace (as the plugin `plugin_id` there)."""

    public_id: str
    namespace: str
    plugin_id: str
    created_at: str
