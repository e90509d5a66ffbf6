"""Retrievers: a name, an input schema and the backend that answers their queries."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from app.schemas.base import (
    NAMESPACE,
    NAMESPACE_RULE,
    CollectionName,
    FieldName,
    Model,
    OpenModel,
    StrictModel,
    Text,
    matching,
)
from app.schemas.display import DisplayConfig, FieldSchema
from app.schemas.secrets import SecretName

MAX_SEARCH_FIELDS = 20

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
    search_fields: list[FieldName] = Field(min_length=1, max_length=MAX_SEARCH_FIELDS)
    # True when the server chose search_fields (a stage that named none): they are then the
    # collection's text fields that the page exposes, chosen again when those change.
    default_search_fields: bool = False
    mode: Literal["keyword", "semantic", "hybrid"] = Field(
        default="hybrid",
        description="How the text query finds documents: by its words (keyword), by meaning "
        "(semantic: the documents nearest to the query's vector), or both, fused (hybrid). "
        "Meaning needs a collection that embeds (PUT /v1/collections/{name}/embedding); "
        "until it does, every mode searches by words.",
    )
    semantic_ratio: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="In hybrid mode, how much meaning weighs against words: 0 is words "
        "only, 1 meaning only.",
    )
    fusion: Literal["rrf", "dbsf"] = Field(
        default="rrf",
        description="In hybrid mode, how the two rankings become one: by reciprocal rank "
        "(rrf: each document's rank in each, weighed by semantic_ratio) or by normalised "
        "scores (dbsf: each ranking's scores scaled to 0..1, then weighed and added).",
    )
    semantic_ratio_bounds: list[float] | None = Field(
        default=None,
        description="[lowest, highest]: lets a search choose its own semantic_ratio within "
        "these bounds (execute's `semantic_ratio`); without them a search may not.",
    )

    @field_validator("semantic_ratio_bounds")
    @classmethod
    def _bounds(cls, bounds: list[float] | None) -> list[float] | None:
        if bounds is not None and (len(bounds) != 2 or not 0 <= bounds[0] <= bounds[1] <= 1):
            raise ValueError("semantic_ratio_bounds must be [lowest, highest], from 0 to 1")
        return bounds


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


MAX_TYPESENSE_NODES = 10
UpstreamURL = Annotated[
    str,
    StringConstraints(max_length=2048),
    matching(
        re.compile(r"https?://[^\s\\]+"), "an http(s) URL such as https://typesense.example.com"
    ),
]


class TypesenseBackendConfig(Model):
    """A Typesense collection the publisher already has, searched with a (search-only) key
    that lives in an organization secret."""

    type: Literal["typesense"]
    # Each node's address is the destination policy's to allow (app/adapters/destinations.py).
    nodes: list[UpstreamURL] = Field(min_length=1, max_length=MAX_TYPESENSE_NODES)
    # Sent in the search body, never in a path; kept to plain names all the same.
    collection: Annotated[
        str,
        matching(
            re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}"),
            "1 to 200 letters, digits, '_', '.' and '-' (no '/', '..' or spaces)",
        ),
    ]
    query_by: list[FieldName] = Field(min_length=1, max_length=MAX_SEARCH_FIELDS)
    api_key_secret_name: SecretName

    @field_validator("nodes", mode="before")
    @classmethod
    def _one_node(cls, nodes: Any) -> Any:
        """A single URL is a cluster of one node."""
        return [nodes] if isinstance(nodes, str) else nodes

    @field_validator("nodes")
    @classmethod
    def _distinct(cls, nodes: list[str]) -> list[str]:
        if len({node.rstrip("/").lower() for node in nodes}) != len(nodes):
            raise ValueError("each node is listed once")
        return nodes

    @field_validator("query_by")
    @classmethod
    def _fields_once(cls, fields: list[str]) -> list[str]:
        if len(set(fields)) != len(fields):
            raise ValueError("each field is listed once")
        return fields


BackendConfig = Annotated[
    LocalBackendConfig | MixpeekBackendConfig | TypesenseBackendConfig,
    Field(discriminator="type"),
]


class StageConfig(OpenModel):
    """The SDK's `StageConfigInput`: which stages map to a backend is `app/schemas/stages.py`."""

    stage_name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    stage_type: Literal["filter", "sort", "reduce", "apply", "enrich"] | None = None
    config: dict[str, Any]


# The SDK's create fields that no backend here can honour: refused when set, never dropped.
UNSUPPORTED_CREATE_FIELDS = {
    "visibility": ("PRIVATE", "private"),
    "marketplace_listing_id": (),
    "requires_subscription": (False,),
    "budget_limits": (),
    "tags": (),
    "metadata": (),
}


