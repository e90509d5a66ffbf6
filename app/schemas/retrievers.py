"""Retrievers: a name, an input schema and the backend that answers their queries."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from app.schemas.base import (
    NAMESPACE,
    NAMESPACE_RULE,
    CollectionName,
    FieldName,
    Model,
    Text,
    matching,
)
from app.schemas.display import DisplayConfig, FieldSchema
from app.schemas.secrets import SecretName

RetrieverName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    matching(
        re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.\-]*"),
        "letters, digits, spaces, '_', '.' and '-', starting with a letter or digit",
    ),
]


class LocalBackendConfig(Model):
    """The embedded engine: a full-text index over a collection stored by this server."""

    type: Literal["local"]
    collection: CollectionName
    search_fields: list[FieldName] = Field(min_length=1, max_length=20)


class MixpeekBackendConfig(Model):
    """A Mixpeek-compatible upstream; its key lives in an organization secret."""

    type: Literal["mixpeek"]
    # Where it may point is the destination policy's to say (app/adapters/destinations.py).
    base_url: Annotated[
        str,
        StringConstraints(max_length=2048),
        matching(
            re.compile(r"https?://[^\s\\]+"), "an http(s) URL such as https://api.mixpeek.com"
        ),
    ]
    # Both go into the upstream request, in its path and a header: no path or control
    # characters.
    retriever_id: Annotated[
        str,
        matching(
            re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.:\-]{0,199}"),
            "1 to 200 letters, digits, '_', '.', ':' and '-' (no '/', '?', '..' or spaces)",
        ),
    ]
    namespace: Annotated[str, matching(NAMESPACE, NAMESPACE_RULE)]
    api_key_secret_name: SecretName


BackendConfig = Annotated[LocalBackendConfig | MixpeekBackendConfig, Field(discriminator="type")]


class CreateRetrieverRequest(Model):
    retriever_name: RetrieverName
    description: Text | None = None
    input_schema: dict[FieldName, FieldSchema] | None = None
    backend: BackendConfig
    display_config: DisplayConfig | None = None


class RetrieverResponse(Model):
    retriever_id: str
    retriever_name: str
    description: str | None
    input_schema: dict[str, Any] | None
    backend: dict[str, Any]
    display_config: dict[str, Any] | None
    is_published: bool
    public_name: str | None
    namespace_id: str
    created_at: datetime
    updated_at: datetime


class RetrieverList(Model):
    results: list[RetrieverResponse]
    total: int
    limit: int
    offset: int


class InteractionRecord(Model):
    interaction_id: str
    retriever_id: str
    document_id: str
    interaction_types: list[str]
    position: int
    execution_id: str | None
    session_id: str | None
    details: dict[str, Any] | None
    created_at: str


class InteractionList(Model):
    results: list[InteractionRecord]
    total: int
    limit: int
    offset: int
