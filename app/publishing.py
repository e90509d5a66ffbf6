"""The publishing service: retrievers, and their published pages' configuration.

Every change happens inside one store transaction: validation that needs the store (secrets
exist, names are free) runs there too, so that a rejected request writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from app import crypto, jsonutil
from app.clock import Clock, stamp
from app.errors import Conflict, InvalidInput, NotFound, from_validation_error
from app.rendering.theme import contrast_warnings
from app.schemas.base import PUBLIC_NAME
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
from app.schemas.retrievers import CreateRetrieverRequest, RetrieverList, RetrieverResponse
from app.store import PublishedRecord, RetrieverRecord, Store, Transaction, UniqueViolation

MAX_NAME_SUFFIX = 100


Changed = Callable[[str | None], None]


class Publishing:
    def __init__(
        self, store: Store, public_url: str, clock: Clock, changed: Changed = lambda _: None
    ) -> None:
        self.store = store
        self.public_url = public_url
        self.clock = clock
        # Told the public name of every published retriever that changes (None: maybe any).
        self.changed = changed

    def page_url(self, public_name: str) -> str:
        return f"{self.public_url}/r/{public_name}"

    # Retrievers ---------------------------------------------------------------------------

    def create_retriever(
        self, namespace: str, request: CreateRetrieverRequest
    ) -> RetrieverResponse:
        now = stamp(self.clock())
        record = RetrieverRecord(
            retriever_id=crypto.new_id(crypto.RETRIEVER_ID_PREFIX),
            namespace=namespace,
            retriever_name=request.retriever_name,
            description=request.description,
            input_schema=_dump(request.input_schema),
            backend=request.backend.model_dump(mode="json"),
            display_config=_dump(request.display_config),
            created_at=now,
            updated_at=now,
        )
        try:
            with self.store.write() as tx:
                if tx.retriever_name_taken(namespace, request.retriever_name):
                    raise _retriever_name_taken(request.retriever_name)
                secret = record.backend.get("api_key_secret_name")
                if secret is not None and not tx.secret_exists(namespace, secret):
                    raise _no_such_secret("backend.api_key_secret_name", secret)
                tx.insert_retriever(record)
        except UniqueViolation:
            raise _retriever_name_taken(request.retriever_name) from None
        return retriever_response(record, None)

    def get_retriever(self, namespace: str, retriever_id: str) -> RetrieverResponse:
        with self.store.read() as tx:
            record = _retriever_or_404(tx, namespace, retriever_id)
            return retriever_response(record, tx.get_published(namespace, retriever_id))

    def list_retrievers(self, namespace: str, limit: int, offset: int) -> RetrieverList:
        with self.store.read() as tx:
            records, total = tx.list_retrievers(namespace, limit, offset)
            results = [
                retriever_response(r, tx.get_published(namespace, r.retriever_id)) for r in records
            ]
        return RetrieverList(results=results, total=total, limit=limit, offset=offset)

    def delete_retriever(self, namespace: str, retriever_id: str) -> GenericDeleteResponse:
        with self.store.write() as tx:
            published = tx.get_published(namespace, retriever_id)
            if not tx.delete_retriever(namespace, retriever_id):
                raise _retriever_not_found(retriever_id)
        self.changed(published.public_name if published else None)
        return GenericDeleteResponse(message=f"Retriever {retriever_id} deleted")

    # Publishing ---------------------------------------------------------------------------

    def publish(
        self, namespace: str, retriever_id: str, request: PublishRetrieverRequest
    ) -> PublishRetrieverResponse:
        try:
            with self.store.write() as tx:
                record = self._new_published(tx, namespace, retriever_id, request)
                tx.insert_published(record)
            self.changed(record.public_name)  # a name cached as unknown is known now
        except UniqueViolation:
            # Another publisher took the name between our check and our insert.
            if request.public_name is not None:
                raise _public_name_taken(request.public_name) from None
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
            warnings=_warnings(record.display_config),
        )

    def _new_published(
        self, tx: Transaction, namespace: str, retriever_id: str, request: PublishRetrieverRequest
    ) -> PublishedRecord:
        retriever = _retriever_or_404(tx, namespace, retriever_id)
        existing = tx.get_published(namespace, retriever_id)
        if existing is not None:
            raise Conflict(
                f"Retriever {retriever_id} is already published as {existing.public_name!r}; "
                "change it with PATCH or unpublish it with DELETE first."
            )
        display_config = _dump(request.display_config) or retriever.display_config
        if display_config is None:
            raise InvalidInput(
                "display_config is required: the retriever has no stored display_config, and "
                "the page needs its inputs and exposed_fields.",
                details={"errors": [{"field": "display_config", "message": "required"}]},
            )
        password = self._password_secret(tx, namespace, request.password_secret_name)
        public_name = self._choose_public_name(tx, request, retriever.retriever_name)
        now = stamp(self.clock())
        rate_limit = request.rate_limit_config or RateLimitConfig()
        return PublishedRecord(
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
            retriever_metadata=_metadata(retriever) if request.include_metadata else None,
            created_at=now,
            updated_at=now,
            version=1,
        )

    def _choose_public_name(
        self, tx: Transaction, request: PublishRetrieverRequest, retriever_name: str
    ) -> str:
        if request.public_name is not None:
            if tx.public_name_taken(request.public_name):
                raise _public_name_taken(request.public_name)
            return request.public_name
        base = slugify(request.display_name or retriever_name)
        for n in range(1, MAX_NAME_SUFFIX + 1):
            candidate = base if n == 1 else f"{base[:46]}-{n}"
            if not tx.public_name_taken(candidate):
                return candidate
        raise Conflict(f"No free public_name near {base!r}; choose one with public_name.")

    def _password_secret(self, tx: Transaction, namespace: str, name: str | None) -> str | None:
        if not name:
            return None
        if not tx.secret_exists(namespace, name):
            raise _no_such_secret("password_secret_name", name)
        return name

    def get_published(self, namespace: str, retriever_id: str) -> PublishedRetrieverResponse:
        with self.store.read() as tx:
            retriever = _retriever_or_404(tx, namespace, retriever_id)
            return self._published_response(
                _published_or_404(tx, namespace, retriever_id), retriever
            )

    def update_published(
        self, namespace: str, retriever_id: str, request: UpdatePublishedRetrieverRequest
    ) -> PublishedRetrieverResponse:
        with self.store.write() as tx:
            retriever = _retriever_or_404(tx, namespace, retriever_id)
            current = _published_or_404(tx, namespace, retriever_id, for_update=True)
            changes = self._changes(tx, current, request)
            updated = current.replace(
                **changes, updated_at=stamp(self.clock()), version=current.version + 1
            )
            tx.update_published(updated)
        self.changed(updated.public_name)
        return self._published_response(updated, retriever)

    def _changes(
        self, tx: Transaction, current: PublishedRecord, request: UpdatePublishedRetrieverRequest
    ) -> dict[str, Any]:
        """What the request changes. A field absent or null stays as it is."""
        if request.public_name is not None and request.public_name != current.public_name:
            raise InvalidInput(
                "public_name cannot change; unpublish and publish again to move the page.",
                details={"errors": [{"field": "public_name", "message": "cannot change"}]},
            )
        changes: dict[str, Any] = {}
        if request.display_config is not None:
            changes["display_config"] = _dump(request.display_config)
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
            _retriever_or_404(tx, namespace, retriever_id)
            published = _published_or_404(tx, namespace, retriever_id)
            tx.delete_published(namespace, retriever_id)
        self.changed(published.public_name)
        return GenericDeleteResponse(message=f"Retriever {retriever_id} unpublished")

    def list_published(self, namespace: str, limit: int, offset: int) -> PublishedRetrieverList:
        with self.store.read() as tx:
            records, total = tx.list_published(namespace, limit, offset)
            results = []
            for record in records:
                retriever = _retriever_or_404(tx, namespace, record.retriever_id)
                results.append(self._published_response(record, retriever))
        return PublishedRetrieverList(results=results, total=total, limit=limit, offset=offset)

    def interactions(
        self, namespace: str, retriever_id: str, limit: int, offset: int
    ) -> dict[str, Any]:
        """What users clicked and viewed on the retriever's page, newest first."""
        with self.store.read() as tx:
            _retriever_or_404(tx, namespace, retriever_id)
            rows, total = tx.list_interactions(namespace, retriever_id, limit, offset)
        for row in rows:
            row.pop("namespace", None)
        return {"results": rows, "total": total, "limit": limit, "offset": offset}

    def availability(
        self, namespace: str, retriever_id: str, name: str
    ) -> PublicNameAvailabilityResponse:
        with self.store.read() as tx:
            _retriever_or_404(tx, namespace, retriever_id)
            if not (3 <= len(name) <= 50 and PUBLIC_NAME.fullmatch(name)):
                return PublicNameAvailabilityResponse(
                    name=name,
                    available=False,
                    reason="A public name is 3 to 50 lowercase letters, digits and hyphens, "
                    "starting and ending with a letter or digit.",
                )
            if tx.public_name_taken(name):
                return PublicNameAvailabilityResponse(
                    name=name, available=False, reason="This public name is taken."
                )
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


