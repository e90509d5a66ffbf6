"""Requests and responses of the public API (no owner key)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from app.schemas.base import FieldName, Model, OpenModel
from app.schemas.display import ExternalLink

MAX_PAGE_NUMBER = 10_000
MAX_PAGE_SIZE = 500
MAX_FACETS = 10


class OffsetPagination(Model):
    method: Literal["offset"] = "offset"
    page_number: int = Field(default=1, ge=1, le=MAX_PAGE_NUMBER)
    page_size: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)


class SortField(Model):
    """One field to order results by instead of relevance."""

    field: FieldName = Field(description="An exposed field holding numbers or ISO dates.")
    direction: Literal["asc", "desc"] = "desc"


class ReadConsistency(Model):
    """`ReadConsistencyOption`: every read here is strong, which meets either mode."""

    mode: Literal["strong", "eventual"]
    max_staleness_ms: int | None = Field(default=None, ge=0)


class ExecuteRequest(OpenModel):
    """The SDK's `RetrieverExecutionRequest`. Keys the SDK always sends are accepted."""

    inputs: dict[str, Any] = Field(
        default_factory=dict,
        description="The values of the display config's inputs, by field_name. `embedding` "
        "(unless an input has that name): the query's own vector, a list of numbers as long "
        "as the collection's, for a retriever that searches by meaning over a collection "
        "whose documents bring their vectors (embedder type provided); refused elsewhere.",
    )
    filters: dict[str, Any] | None = Field(
        default=None,
        description="Mixpeek's logical filter tree (AND / OR / NOT of {field, operator, value}, "
        "or {field: value}) over exposed fields.",
    )
    pagination: OffsetPagination | None = None
    limit: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE)
    page_size: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE)
    stream: Literal[False] = False
    skip_cache: bool = Field(
        default=False, description="Answer from the backend, not from the query cache."
    )
    facets: list[FieldName] | None = Field(
        default=None,
        max_length=MAX_FACETS,
        description="Exposed fields whose values to count over every match of the query and "
        "filters; answered as `facets: {field: [{value, count}, ...]}`, most first. The "
        "embedded engine, and a typesense backend (fields its collection marks facet).",
    )
    sort: list[SortField] | None = Field(
        default=None,
        max_length=1,
        description="Order by one exposed numeric or date field instead of relevance; "
        "documents without a value come last. The embedded engine, and a typesense backend.",
    )
    similar_to: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None,
        description="A document id: answer the documents most like it (it excluded, at most "
        "20, within the filters): nearest in meaning when its collection embeds, else ranked "
        "by the words it is about over the search fields (rare and repeated ones). No text "
        "input is needed. The embedded engine only.",
    )
    semantic_ratio: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="How much meaning weighs against words in this search (0: words only, "
        "1: meaning only), for a retriever whose publisher lets a search choose "
        "(`backend.semantic_ratio_bounds`), within those bounds; refused otherwise.",
    )
    # The SDK sends these as false; true asks for what no backend here has (stored blobs,
    # vectors), so it is refused rather than quietly ignored.
    return_presigned_urls: Literal[False] = False
    return_vectors: Literal[False] = False
    expand: list[str] | None = Field(
        default=None,
        max_length=0,
        description="Resolving referenced documents inline is not supported here; leave it out.",
    )
    # Every read of the embedded engine sees every write before it, and an upstream is asked
    # as it is: both are met whatever is asked, so they are accepted.
    write_token: Annotated[str, StringConstraints(max_length=500)] | None = None
    consistency: ReadConsistency | None = None


class VerifyPasswordRequest(Model):
    password: Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class VerifyPasswordResponse(Model):
    valid: bool


InteractionType = Literal[
    "impression",
    "view",
    "click",
    "dwell",
    "positive_feedback",
    "negative_feedback",
    "purchase",
    "add_to_cart",
    "wishlist",
    "long_view",
    "share",
    "bookmark",
    "query_refinement",
    "zero_results",
    "filter_toggle",
    "skip",
    "return_to_results",
    "play",
    "download",
    "save",
    "add_to_project",
    "rating",
]


