"""The console's page editor: a retriever's draft display config, read from the editor's
form or its JSON (see `editor_input`), checked by the models and checks the owner API's
publish call uses, kept in the store until it is published, and the retriever that renders
it for the preview (the public page's own renderer, with the draft in place of the page).

A draft is only ever saved valid: the form's errors come back by field name instead."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError

from app import crypto, jsonutil
from app.adapters.backends import Backends
from app.adapters.clock import Clock, stamp
from app.adapters.store import PublishedRecord, Store
from app.adapters.store import page_versions as stored
from app.adapters.store.page_versions import DraftRecord
from app.errors import from_validation_error
from app.rendering.registry import Renderers
from app.rendering.theme import Scheme, page_css
from app.schemas.display import MAX_EXPOSED_FIELDS, DisplayConfig
from app.schemas.publishing import RateLimitConfig
from app.services.backend_checks import chosen_by_server
from app.services.catalog import PublicRetriever
from app.services.configs import WHERE, check_display
from app.services.console_collections import CollectionSummary, ConsoleCollections
from app.services.console_starter import starter
from app.services.format_kinds import check_formats
from app.services.plugins import plugin_frames
from app.services.publishing import slugify
from app.services.retrievers import retriever_or_404
from app.services.versions import edited

UNSTYLED_HIDDEN = "html{visibility:var(--styled,hidden)}"


@dataclass(frozen=True)
class Draft:
    """What the editor starts from: the draft if one is saved, else the page as published,
    else the retriever's own config, else a starter."""

    retriever_id: str
    retriever_name: str
    config: dict[str, Any]
    published: dict[str, Any] | None  # what the page shows now
    public_name: str | None
    saved_by: str | None
    saved_at: str | None
    # The collection searched (None for an upstream) and its fields, offered as checkboxes.
    collection: str | None = None
    fields: tuple[str, ...] = ()
    searched: tuple[str, ...] = ()  # the fields it searches, which a page must show
    # Those of them the page must show to publish: the fields named to search (fields the
    # server chose are chosen again among those shown).
    must_show: tuple[str, ...] = ()
    # The kind of value each field of the collection holds ("number", "date"…): the formats
    # a field may have follow from it (`format_kinds`).
    kinds: Mapping[str, str] = field(default_factory=dict)

    @property
    def pending(self) -> bool:
        """Whether the draft differs from the page published."""
        return self.saved_at is not None and self.config != self.published


@dataclass(frozen=True)
class PreviewRetriever(PublicRetriever):
    """A draft as the page renders it, in the reader's colours or forced light or dark."""

    scheme: Scheme = "auto"

    @cached_property
    def theme_css(self) -> Markup:
        # In a frame, Chromium may paint the page before its stylesheet applies: it stays
        # hidden until app.css (which sets --styled) has, so that nothing shifts in view.
        return Markup(UNSTYLED_HIDDEN) + page_css(self.display, self.scheme)  # noqa: S704 - a constant