def retriever_response(
    record: RetrieverRecord, published: PublishedRecord | None
) -> RetrieverResponse:
    return RetrieverResponse(
        retriever_id=record.retriever_id,
        retriever_name=record.retriever_name,
        description=record.description,
        input_schema=record.input_schema,
        backend=record.backend,
        display_config=record.display_config,
        is_published=published is not None,
        public_name=published.public_name if published else None,
        namespace_id=record.namespace,
        created_at=datetime.fromisoformat(record.created_at),
        updated_at=datetime.fromisoformat(record.updated_at),
    )


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50].strip("-")
    return slug if len(slug) >= 3 else (slug + "-search").strip("-")


def _merge_rate_limit(current: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    try:
        merged = RateLimitConfig.model_validate_json(jsonutil.dumps({**current, **sent}))
    except ValidationError as exc:
        raise from_validation_error(exc, prefix=("rate_limit_config",)) from None
    return merged.model_dump(mode="json")


def _warnings(display_config: dict[str, Any]) -> list[str]:
    """What the publisher should fix but may keep: today, theme contrast below WCAG AA."""
    config = DisplayConfig.model_validate_json(jsonutil.dumps(display_config))
    return contrast_warnings(config)


def _metadata(retriever: RetrieverRecord) -> dict[str, Any]:
    """What the public may know of how the retriever works: never URLs or secret names."""
    backend = retriever.backend
    metadata: dict[str, Any] = {
        "stages": [],
        "capabilities": {"backend": backend["type"]},
        "collections": [],
    }
    if backend["type"] == "local":
        metadata["collections"] = [
            {"collection_name": backend["collection"], "search_fields": backend["search_fields"]}
        ]
        metadata["capabilities"].update(full_text_search=True, prefix_search=True)
    return metadata


def _dump(model: Any) -> Any:
    if model is None:
        return None
    if isinstance(model, dict):
        return {key: _dump(value) for key, value in model.items()}
    # Only what the publisher set is stored, so a config reads back exactly as it was sent;
    # defaults are applied when the config is used.
    return model.model_dump(mode="json", exclude_unset=True)


def _retriever_or_404(tx: Transaction, namespace: str, retriever_id: str) -> RetrieverRecord:
    record = tx.get_retriever(namespace, retriever_id)
    if record is None:
        raise _retriever_not_found(retriever_id)
    return record


def _published_or_404(
    tx: Transaction, namespace: str, retriever_id: str, *, for_update: bool = False
) -> PublishedRecord:
    record = tx.get_published(namespace, retriever_id, for_update=for_update)
    if record is None:
        raise _not_published(retriever_id)
    return record


def _retriever_not_found(retriever_id: str) -> NotFound:
    return NotFound(f"No retriever {retriever_id!r} in this namespace.")


def _not_published(retriever_id: str) -> NotFound:
    return NotFound(f"Retriever {retriever_id!r} is not published.")


def _retriever_name_taken(name: str) -> Conflict:
    return Conflict(f"A retriever named {name!r} already exists in this namespace.")


def _public_name_taken(name: str) -> Conflict:
    return Conflict(
        f"The public name {name!r} is taken; choose another "
        "(GET .../publish/availability?name= tells which are free)."
    )


def _no_such_secret(field: str, name: str) -> InvalidInput:
    return InvalidInput(
        f"{field}: no secret named {name!r} exists in this namespace; "
        "create it first with POST /v1/organizations/secrets.",
        details={"errors": [{"field": field, "message": f"secret {name!r} does not exist"}]},
    )
