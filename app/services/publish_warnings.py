"""What publishing a retriever over a collection warns of: a page that will find nothing, and
one that searches by words where it was meant to search by meaning too."""

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
    return found


def _hidden_embedded(
    backend: dict[str, Any], embedding: dict[str, Any] | None, exposed: list[str]
) -> list[str]:
    if backend.get("mode") == "keyword" or embedding is None:
        return []
    if embedding["embedder"].get("type") == "provided":
        return []
    return [name for name in embedding["fields"] if name not in exposed]