class InteractionRequest(Model):
    """`PublicInteractionRequest`. Types are read in any case (Mixpeek's own examples send
    "CLICK"); `execution_id` is required, as the SDK documents."""

    document_id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    interaction_type: list[InteractionType] = Field(min_length=1, max_length=10)
    position: int = Field(ge=0, le=100_000)
    execution_id: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    query_snapshot: dict[str, Any] | None = None
    document_score: float | None = None
    result_set_size: int | None = Field(default=None, ge=1)
    session_id: Annotated[str, StringConstraints(max_length=100)] | None = None
    metadata: dict[str, Any] | None = None

    @field_validator("interaction_type", mode="before")
    @classmethod
    def _any_case(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [item.lower() if isinstance(item, str) else item for item in value]
        return value


class InteractionBatchRequest(Model):
    """`PublicInteractionBatchRequest`: at most 100, counted one by one against the limit."""

    interactions: list[InteractionRequest] = Field(min_length=1, max_length=100)


class InteractionResponse(Model):
    success: bool = True
    interaction_id: str


class InteractionBatchResponse(Model):
    success: bool = True
    count: int
    interaction_ids: list[str]


class PublicRetrieverListItem(Model):
    public_name: str
    public_url: str
    title: str
    description: str | None
    logo_url: str | None
    icon_base64: str | None
    og_image_url: str | None
    password_protected: bool
    is_active: bool
    external_links: list[ExternalLink] | None
    created_at: datetime
    updated_at: datetime


class PublicRetrieverListStats(Model):
    total_active: int
    total_password_protected: int
    total_open: int


class ListPublicRetrieversResponse(Model):
    results: list[PublicRetrieverListItem]
    total_count: int
    page: int
    page_size: int
    total_pages: int
    stats: PublicRetrieverListStats


class ExecutePagination(Model):
    method: Literal["offset"] = "offset"
    page_number: int
    page_size: int
    returned: int
    total: int
    has_next: bool


class FacetCount(Model):
    value: str | int | float | bool
    count: int


class ExecuteResponse(Model):
    """What execute answers: each document holds document_id, score and the exposed fields
    (and `highlights` of the search fields the query matched, when it has a text query)."""

    execution_id: str
    status: Literal["completed"] = "completed"
    documents: list[dict[str, Any]] = Field(
        description="document_id, score and the exposed fields; `highlights` ({field: text "
        "with the matched words in <mark>}) where the query's words matched, or "
        "`matched_by_meaning: true` where a search by meaning found a document that holds "
        "none of them (what a page's `show_meaning_hint` marks)."
    )
    results: list[dict[str, Any]]
    pagination: ExecutePagination
    facets: dict[str, list[FacetCount]] | None = Field(
        default=None,
        description="With `facets` asked for: each field's values over every match, most first.",
    )
    words_left_out: list[str] | None = Field(
        default=None,
        description="When no document has every word of the text query: the words (as the "
        "engine folds them) that the best match lacks. The documents answered have most of "
        "the query, the rarer words counting for more.",
    )


class PublicRetrieverConfigResponse(Model):
    public_name: str
    display_config: dict[str, Any]
    password_protected: bool
    retriever_metadata: dict[str, Any] | None = None


class PublicRetrieverTemplate(Model):
    """`PublicRetrieverTemplateResponse`: a published retriever as a start for one's own. An
    upstream's address, ids and key name stay private: its stage carries no parameters."""

    retriever_name: str
    description: str | None
    collection_identifiers: list[str]
    stages: list[dict[str, Any]]
    input_schema: dict[str, Any]
    budget_limits: dict[str, Any]
    tags: list[str] | None
    display_config: dict[str, Any] | None
    source_public_name: str
    source_public_url: str
    feature_extractors: list[dict[str, Any]] | None = None
