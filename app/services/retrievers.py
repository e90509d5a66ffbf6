"""Retrievers: a name, an input schema and the backend that answers their queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from app import crypto, jsonutil
from app.adapters.clock import Clock, stamp
from app.adapters.destinations import DestinationPolicy
from app.adapters.store import PublishedRecord, RetrieverRecord, Store, Transaction, UniqueViolation
from app.errors import Conflict, InvalidInput, NotFound, from_validation_error, invalid
from app.rendering.registry import Renderers
from app.schemas.display import DisplayConfig
from app.schemas.publishing import GenericDeleteResponse
from app.schemas.retrievers import (
    BackendConfig,
    CreateRetrieverRequest,
    LocalBackendConfig,
    MixpeekBackendConfig,
    RetrieverList,
    RetrieverResponse,
)
from app.schemas.stages import backend_of, collections_of, stages_of
from app.services.configs import check_display

Changed = Callable[[str | None], None]


class Retrievers:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        renderers: Renderers,
        destinations: DestinationPolicy,
        changed: Changed,
        text_fields: Callable[[str, str], list[str]],
    ) -> None:
        self.store = store
        self.clock = clock
        self.renderers = renderers
        self.destinations = destinations
        # Told the public name of a published retriever that goes away (None: maybe any).
        self.changed = changed
        # A collection's text fields (namespace, collection): what a stage searches by default.
        self.text_fields = text_fields

    def create(self, namespace: str, request: CreateRetrieverRequest) -> RetrieverResponse:
        backend = request.backend or self._from_stages(namespace, request)
        if isinstance(backend, MixpeekBackendConfig):
            self.destinations.check_url(backend.base_url)
        if request.display_config is not None:
            check_searchable(backend.model_dump(), request.display_config.exposed_fields)
            check_engine_features(backend.model_dump(), request.display_config)
            with self.store.read() as tx:
                check_display(self.renderers, tx.conn, namespace, request.display_config)
        now = stamp(self.clock())
        record = RetrieverRecord(
            retriever_id=crypto.new_id(crypto.RETRIEVER_ID_PREFIX),
            namespace=namespace,
            retriever_name=request.retriever_name,
            description=request.description,
            input_schema=dump_set(request.input_schema),
            backend=backend.model_dump(mode="json"),
            display_config=dump_set(request.display_config),
            created_at=now,
            updated_at=now,
        )
        try:
            with self.store.write() as tx:
                if tx.retriever_name_taken(namespace, request.retriever_name):
                    raise _name_taken(request.retriever_name)
                if isinstance(backend, MixpeekBackendConfig):
                    _check_upstream_key(tx, namespace, backend)
                tx.insert_retriever(record)
        except UniqueViolation:
            raise _name_taken(request.retriever_name) from None
        return retriever_response(record, None)

    def _from_stages(self, namespace: str, request: CreateRetrieverRequest) -> BackendConfig:
        """The backend the SDK's `stages` and `collection_identifiers` describe."""
        raw = backend_of(
            request.collection_identifiers,
            [stage.model_dump() for stage in request.stages or []],
            lambda collection: self.text_fields(namespace, collection),
        )
        model = LocalBackendConfig if raw["type"] == "local" else MixpeekBackendConfig
        fields = {key: value for key, value in raw.items() if value is not None}
        try:
            return model.model_validate_json(jsonutil.dumps(fields))
        except ValidationError as error:
            where = ("stages", 0, "config", "parameters")
            raise from_validation_error(error, where) from None

    def get(self, namespace: str, retriever_id: str) -> RetrieverResponse:
        with self.store.read() as tx:
            record = retriever_or_404(tx, namespace, retriever_id)
            return retriever_response(record, tx.get_published(namespace, retriever_id))

    def list(
        self,
        namespace: str,
        limit: int,
        offset: int,
        search: str | None = None,
        case_sensitive: bool = False,
    ) -> RetrieverList:
        with self.store.read() as tx:
            records, total = tx.list_retrievers(namespace, limit, offset, search, case_sensitive)
            results = [
                retriever_response(r, tx.get_published(namespace, r.retriever_id)) for r in records
            ]
        return RetrieverList(results=results, total=total, limit=limit, offset=offset)

    def delete(self, namespace: str, retriever_id: str) -> GenericDeleteResponse:
        with self.store.write() as tx:
            published = tx.get_published(namespace, retriever_id)
            if not tx.delete_retriever(namespace, retriever_id):
                raise retriever_not_found(retriever_id)
        self.changed(published.public_name if published else None)
        return GenericDeleteResponse(message=f"Retriever {retriever_id} deleted")


