"""Retrievers: a name, an input schema and the backend that answers their queries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from app import crypto, jsonutil
from app.adapters.clock import Clock, stamp
from app.adapters.destinations import DestinationPolicy
from app.adapters.store import PublishedRecord, RetrieverRecord, Store, Transaction, UniqueViolation
from app.adapters.store.updates import update_retriever
from app.errors import Conflict, NotFound, from_validation_error
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
    TypesenseBackendConfig,
    UpdateRetrieverRequest,
    UpdateRetrieverResponse,
)
from app.schemas.stages import (
    backend_of,
    collections_of,
    kept_stages,
    retriever_config,
    retriever_metadata,
    stages_of,
)
from app.services.backend_checks import (
    EXPOSED_FIELDS,
    TextFields,
    check_engine_carries,
    check_engine_features,
    check_upstream_key,
    searching_exposed,
    texts_of,
)
from app.services.configs import check_display

Changed = Callable[[str | None], None]
BackendModel = LocalBackendConfig | MixpeekBackendConfig | TypesenseBackendConfig
# A searched field that the display config sent with the retriever does not expose.
EXPOSE_OR_SEARCH_FEWER_NOW = "expose them, or search fewer fields"
# A searched field that the retriever's published page does not expose.
SEARCH_FEWER_OR_EXPOSE = (
    "search fewer fields, or expose them first with PATCH /v1/retrievers/{retriever_id}/publish"
)


class Retrievers:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        renderers: Renderers,
        destinations: DestinationPolicy,
        changed: Changed,
        text_fields: Callable[[str, str], list[str]],
        lacks: Callable[[], Mapping[str, str]] = dict,
    ) -> None:
        self.store = store
        self.clock = clock
        self.renderers = renderers
        self.destinations = destinations
        # Told the public name of a published retriever that changes or goes away.
        self.changed = changed
        # A collection's text fields (namespace, collection): what a stage searches by default.
        self.text_fields = text_fields
        self.lacks = lacks  # what the engine does not carry (`SearchEngine.lacks`)

    def create(self, namespace: str, request: CreateRetrieverRequest) -> RetrieverResponse:
        stages = [stage.model_dump() for stage in request.stages or []]
        backend = self._backend(namespace, request.backend, request.collection_identifiers, stages)
        if request.display_config is not None:
            exposed = request.display_config.exposed_fields
            texts = self.texts_for(namespace, backend)
            backend = searching_exposed(backend, exposed, texts, how=EXPOSE_OR_SEARCH_FEWER_NOW)
            check_engine_features(backend, request.display_config, self.lacks())
            with self.store.read() as tx:
                check_display(self.renderers, tx.conn, namespace, request.display_config)
        now = stamp(self.clock())
        record = RetrieverRecord(
            retriever_id=crypto.new_id(crypto.RETRIEVER_ID_PREFIX),
            namespace=namespace,
            retriever_name=request.retriever_name,
            description=request.description,
            input_schema=dump_set(request.input_schema),
            backend=backend,
            display_config=dump_set(request.display_config),
            created_at=now,
            updated_at=now,
        )
        try:
            with self.store.write() as tx:
                if tx.retriever_name_taken(namespace, request.retriever_name):
                    raise _name_taken(request.retriever_name)
                check_upstream_key(tx, namespace, backend)
                tx.insert_retriever(record)
        except UniqueViolation:
            raise _name_taken(request.retriever_name) from None
        return retriever_response(record, None)

    def update(
        self, namespace: str, retriever_id: str, request: UpdateRetrieverRequest
    ) -> UpdateRetrieverResponse:
        """Change the fields sent, checked as on create; a published retriever keeps
        searching only its page's exposed fields, and its page shows the change at once."""
        with self.store.read() as tx:
            before = retriever_or_404(tx, namespace, retriever_id)
        backend = before.backend
        if request.changes_backend:
            # The collections or stages left out are the current ones.
            collections = request.collection_identifiers
            sent = request.stages
            backend = self._backend(
                namespace,
                request.backend,
                collections_of(backend) if collections is None else collections,
                kept_stages(backend) if sent is None else [s.model_dump() for s in sent],
            )
        texts = self.texts_for(namespace, backend)
        try:
            with self.store.write() as tx:
                current = retriever_or_404(tx, namespace, retriever_id)
                if current.backend != before.backend:
                    raise Conflict("The retriever changed meanwhile: read it and try again.")
                updated, published = self._apply(tx, current, request, backend, texts)
        except UniqueViolation:
            raise _name_taken(str(request.retriever_name)) from None
        if published is not None:
            self.changed(published.public_name)
        return UpdateRetrieverResponse(retriever=retriever_response(updated, published))

    def _apply(
        self,
        tx: Transaction,
        current: RetrieverRecord,
        request: UpdateRetrieverRequest,
        backend: dict[str, Any],
        texts: TextFields,
    ) -> tuple[RetrieverRecord, PublishedRecord | None]:
        """The update inside its transaction: every check that needs the store, then the
        writes (the published page's copy of the stages too)."""
        namespace, now = current.namespace, stamp(self.clock())
        changes: dict[str, Any] = {"updated_at": now}
        name = request.retriever_name
        if name is not None and name != current.retriever_name:
            if tx.retriever_name_taken(namespace, name):
                raise _name_taken(name)
            changes["retriever_name"] = name
        if request.description is not None:
            changes["description"] = request.description or None
        if request.input_schema is not None:
            changes["input_schema"] = dump_set(request.input_schema)
        display = request.display_config
        if display is not None:
            check_display(self.renderers, tx.conn, namespace, display)
            check_engine_features(backend, display, self.lacks())
            changes["display_config"] = dump_set(display)
        published = tx.get_published(namespace, current.retriever_id, for_update=True)
        backend = _searching(current, published, request, backend, texts)
        if backend != current.backend:
            check_upstream_key(tx, namespace, backend)
            changes["backend"] = backend
            if published is not None:
                published = _with_backend(published, backend, now)
                tx.update_published(published)
        updated = current.replace(**changes)
        update_retriever(tx.conn, updated)
        return updated, published

    def texts_for(self, namespace: str, backend: dict[str, Any]) -> TextFields:
        return texts_of(backend, lambda collection: self.text_fields(namespace, collection))

    def _backend(
        self,
        namespace: str,
        backend: BackendConfig | None,
        collections: list[str] | None,
        stages: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The backend a request describes (this server's shape, or the SDK's stages),
        checked as far as it can be without the store."""
        if backend is None:
            backend = self._from_stages(namespace, collections, stages)
        if isinstance(backend, MixpeekBackendConfig):
            self.destinations.check_url(backend.base_url)
        if isinstance(backend, TypesenseBackendConfig):
            for number, node in enumerate(backend.nodes):
                self.destinations.check_url(node, f"backend.nodes[{number}]")
        dumped = backend.model_dump(mode="json")
        check_engine_carries(dumped, self.lacks())
        return dumped

    def _from_stages(
        self, namespace: str, collections: list[str] | None, stages: list[dict[str, Any]]
    ) -> BackendConfig:
        """The backend the SDK's `stages` and `collection_identifiers` describe."""
        raw = backend_of(
            collections, stages, lambda collection: self.text_fields(namespace, collection)
        )
        models: dict[str, type[BackendModel]] = {
            "local": LocalBackendConfig,
            "typesense": TypesenseBackendConfig,
        }
        model = models.get(raw["type"], MixpeekBackendConfig)
        fields = {key: value for key, value in raw.items() if value is not None}
        try:
            parsed: BackendConfig = model.model_validate_json(jsonutil.dumps(fields))
            return parsed
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


def searching_only(
    tx: Transaction, retriever: RetrieverRecord, exposed: list[str], texts: TextFields, now: str
) -> dict[str, Any]:
    """The retriever's backend searching only `exposed` fields, stored if that changed it
    (fields the server chose are chosen again; a named field not exposed is a 422)."""
    backend = searching_exposed(retriever.backend, exposed, texts)
    if backend != retriever.backend:
        update_retriever(tx.conn, retriever.replace(backend=backend, updated_at=now))
    return backend


def _searching(
    current: RetrieverRecord,
    published: PublishedRecord | None,
    request: UpdateRetrieverRequest,
    backend: dict[str, Any],
    texts: TextFields,
) -> dict[str, Any]:
    """The updated backend, searching only the fields its page exposes: the published page's,
    or before it is published, the display config a publish will use."""
    by_stages = request.stages is not None or request.collection_identifiers is not None
    field = "stages[0].config.parameters.fields" if by_stages else "backend.search_fields"
    page: DisplayConfig | None
    if published is not None:
        if not request.changes_backend:
            return backend
        page = DisplayConfig.model_validate_json(jsonutil.dumps(published.display_config))
        exposed_as = "the published display_config.exposed_fields"
        how = SEARCH_FEWER_OR_EXPOSE
    else:
        page = request.display_config or _display(current.display_config)
        if page is None or not (request.changes_backend or request.display_config):
            return backend
        exposed_as, how = EXPOSED_FIELDS, EXPOSE_OR_SEARCH_FEWER_NOW
    check_engine_features(backend, page)
    return searching_exposed(
        backend, page.exposed_fields, texts, field=field, exposed_as=exposed_as, how=how
    )


def _display(stored: dict[str, Any] | None) -> DisplayConfig | None:
    return None if stored is None else DisplayConfig.model_validate_json(jsonutil.dumps(stored))


def _with_backend(published: PublishedRecord, backend: dict[str, Any], now: str) -> PublishedRecord:
    """The published record over a changed backend: the stages its page and metadata show,
    and a new version (answers cached for the old one are not served again)."""
    metadata = published.retriever_metadata
    return published.replace(
        display_config={**published.display_config, "retriever_config": retriever_config(backend)},
        retriever_metadata=None if metadata is None else retriever_metadata(backend),
        updated_at=now,
        version=published.version + 1,
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