class ConsoleEditor:
    def __init__(
        self,
        store: Store,
        renderers: Renderers,
        backends: Backends,
        clock: Clock,
        collections: ConsoleCollections,
    ) -> None:
        self.store = store
        self.renderers = renderers
        self.backends = backends
        self.clock = clock
        self.collections = collections

    def draft(self, namespace: str, retriever_id: str) -> Draft:
        with self.store.read() as tx:
            retriever = retriever_or_404(tx, namespace, retriever_id)
            published = tx.get_published(namespace, retriever_id)
            saved = stored.draft(tx.conn, namespace, retriever_id)
        now = edited(published.display_config) if published else None
        backend = retriever.backend
        collection = backend.get("collection") if backend.get("type") == "local" else None
        summary = self._summary(namespace, collection)
        fields = summary.fields[:MAX_EXPOSED_FIELDS] if summary else []
        config = (
            (saved.display_config if saved else None)
            or now
            or (edited(retriever.display_config) if retriever.display_config else None)
            or starter(
                retriever.retriever_name,
                backend,
                fields,
                summary.kinds if summary else None,
                summary.lengths if summary else None,
            )
        )
        return Draft(
            retriever_id=retriever_id,
            retriever_name=retriever.retriever_name,
            config=config,
            published=now,
            public_name=published.public_name if published else None,
            saved_by=saved.saved_by if saved else None,
            saved_at=saved.saved_at if saved else None,
            collection=collection,
            fields=tuple(fields),
            searched=tuple(str(f) for f in backend.get("search_fields") or ()),
            must_show=()
            if collection is None or chosen_by_server(backend)
            else tuple(str(f) for f in backend.get("search_fields") or ()),
            kinds=dict(summary.kinds) if summary else {},
        )

    def _summary(self, namespace: str, collection: Any) -> CollectionSummary | None:
        """A collection of this server (its fields are those of its first documents); none
        for an upstream or a collection gone."""
        if not isinstance(collection, str) or collection not in self.collections.names(namespace):
            return None
        return self.collections.summary(namespace, collection)

    def who(self, key_hash: str, role: str, namespace: str) -> str:
        """Who saves or publishes, as the versions list shows it: the key's label if it has
        one, its role and namespace; never the key or its hash."""
        with self.store.read() as tx:
            label = stored.key_label(tx.conn, key_hash)
        named = f"{label}, " if label else ""
        return f"{named}{role} key ({namespace}, console)"

    def check(
        self, namespace: str, config: dict[str, Any], kinds: Mapping[str, str] | None = None
    ) -> DisplayConfig:
        """The config as the publish call would take it, or `InvalidInput` naming each field;
        with `kinds` (a draft's), each field's format fits the kind of value it holds."""
        try:
            model = DisplayConfig.model_validate_json(jsonutil.dumps(config))
        except ValidationError as error:
            raise from_validation_error(error) from None
        with self.store.read() as tx:
            check_display(self.renderers, tx.conn, namespace, model)
        check_formats(config, kinds or {}, WHERE)
        return model

    def save(self, namespace: str, retriever_id: str, config: dict[str, Any], who: str) -> None:
        """Check and keep the draft (nothing public changes)."""
        model = self.check(namespace, config, self.draft(namespace, retriever_id).kinds)
        kept = model.model_dump(mode="json", exclude_unset=True)
        with self.store.write() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            record = DraftRecord(retriever_id, namespace, edited(kept), who, stamp(self.clock()))
            stored.put_draft(tx.conn, record)

    def discard(self, namespace: str, retriever_id: str) -> None:
        with self.store.write() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            stored.drop_draft(tx.conn, namespace, retriever_id)

    def preview(
        self,
        namespace: str,
        retriever_id: str,
        scheme: Scheme = "auto",
        unsaved: dict[str, Any] | None = None,
    ) -> PreviewRetriever:
        """The retriever as the public page would render it with the draft published, or
        with `unsaved` (the editor's form, not saved yet: checked here as saving checks it)."""
        if unsaved is not None:
            model = self.check(namespace, unsaved)
            config = edited(model.model_dump(mode="json", exclude_unset=True))
        else:
            config = dict(self.draft(namespace, retriever_id).config)
        # Answers kept in memory are the public page's: a preview neither reads nor adds any.
        config["extensions"] = {
            k: v for k, v in (config.get("extensions") or {}).items() if k != "query_cache_seconds"
        }
        display = DisplayConfig.model_validate_json(jsonutil.dumps(config))
        with self.store.read() as tx:
            retriever = retriever_or_404(tx, namespace, retriever_id)
            published = tx.get_published(namespace, retriever_id)
            frames = plugin_frames(tx.conn, namespace, display)
        record = published or _unpublished(retriever_id, namespace, retriever.retriever_name)
        version = _draft_version(config, retriever.backend)
        return PreviewRetriever(
            record=record.replace(display_config=config, version=version),
            backend=self.backends.parse(retriever.backend),
            display=display,
            rate_limit=RateLimitConfig(),  # a preview is never counted
            frames=frames,
            scheme=scheme,
        )


def _draft_version(config: dict[str, Any], backend: dict[str, Any]) -> int:
    """The version a preview of this draft goes by: what the page keeps per version (the
    filters panel's choices, counted over the whole collection) is kept per draft, so each
    draft saved is counted afresh and the same draft previewed again is not. Below zero, it is
    never the public page's (its versions start at 1)."""
    digest = hashlib.sha256(jsonutil.dumps([config, backend])).digest()
    return -(int.from_bytes(digest[:8]) >> 1) - 1


def _unpublished(retriever_id: str, namespace: str, name: str) -> PublishedRecord:
    return PublishedRecord(
        retriever_id=retriever_id,
        namespace=namespace,
        # The same for each preview of the retriever, so that a draft previewed again reuses
        # what was counted for it (a new id each time would count the collection each time).
        public_id=f"{crypto.PUBLIC_ID_PREFIX}preview_{retriever_id}",
        public_name=slugify(name),
        public_api_key="",
        display_name=None,
        description=None,
        icon_base64=None,
        display_config={},
        rate_limit_config={},
        password_secret_name=None,
        is_active=False,
        tags=None,
        category=None,
        retriever_metadata=None,
        created_at="",
        updated_at="",
        version=0,
    )