def retriever_response(
    record: RetrieverRecord, published: PublishedRecord | None
) -> RetrieverResponse:
    return RetrieverResponse(
        retriever_id=record.retriever_id,
        retriever_name=record.retriever_name,
        description=record.description,
        input_schema=record.input_schema,
        backend=record.backend,
        stages=stages_of(record.backend),
        collection_identifiers=collections_of(record.backend),
        collection_ids=collections_of(record.backend),
        display_config=record.display_config,
        is_published=published is not None,
        public_name=published.public_name if published else None,
        namespace_id=record.namespace,
        created_at=datetime.fromisoformat(record.created_at),
        updated_at=datetime.fromisoformat(record.updated_at),
    )


def _check_upstream_key(tx: Transaction, namespace: str, backend: MixpeekBackendConfig) -> None:
    """A secret is sent only to the upstream that first named it, and never if it is a
    password: so that no key holder can have a secret's value sent to a host of their own."""
    name = backend.api_key_secret_name
    field = "backend.api_key_secret_name"
    scope = tx.secret_scope(namespace, name)
    if scope is None:
        raise no_such_secret(field, name)
    # An organization secret is checked against every namespace that uses it: a key is sent
    # to one upstream only, whoever names it.
    if tx.published_using_secret(scope, name):
        raise invalid(
            field,
            "a secret that is not a page password",
            f"{field}: the secret {name!r} is a page password; it is never sent anywhere.",
        )
    origin = _origin(backend.base_url)
    for _, other_url in tx.retrievers_using_secret(scope, name):
        if _origin(other_url) != origin:
            raise invalid(
                field,
                "a secret used with this upstream only",
                f"{field}: the secret {name!r} is the key of another upstream; a secret is "
                "sent only to the upstream it was first used with (create another secret).",
            )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{(parts.netloc or '').lower()}"


def check_searchable(backend: dict[str, Any], exposed_fields: list[str]) -> None:
    """Only exposed fields may be searched: a hidden field that can be matched can be read,
    one query at a time."""
    hidden = [name for name in backend.get("search_fields") or () if name not in exposed_fields]
    if hidden:
        names = ", ".join(hidden)
        raise invalid(
            "backend.search_fields",
            f"{names} not in display_config.exposed_fields",
            f"backend.search_fields names {names}, which display_config.exposed_fields does "
            "not list; only exposed fields may be searched (expose them, or search fewer "
            "fields).",
        )


def check_engine_features(backend: dict[str, Any], display: DisplayConfig) -> None:
    """The filters panel counts values, and similar items are found, by the embedded engine;
    a page over an upstream cannot offer them, so a config asking for them is refused."""
    if backend.get("type") == "local":
        return
    components = display.components
    card = components.result_card if components else None
    asked = [
        ("components.show_filters", bool(components and components.show_filters)),
        ("components.result_card.show_find_similar", bool(card and card.show_find_similar)),
        (
            "components.result_card.card_click_action",
            bool(card and card.card_click_action == "findSimilar"),
        ),
    ]
    for where, wanted in asked:
        if wanted:
            raise invalid(
                f"display_config.{where}",
                "off for a retriever over an upstream",
                f"display_config.{where}: the filters panel and similar items need the "
                "embedded engine; this retriever searches a Mixpeek upstream.",
            )


def dump_set(model: Any) -> Any:
    if model is None:
        return None
    if isinstance(model, dict):
        return {key: dump_set(value) for key, value in model.items()}
    # Only what the publisher set is stored, so a config reads back exactly as it was sent;
    # defaults are applied when the config is used.
    return model.model_dump(mode="json", exclude_unset=True)


def retriever_or_404(tx: Transaction, namespace: str, retriever_id: str) -> RetrieverRecord:
    record = tx.get_retriever(namespace, retriever_id)
    if record is None:
        raise retriever_not_found(retriever_id)
    return record


def retriever_not_found(retriever_id: str) -> NotFound:
    return NotFound(f"No retriever {retriever_id!r} in this namespace.")


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A retriever named {name!r} already exists in this namespace.")


def no_such_secret(field: str, name: str) -> InvalidInput:
    return invalid(
        field,
        f"secret {name!r} does not exist",
        f"{field}: no secret named {name!r} exists in this namespace; "
        "create it first with POST /v1/organizations/secrets.",
    )
