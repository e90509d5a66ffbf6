"""Publishing: a retriever's public page, its configuration, name, limits and password.

Every change happens inside one store transaction: validation that needs the store (secrets
exist, names are free) runs there too, so that a rejected request writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from app import crypto, jsonutil, urls
from app.adapters.clock import Clock, stamp
from app.adapters.store import PublishedRecord, RetrieverRecord, Store, Transaction, UniqueViolation
from app.adapters.store.page_versions import API, Byline, snapshot
from app.errors import Conflict, NotFound, from_validation_error, invalid
from app.rendering.registry import Renderers
from app.rendering.theme import contrast_warnings
from app.schemas.base import PUBLIC_NAME, PUBLIC_NAME_RULE
from app.schemas.display import DisplayConfig
from app.schemas.publishing import (
    GenericDeleteResponse,
    PublicNameAvailabilityResponse,
    PublishedRetrieverList,
    PublishedRetrieverResponse,
    PublishRetrieverRequest,
    PublishRetrieverResponse,
    RateLimitConfig,
    UpdatePublishedRetrieverRequest,
)
from app.schemas.stages import retriever_config, retriever_metadata
from app.services import publish_warnings as warnings
from app.services.backend_checks import (
    TextFields,
    check_engine_features,
    no_such_secret,
    texts_of,
)
from app.services.configs import check_display
from app.services.public_names import choose_public_name, page_holds, public_name_taken
from app.services.public_names import slugify as slugify
from app.services.retrievers import Changed, dump_set, retriever_or_404, searching_only


class Publishing:
    def __init__(
        self,
        store: Store,
        public_url: str,
        clock: Clock,
        renderers: Renderers,
        changed: Changed = lambda _: None,
        max_published: int = 100,
        documents_in: Callable[[str, str], int] = lambda namespace, collection: 1,
        text_fields: Callable[[str, str], list[str]] = lambda namespace, collection: [],
        embedding_of: Callable[[str, str], dict[str, Any] | None] = lambda n, c: None,
        lacks: Callable[[], Mapping[str, str]] = dict,
        check_backend: Callable[[str, dict[str, Any]], None] = lambda namespace, backend: None,
    ) -> None:
        self.store = store
        self.check_backend = check_backend  # the backend's own check (an upstream's collection)
        self.max_published = max_published
        # A collection's document count and text fields: a retriever searches their exposed ones.
        self.documents_in = documents_in
        self.text_fields = text_fields
        self.embedding_of = embedding_of  # a collection's embedding settings, if it embeds
        self.lacks = lacks  # what the engine does not carry (`SearchEngine.lacks`)
        self.public_url = public_url
        self.clock = clock
        self.renderers = renderers
        # Told the public name of every published retriever that changes (None: maybe any).
        self.changed = changed

    def page_url(self, public_name: str) -> str:
        return urls.absolute(self.public_url, urls.page(public_name))

    # Publishing ---------------------------------------------------------------------------

    def publish(
        self, namespace: str, retriever_id: str, request: PublishRetrieverRequest, by: Byline = API
    ) -> PublishRetrieverResponse:
        texts = self._texts(namespace, retriever_id, check=True)
        try:
            with self.store.write() as tx:
                record, backend = self._new_published(tx, namespace, retriever_id, request, texts)
                tx.insert_published(record)
                snapshot(tx.conn, record, by)  # each publish is a version of the page
            self.changed(record.public_name)  # a name cached as unknown is known now
        except UniqueViolation:
            # Another publisher took the name between our check and our insert.
            if request.public_name is not None:
                raise public_name_taken(request.public_name) from None
            raise Conflict("The public name chosen was taken meanwhile; try again.") from None
        url = self.page_url(record.public_name)
        return PublishRetrieverResponse(
            public_id=record.public_id,
            retriever_id=retriever_id,
            public_name=record.public_name,
            public_url=url,
            short_url=url,
            public_api_key=record.public_api_key,
            password_protected=record.password_secret_name is not None,
            warnings=_warnings(record.display_config)
            + self._backend_warnings(namespace, backend, record.display_config),
        )

    def _backend_warnings(
        self, namespace: str, backend: dict[str, Any], display_config: dict[str, Any]
    ) -> list[str]:
        if backend.get("type") != "local":
            return []
        collection = backend["collection"]
        return warnings.of_collection(
            collection,
            self.documents_in(namespace, collection),
            backend,
            self.embedding_of(namespace, collection),
            display_config["exposed_fields"],
        )

    def _texts(self, namespace: str, retriever_id: str, check: bool = False) -> TextFields:
        """The text fields the retriever's default search fields are chosen from, read before
        the write transaction (and, to `check`, the backend's own check, as no transaction
        waits on an upstream)."""
        with self.store.read() as tx:
            backend = retriever_or_404(tx, namespace, retriever_id).backend
        if check:
            self.check_backend(namespace, backend)
        return texts_of(backend, lambda collection: self.text_fields(namespace, collection))

    def _new_published(
        self,
        tx: Transaction,
        namespace: str,
        retriever_id: str,
        request: PublishRetrieverRequest,
        texts: TextFields,
    ) -> tuple[PublishedRecord, dict[str, Any]]:
        """The record to insert, and the backend of the retriever it publishes."""
        retriever = retriever_or_404(tx, namespace, retriever_id)
        existing = tx.get_published(namespace, retriever_id)
        published = tx.list_published(namespace, 1, 0)[1]
        if existing is None and published >= self.max_published:
            raise Conflict(
                f"This namespace has {published} published retrievers, its limit "
                f"(RETRIEVER_PAGES_MAX_PUBLISHED_PER_NAMESPACE); unpublish one first.",
                details={"current_count": published, "max_allowed": self.max_published},
            )
        if existing is not None:
            raise Conflict(
                f"Retriever {retriever_id} is already published as {existing.public_name!r}; "
                "change it with PATCH or unpublish it with DELETE first."
            )
        display_config = dump_set(request.display_config) or retriever.display_config
        backend = retriever.backend
        if display_config is not None:
            exposed = display_config["exposed_fields"]
            backend = searching_only(tx, retriever, exposed, texts, stamp(self.clock()))
            display_config = {**display_config, "retriever_config": retriever_config(backend)}
            # The retriever's stored config too: a plugin it names may be a draft by now.
            effective = request.display_config or DisplayConfig.model_validate_json(
                jsonutil.dumps(display_config)
            )
            check_display(self.renderers, tx.conn, namespace, effective)
            check_engine_features(backend, effective, self.lacks())
        if display_config is None:
            raise invalid(
                "display_config",
                "required",
                "display_config is required: the retriever has no stored display_config, and "
                "the page needs its inputs and exposed_fields.",
            )
        password = self._password_secret(tx, namespace, request.password_secret_name)
        public_name = choose_public_name(tx, request, retriever)
        now = stamp(self.clock())
        rate_limit = request.rate_limit_config or RateLimitConfig()
        record = PublishedRecord(
            retriever_id=retriever_id,
            namespace=namespace,
            public_id=crypto.new_id(crypto.PUBLIC_ID_PREFIX),
            public_name=public_name,
            public_api_key=crypto.new_token(crypto.PUBLIC_KEY_PREFIX),
            display_name=request.display_name,
            description=request.description,
            icon_base64=request.icon_base64,
            display_config=display_config,
            rate_limit_config=rate_limit.model_dump(mode="json"),
            password_secret_name=password,
            is_active=True,
            tags=request.tags,
            category=request.category,
            retriever_metadata=retriever_metadata(backend) if request.include_metadata else None,
            created_at=now,
            updated_at=now,
            version=1,
        )
        return record, backend

    def _password_secret(self, tx: Transaction, namespace: str, name: str | None) -> str | None:
        if not name:
            return None
        scope = tx.secret_scope(namespace, name)
        if scope is None:
            raise no_such_secret("password_secret_name", name)
        if tx.retrievers_using_secret(scope, name):
            # A key that is sent to an upstream is no password: whoever runs the upstream
            # would know it.
            raise invalid(
                "password_secret_name",
                "a secret that is no upstream's key",
                f"password_secret_name: the secret {name!r} is an upstream's key; "
                "create a secret of its own for the password.",
            )
        return name

    def get_published(self, namespace: str, retriever_id: str) -> PublishedRetrieverResponse:
        with self.store.read() as tx:
            retriever = retriever_or_404(tx, namespace, retriever_id)
            return self._published_response(
                _published_or_404(tx, namespace, retriever_id), retriever
            )

    def update_published(
        self,
        namespace: str,
        retriever_id: str,
        request: UpdatePublishedRetrieverRequest,
        by: Byline = API,
    ) -> PublishedRetrieverResponse:
        texts = self._texts(namespace, retriever_id)
        with self.store.write() as tx:
            retriever = retriever_or_404(tx, namespace, retriever_id)
            current = _published_or_404(tx, namespace, retriever_id, for_update=True)
            changes = self._changes(tx, current, retriever, request, texts)
            updated = current.replace(
                **changes, updated_at=stamp(self.clock()), version=current.version + 1
            )
            tx.update_published(updated)
            if "display_config" in changes:
                snapshot(tx.conn, updated, by)
        self.changed(updated.public_name)
        return self._published_response(updated, retriever)

    def _changes(
        self,
        tx: Transaction,
        current: PublishedRecord,
        retriever: RetrieverRecord,
        request: UpdatePublishedRetrieverRequest,
        texts: TextFields,
    ) -> dict[str, Any]:
        """What the request changes. A field absent or null stays as it is."""
        if request.public_name is not None and request.public_name != current.public_name:
            raise invalid(
                "public_name",
                "cannot change",
                "public_name cannot change; unpublish and publish again to move the page.",
            )
        changes: dict[str, Any] = {}
        if request.display_config is not None:
            check_display(self.renderers, tx.conn, current.namespace, request.display_config)
            exposed = request.display_config.exposed_fields
            backend = searching_only(tx, retriever, exposed, texts, stamp(self.clock()))
            check_engine_features(backend, request.display_config, self.lacks())
            changes["display_config"] = {
                **(dump_set(request.display_config) or {}),
                "retriever_config": retriever_config(backend),
            }
            if current.retriever_metadata is not None:
                changes["retriever_metadata"] = retriever_metadata(backend)
        if request.rate_limit_config is not None:
            changes["rate_limit_config"] = _merge_rate_limit(
                current.rate_limit_config, request.rate_limit_config
            )
        if request.password_secret_name is not None:
            changes["password_secret_name"] = self._password_secret(
                tx, current.namespace, request.password_secret_name
            )
        if request.is_active is not None:
            changes["is_active"] = request.is_active
        if request.tags is not None:
            changes["tags"] = request.tags or None
        for text_field in ("category", "display_name", "description", "icon_base64"):
            value = getattr(request, text_field)
            if value is not None:
                changes[text_field] = value or None
        return changes

    def unpublish(self, namespace: str, retriever_id: str) -> GenericDeleteResponse:
        with self.store.write() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            published = _published_or_404(tx, namespace, retriever_id)
            tx.delete_published(namespace, retriever_id)
        self.changed(published.public_name)
        return GenericDeleteResponse(message=f"Retriever {retriever_id} unpublished")

    def list_published(self, namespace: str, limit: int, offset: int) -> PublishedRetrieverList:
        with self.store.read() as tx:
            records, total = tx.list_published(namespace, limit, offset)
            results = []
            for record in records:
                retriever = retriever_or_404(tx, namespace, record.retriever_id)
                results.append(self._published_response(record, retriever))
        return PublishedRetrieverList(results=results, total=total, limit=limit, offset=offset)

    def availability(
        self, namespace: str, retriever_id: str, name: str
    ) -> PublicNameAvailabilityResponse:
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            if not (3 <= len(name) <= 50 and PUBLIC_NAME.fullmatch(name)):
                return PublicNameAvailabilityResponse(
                    name=name,
                    available=False,
                    reason=f"A public name is {PUBLIC_NAME_RULE}.",
                )
            page = page_holds(tx, namespace, retriever_id, name)
            if page is not None or tx.get_published_by_name(name) is not None:
                reason = page or "This public name is taken."
                return PublicNameAvailabilityResponse(name=name, available=False, reason=reason)
        return PublicNameAvailabilityResponse(name=name, available=True)

    def _published_response(
        self, record: PublishedRecord, retriever: RetrieverRecord
    ) -> PublishedRetrieverResponse:
        return PublishedRetrieverResponse(
            retriever_id=record.retriever_id,
            retriever_name=retriever.retriever_name,
            public_id=record.public_id,
            public_name=record.public_name,
            public_url=self.page_url(record.public_name),
            display_name=record.display_name,
            description=record.description,
            icon_base64=record.icon_base64,
            public_api_key=record.public_api_key,
            display_config=record.display_config,
            rate_limit_config=record.rate_limit_config,
            password_protected=record.password_secret_name is not None,
            password_secret_name=record.password_secret_name,
            is_active=record.is_active,
            retriever_metadata=record.retriever_metadata,
            tags=record.tags,
            category=record.category,
            namespace_id=record.namespace,
            created_at=datetime.fromisoformat(record.created_at),
            updated_at=datetime.fromisoformat(record.updated_at),
            warnings=_warnings(record.display_config),
        )


def _merge_rate_limit(current: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    try:
        merged = RateLimitConfig.model_validate_json(jsonutil.dumps({**current, **sent}))
    except ValidationError as exc:
        raise from_validation_error(exc, prefix=("rate_limit_config",)) from None
    return merged.model_dump(mode="json")


def _warnings(display_config: dict[str, Any]) -> list[str]:
    """What the publisher should fix but may keep: today, theme contrast below WCAG AA."""
    return contrast_warnings(DisplayConfig.model_validate_json(jsonutil.dumps(display_config)))


def _published_or_404(
    tx: Transaction, namespace: str, retriever_id: str, *, for_update: bool = False
) -> PublishedRecord:
    record = tx.get_published(namespace, retriever_id, for_update=for_update)
    if record is None:
        raise NotFound(f"Retriever {retriever_id!r} is not published.")
    return record
