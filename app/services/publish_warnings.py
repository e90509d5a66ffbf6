"""What publishing a retriever over a collection warns of: a page that will find nothing, and
one that searches by words where it was meant to search by meaning too, and one that shows a
field of vectors."""

from __future__ import annotations

from typing import Any


def of_collection(
    collection: str,
    documents: int,
    backend: dict[str, Any],
    embedding: dict[str, Any] | None,
    exposed: list[str],
) -> list[str]:
    found = []
    if documents == 0:
        # A page over a collection with no documents finds nothing: say so when published.
        found.append(
            f"The collection {collection!r} has no documents yet: the page will find nothing "
            f"until some are added (POST /v1/collections/{collection}/documents, or "
            "retriever-pages import)."
        )
    hidden = _hidden_embedded(backend, embedding, exposed)
    if hidden:
        # A hidden field must never shape a result: such a retriever searches by words.
        found.append(
            f"The collection {collection!r} embeds {', '.join(hidden)}, which the page does "
            "not expose, so this retriever searches by words only: expose them, or embed "
            f"fewer fields (PUT /v1/collections/{collection}/embedding)."
        )
    shown_vectors = _exposed_vector_field(embedding, exposed)
    if shown_vectors:
        # Its numbers are never answered, so a page that shows it shows an empty field.
        found.append(
            f"The field {shown_vectors!r} holds the documents' own vectors, which are never "
            "shown or answered: leave it out of exposed_fields."
        )
    return found


def _exposed_vector_field(embedding: dict[str, Any] | None, exposed: list[str]) -> str | None:
    if embedding is None or embedding["embedder"].get("type") != "provided":
        return None
    field = str(embedding["embedder"].get("field"))
    return field if field in exposed else None


def _hidden_embedded(
    backend: dict[str, Any], embedding: dict[str, Any] | None, exposed: list[str]
) -> list[str]:
    if backend.get("mode") == "keyword" or embedding is None:
        return []
    if embedding["embedder"].get("type") == "provided":
        return []
    return [name for name in embedding["fields"] if name not in exposed]
