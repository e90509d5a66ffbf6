"""The console's retrievers: a list with each one's state (published, password, tier), and a
new one (over a collection of this server, or over a Mixpeek upstream) made from a form through
`Retrievers.create`, the call the API makes, so that every check is the same (the upstream
address policy included) and each error is told beside its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app.adapters.store import Store
from app.errors import InvalidInput, from_validation_error
from app.schemas.retrievers import CreateRetrieverRequest, UpdateRetrieverRequest
from app.services.retrievers import Retrievers, retriever_or_404

MAX_LISTED = 500
MODES = ("hybrid", "keyword", "semantic")
SOURCES = ("collection", "mixpeek")  # what a new retriever searches
# Where each field of the create request is shown on the form.
_FORM_FIELDS = {
    "retriever_name": "retriever_name",
    "description": "description",
    "backend.collection": "collection",
    "backend.search_fields": "search_fields",
    "backend.mode": "mode",
    "backend.base_url": "base_url",
    "backend.retriever_id": "upstream_retriever_id",
    "backend.namespace": "upstream_namespace",
    "backend.api_key_secret_name": "api_key_secret_name",
}
_SAID = {"backend.base_url": "address"}
# The upstream address policy (app/adapters/destinations.py), in words, for the form.
ADDRESS_POLICY = (
    "An address inside this server's network is refused: loopback (localhost, 127.0.0.1), "
    "private (10.x, 172.16-31.x, 192.168.x), link-local (cloud metadata), multicast or "
    "reserved, whether typed or what the name resolves to, unless the server's operator "
    "allows it (RETRIEVER_PAGES_UPSTREAM_ALLOW). No user:password@, ?query or #fragment."
)


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
    # Over a Mixpeek upstream (`source` "mixpeek"): where, which retriever there, its
    # namespace, and the name of the secret holding its API key (never the key).
    source: str = "collection"
    base_url: str = ""
    upstream_retriever_id: str = ""
    upstream_namespace: str = ""
    api_key_secret_name: str = ""


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
        """A retriever over a collection of this server or a Mixpeek upstream, made as the
        API makes it; its id. Raises `InvalidInput` (see `field_errors`) or the API's own
        errors (409 for a name taken)."""
        backend: dict[str, Any]
        if form.source == "mixpeek":
            backend = {
                "type": "mixpeek",
                "base_url": form.base_url.strip(),
                "retriever_id": form.upstream_retriever_id.strip(),
                "namespace": form.upstream_namespace.strip(),
                "api_key_secret_name": form.api_key_secret_name.strip(),
            }
        else:
            backend = {
                "type": "local",
                "collection": form.collection,
                "search_fields": list(form.search_fields),
                "mode": form.mode,
            }
        body: dict[str, Any] = {"retriever_name": form.retriever_name.strip(), "backend": backend}
        if form.description.strip():
            body["description"] = form.description.strip()
        try:
            request = CreateRetrieverRequest.model_validate(body)
        except ValidationError as error:
            refused = from_validation_error(error)
            if backend["type"] == "mixpeek":
                self._told_with(refused, backend["base_url"])
            raise refused from None
        created = self.retrievers.create(namespace, request)
        return created.retriever_id

    def _told_with(self, refused: InvalidInput, base_url: str) -> None:
        """The upstream address's own refusal added to the form's others, which the models
        found first, so that every error is told at once."""
        items = refused.details.setdefault("errors", [])
        if any("base_url" in str(item.get("field", "")) for item in items):
            return
        try:
            self.retrievers.destinations.check_url(base_url)
        except InvalidInput as error:
            for item in error.details.get("errors", []):
                items.append({**item, "message": _in_words(item, error.message)})


@dataclass(frozen=True)
class SearchedBy:
    """What a retriever over a collection of this server searches, as its form shows it."""

    collection: str
    search_fields: list[str]
    mode: str


def searched(store: Store, namespace: str, retriever_id: str) -> SearchedBy | None:
    """What the retriever of that id searches (None over an upstream), or a 404."""
    with store.read() as tx:
        return searched_by(retriever_or_404(tx, namespace, retriever_id).backend)


def searched_by(backend: dict[str, Any]) -> SearchedBy | None:
    if backend.get("type") != "local":
        return None
    fields = [str(f) for f in backend.get("search_fields") or []]
    return SearchedBy(str(backend.get("collection")), fields, str(backend.get("mode", "hybrid")))


def change_search(
    retrievers: Retrievers, namespace: str, retriever_id: str, fields: list[str], mode: str
) -> None:
    """The fields a retriever searches and how, changed by the call the API's `PATCH
    /v1/retrievers/{id}` makes with a new backend (the rest of the backend kept), so that
    every check is the API's (a published page must show each field searched)."""
    with retrievers.store.read() as tx:
        backend = retriever_or_404(tx, namespace, retriever_id).backend
    if searched_by(backend) is None:
        raise InvalidInput("Over an upstream, what it searches is the upstream's to change.")
    changed = {**backend, "search_fields": fields, "mode": mode, "default_search_fields": False}
    try:
        request = UpdateRetrieverRequest.model_validate({"backend": changed})
    except ValidationError as error:
        raise from_validation_error(error) from None
    retrievers.update(namespace, retriever_id, request)


def field_errors(error: InvalidInput, fields: dict[str, str] | None = None) -> dict[str, str]:
    """An `InvalidInput`'s messages by the form field they belong beside (`form` for the
    rest): `fields` maps the API's field to the form's (by default the new retriever's)."""
    fields = _FORM_FIELDS if fields is None else fields
    found: dict[str, str] = {}
    items = error.details.get("errors", [])
    for item in items:
        # A backend's errors are located under its kind too: backend.local.mode.
        where = str(item.get("field", ""))
        where = where.replace("backend.local.", "backend.", 1).replace(
            "backend.mixpeek.", "backend.", 1
        )
        name = next(
            (form for api, form in fields.items() if where == api or where.startswith(api)),
            "form",
        )
        found.setdefault(name, _in_words(item, error.message if len(items) == 1 else ""))
    return found or {"form": error.message}


def _in_words(item: dict[str, Any], sentence: str) -> str:
    """What is wrong with a field: the whole sentence of a check about one field of the
    backend (the upstream address policy, a secret), without the API's name for it; else
    what is allowed."""
    field = str(item.get("field", ""))
    if field.startswith("backend.") and sentence.startswith(f"{field}: "):
        rest = sentence.removeprefix(f"{field}: ")
        return rest[:1].upper() + rest[1:]
    if field.startswith("backend.") and sentence.startswith(f"{field} "):
        # "backend.base_url reaches 10.0.0.7, …": the field said as the form names it.
        return f"This {_SAID.get(field, 'value')} {sentence.removeprefix(f'{field} ')}"
    return str(item.get("message", sentence))
