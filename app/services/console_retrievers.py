"""The console's retrievers: a list with each one's state (published, password, tier), and a
new one made from a form through `Retrievers.create`, the call the API makes, so that every
check is the same and each error is told beside its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.adapters.store import Store
from app.errors import InvalidInput, from_validation_error
from app.schemas.retrievers import CreateRetrieverRequest
from app.services.retrievers import Retrievers

MAX_LISTED = 500
MODES = ("hybrid", "keyword", "semantic")
# Where each field of the create request is shown on the form.
_FORM_FIELDS = {
    "retriever_name": "retriever_name",
    "description": "description",
    "backend.collection": "collection",
    "backend.search_fields": "search_fields",
    "backend.mode": "mode",
}


@dataclass(frozen=True)
class RetrieverRow:
    retriever_id: str
    name: str
    description: str | None
    kind: str  # "local", "mixpeek" or "typesense"
    collection: str | None
    mode: str | None
    search_fields: list[str]
    published: bool
    public_name: str | None
    active: bool
    password: bool
    tier: str | None


@dataclass(frozen=True)
class RetrieverForm:
    """What the new-retriever form sends, as sent."""

    retriever_name: str = ""
    description: str = ""
    collection: str = ""
    search_fields: tuple[str, ...] = ()
    mode: str = "hybrid"


class ConsoleRetrievers:
    def __init__(self, store: Store, retrievers: Retrievers) -> None:
        self.store = store
        self.retrievers = retrievers

    def rows(self, namespace: str) -> list[RetrieverRow]:
        with self.store.read() as tx:
            records, _ = tx.list_retrievers(namespace, MAX_LISTED, 0)
            found = [(r, tx.get_published(namespace, r.retriever_id)) for r in records]
        rows = []
        for record, published in found:
            backend = record.backend
            rows.append(
                RetrieverRow(
                    retriever_id=record.retriever_id,
                    name=record.retriever_name,
                    description=record.description,
                    kind=str(backend.get("type")),
                    collection=backend.get("collection"),
                    mode=backend.get("mode") if backend.get("type") == "local" else None,
                    search_fields=list(
                        backend.get("search_fields") or backend.get("query_by") or []
                    ),
                    published=published is not None,
                    public_name=published.public_name if published else None,
                    active=bool(published and published.is_active),
                    password=bool(published and published.password_secret_name),
                    tier=str(published.rate_limit_config.get("tier") or "standard")
                    if published
                    else None,
                )
            )
        return rows

    def create(self, namespace: str, form: RetrieverForm) -> str:
        """A retriever over a collection of this server, made as the API makes it; its id.
        Raises `InvalidInput` (see `field_errors`) or the API's own errors (409 for a name
        taken)."""
        body: dict[str, Any] = {
            "retriever_name": form.retriever_name.strip(),
            "backend": {
                "type": "local",
                "collection": form.collection,
                "search_fields": list(form.search_fields),
                "mode": form.mode,
            },
        }
        if form.description.strip():
            body["description"] = form.description.strip()
        try:
            request = CreateRetrieverRequest.model_validate(body)
        except ValidationError as error:
            raise from_validation_error(error) from None
        created = self.retrievers.create(namespace, request)
        return created.retriever_id


def field_errors(error: InvalidInput, fields: dict[str, str] | None = None) -> dict[str, str]:
    """An `InvalidInput`'s messages by the form field they belong beside (`form` for the
    rest): `fields` maps the API's field to the form's (by default the new retriever's)."""
    fields = _FORM_FIELDS if fields is None else fields
    found: dict[str, str] = {}
    for item in error.details.get("errors", []):
        # A backend's errors are located under its kind too: backend.local.mode.
        where = str(item.get("field", "")).replace("backend.local.", "backend.", 1)
        name = next(
            (form for api, form in fields.items() if where == api or where.startswith(api)),
            "form",
        )
        found.setdefault(name, str(item.get("message", error.message)))
    return found or {"form": error.message}