def refuse_unsupported(request: Any) -> None:
    """A 422 for the first SDK field set that no backend here can honour."""
    for name, harmless in UNSUPPORTED_CREATE_FIELDS.items():
        value = getattr(request, name, None)
        if value is not None and value not in harmless:
            raise ValueError(f"{name} is not supported by this server; leave it out")


class CreateRetrieverRequest(Model):
    """Either this server's `backend`, or the SDK's `collection_identifiers` and `stages`
    (mapped to a backend, see `app/schemas/stages.py`)."""

    retriever_name: RetrieverName
    description: Text | None = None
    input_schema: dict[FieldName, FieldSchema] | None = None
    backend: BackendConfig | None = None
    collection_identifiers: list[CollectionName] | None = Field(default=None, max_length=20)
    stages: list[StageConfig] | None = Field(default=None, min_length=1, max_length=20)
    display_config: DisplayConfig | None = None
    visibility: Any = None
    marketplace_listing_id: Any = None
    requires_subscription: Any = None
    budget_limits: Any = None
    tags: Any = None
    metadata: Any = None

    @model_validator(mode="after")
    def _one_backend(self) -> CreateRetrieverRequest:
        refuse_unsupported(self)
        if self.backend is None and self.stages is None:
            raise ValueError("send backend, or stages (with collection_identifiers)")
        if self.backend is not None and (self.stages is not None or self.collection_identifiers):
            raise ValueError("send backend, or stages with collection_identifiers, not both")
        return self


class UpdateRetrieverRequest(StrictModel):
    """The SDK's `PatchRetrieverRequest`: only the fields sent (not null) change. The fields
    searched change with `backend`, or with `stages` and `collection_identifiers` (the
    current ones when one of the two is left out), each checked as on create."""

    retriever_name: RetrieverName | None = None
    description: Text | None = None  # "" removes it
    input_schema: dict[FieldName, FieldSchema] | None = None
    display_config: DisplayConfig | None = None
    backend: BackendConfig | None = None
    collection_identifiers: list[CollectionName] | None = Field(default=None, max_length=20)
    stages: list[StageConfig] | None = Field(default=None, min_length=1, max_length=20)
    visibility: Any = None
    marketplace_listing_id: Any = None
    requires_subscription: Any = None
    tags: Any = None
    metadata: Any = None

    @model_validator(mode="after")
    def _something(self) -> UpdateRetrieverRequest:
        refuse_unsupported(self)
        if all(getattr(self, name) is None for name in UPDATABLE_RETRIEVER_FIELDS):
            raise ValueError(f"send at least one of {', '.join(UPDATABLE_RETRIEVER_FIELDS)}")
        if self.backend is not None and (
            self.stages is not None or self.collection_identifiers is not None
        ):
            raise ValueError("send backend, or stages and collection_identifiers, not both")
        return self

    @property
    def changes_backend(self) -> bool:
        return any(
            value is not None for value in (self.backend, self.stages, self.collection_identifiers)
        )


UPDATABLE_RETRIEVER_FIELDS = (
    "retriever_name",
    "description",
    "input_schema",
    "display_config",
    "backend",
    "stages",
    "collection_identifiers",
)


class RetrieverResponse(Model):
    """This server's retriever, with the SDK's `RetrieverModelOutput` fields beside it."""

    retriever_id: str
    retriever_name: str
    description: str | None
    input_schema: dict[str, Any] | None
    backend: dict[str, Any]
    stages: list[dict[str, Any]]
    collection_identifiers: list[str]
    collection_ids: list[str]
    fusion: str | None = None
    version: int = 1
    display_config: dict[str, Any] | None
    is_published: bool
    public_name: str | None
    namespace_id: str
    created_at: datetime
    updated_at: datetime


class UpdateRetrieverResponse(Model):
    """The SDK's `PatchRetrieverResponse`."""

    retriever: RetrieverResponse


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


class ListRetrieversRequest(StrictModel):
    """The SDK's `ListRetrieversRequest`: `search` over ids, names and descriptions. Filters
    and sorts over stored fields are Mixpeek's database's; here they are refused by name."""

    search: Annotated[str, StringConstraints(max_length=200)] | None = None
    case_sensitive: bool = False
    filters: dict[str, Any] | None = None
    sorts: list[dict[str, Any]] | None = None
    sort: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _no_filters(self) -> ListRetrieversRequest:
        for name in ("filters", "sorts", "sort"):
            if getattr(self, name):
                raise ValueError(
                    f"{name} is not supported by this server: retrievers are listed oldest "
                    "first, and narrowed by search"
                )
        return self
