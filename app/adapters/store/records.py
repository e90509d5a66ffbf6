"""Typed rows: what the store hands to the services, and takes back."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self


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
