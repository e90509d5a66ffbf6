"""Pages, the owner's side (`/v1/pages`): create, read, list, change and delete a namespace's
pages of tabs.

A page's slug and the retrievers' public names are one set of URLs: a slug may not be a name
another retriever is published under, except the single-tab page of that same retriever (the
page it would get by publishing; see `docs/pages.md`). Every check that needs the store runs
inside the write, so that a refused change writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from app import crypto, urls
from app.adapters.clock import Clock, stamp
from app.adapters.store import Store, UniqueViolation
from app.adapters.store import pages as rows
from app.adapters.store.pages import PageRecord
from app.errors import Conflict, InvalidInput, NotFound, from_validation_error, invalid
from app.schemas.pages import (
    ALL_TAB,
    PAGE_ID_PREFIX,
    CreatePageRequest,
    FrameProps,
    MarkdownProps,
    PageDeleteResponse,
    PageList,
    PageResponse,
    PageTab,
    PageTabResponse,
    SectionConfig,
    UpdatePageRequest,
)

# The props each section type takes (None: it takes none; it draws the page's own fields).
SECTION_PROPS: dict[str, type[BaseModel] | None] = {
    "hero": None,
    "stats-bar": None,
    "featured-gallery": None,
    "search-tabs": None,
    "markdown-content": MarkdownProps,
    "iframe-embed": FrameProps,
}
BODY_FIELDS = (
    "meta",
    "tabs",
    "hero",
    "stats",
    "featured_gallery",
    "sections",
    "custom_html",
    "all_tab",
)


class Pages:
    def __init__(
        self,
        store: Store,
        public_url: str,
        clock: Clock,
        changed: Callable[[str | None], None] = lambda _: None,
    ) -> None:
        self.store = store
        self.public_url = public_url
        self.clock = clock
        self.changed = changed  # told each slug whose page changes (the public side's cache)

    def create(self, namespace: str, request: CreatePageRequest) -> PageResponse:
        now = stamp(self.clock())
        body = request.model_dump(mode="json", include=set(BODY_FIELDS))
        record = PageRecord(
            page_id=crypto.new_id(PAGE_ID_PREFIX),
            namespace=namespace,
            slug=request.slug,
            config=body,
            is_active=request.is_active,
            version=1,
            created_at=now,
            updated_at=now,
        )
        try:
            with self.store.write() as tx:
                record = record.replace(config=_checked(tx.conn, namespace, request.slug, body))
                rows.insert(tx.conn, record)
                names = _names(tx.conn, record)
        except UniqueViolation:
            raise _slug_taken(request.slug) from None
        self.changed(record.slug)
        return self._response(record, names)

    def get(self, namespace: str, page_id: str) -> PageResponse:
        with self.store.read() as tx:
            record = _page_or_404(tx.conn, namespace, page_id)
            return self._response(record, _names(tx.conn, record))

    def list(self, namespace: str, limit: int, offset: int) -> PageList:
        with self.store.read() as tx:
            records, total = rows.listing(tx.conn, namespace, limit, offset)
            results = [self._response(r, _names(tx.conn, r)) for r in records]
        return PageList(results=results, total=total, limit=limit, offset=offset)

    def update(self, namespace: str, page_id: str, request: UpdatePageRequest) -> PageResponse:
        # The fields sent, each whole with its defaults (a tab sent without an order has none).
        full = request.model_dump(mode="json")
        sent = {key: full[key] for key in request.model_fields_set}
        try:
            with self.store.write() as tx:
                current = _page_or_404(tx.conn, namespace, page_id)
                slug = sent.get("slug") or current.slug
                body = {**current.config, **{k: v for k, v in sent.items() if k in BODY_FIELDS}}
                for key in ("meta", "tabs", "all_tab", "stats", "sections"):
                    if key in sent and sent[key] is None:
                        raise invalid(key, "a value", f"{key} cannot be null; send a value.")
                config = _checked(tx.conn, namespace, slug, body, current.slug)
                record = current.replace(
                    slug=slug,
                    config=config,
                    is_active=current.is_active if request.is_active is None else request.is_active,
                    version=current.version + 1,
                    updated_at=stamp(self.clock()),
                )
                rows.update(tx.conn, record)
                names = _names(tx.conn, record)
        except UniqueViolation:
            raise _slug_taken(slug) from None
        self.changed(current.slug)
        self.changed(record.slug)
        return self._response(record, names)

    def delete(self, namespace: str, page_id: str) -> PageDeleteResponse:
        with self.store.write() as tx:
            record = _page_or_404(tx.conn, namespace, page_id)
            rows.delete(tx.conn, record.page_id)
        self.changed(record.slug)
        return PageDeleteResponse(message=f"Page {record.page_id} deleted")

    def _response(self, record: PageRecord, names: dict[str, str]) -> PageResponse:
        config = record.config
        tabs = [
            PageTabResponse(**tab, public_name=names.get(tab["retriever_id"]))
            for tab in config["tabs"]
        ]
        return PageResponse.model_validate(
            {
                **config,
                "page_id": record.page_id,
                "slug": record.slug,
                "url": urls.absolute(self.public_url, urls.tab_page(record.slug)),
                "namespace_id": record.namespace,
                "tabs": tabs,
                "is_active": record.is_active,
                "version": record.version,
                "created_at": datetime.fromisoformat(record.created_at),
                "updated_at": datetime.fromisoformat(record.updated_at),
            },
            strict=False,
        )


def _checked(
    conn: Any, namespace: str, slug: str, body: dict[str, Any], current_slug: str | None = None
) -> dict[str, Any]:
    """The page's body once every rule that needs the store or reads across fields holds:
    tabs name published retrievers of the namespace, keys are unique, sections' props fit
    their type, and the slug is free."""
    tabs = [PageTab.model_validate(tab, strict=False) for tab in body["tabs"]]
    keys = [tab.tab_id for tab in tabs]
    for i, key in enumerate(keys):
        if key == ALL_TAB:
            raise invalid(
                f"tabs[{i}].tab_id",
                f"not {ALL_TAB!r}, the merged tab's key",
                f"tabs[{i}].tab_id: {ALL_TAB!r} is the merged tab's key; choose another.",
            )
        if key in keys[:i]:
            raise invalid(f"tabs[{i}].tab_id", "unique", f"tabs[{i}].tab_id {key!r} is used twice.")
    names = rows.published_names(conn, namespace, [tab.retriever_id for tab in tabs])
    for i, tab in enumerate(tabs):
        if tab.retriever_id not in names:
            raise invalid(
                f"tabs[{i}].retriever_id",
                "a published retriever of this namespace",
                f"tabs[{i}].retriever_id: no published retriever {tab.retriever_id!r} in this "
                "namespace; publish it first.",
            )
    for i, stat in enumerate(body.get("stats") or []):
        if stat.get("tab_id") is not None and stat["tab_id"] not in keys:
            raise _not_a_tab(f"stats[{i}].tab_id", stat["tab_id"], keys)
    gallery = body.get("featured_gallery")
    if gallery and gallery.get("tab_id") is not None and gallery["tab_id"] not in keys:
        raise _not_a_tab("featured_gallery.tab_id", gallery["tab_id"], keys)
    body = {**body, "sections": _sections(body.get("sections") or [])}
    _check_slug(conn, namespace, slug, tabs, current_slug)
    return body


def _not_a_tab(field: str, value: Any, keys: list[str]) -> InvalidInput:
    allowed = f"one of the tabs' ids: {', '.join(keys)}"
    return invalid(field, allowed, f"{field}: {value!r} is not a tab of this page; {allowed}.")


def _sections(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each section with its props checked against its type and an id (`{type}-{n}` unless
    given), unique on the page."""
    checked: list[dict[str, Any]] = []
    for i, raw in enumerate(sections):
        section = SectionConfig.model_validate(raw, strict=False)
        model = SECTION_PROPS[section.type]
        props: dict[str, Any] | None = None
        if model is None and section.props:
            raise invalid(
                f"sections[{i}].props",
                "none",
                f"sections[{i}].props: a {section.type} section takes no props; it shows the "
                "page's own fields.",
            )
        if model is not None:
            try:
                props = model.model_validate(section.props or {}).model_dump(mode="json")
            except ValidationError as exc:
                raise from_validation_error(exc, prefix=("sections", i, "props")) from None
        section_id = section.section_id or f"{section.type}-{i + 1}"
        if any(s["section_id"] == section_id for s in checked):
            raise invalid(
                f"sections[{i}].section_id",
                "unique on the page",
                f"sections[{i}].section_id: {section_id!r} is used twice; each section's id is "
                "unique on the page.",
            )
        checked.append(
            {**section.model_dump(mode="json"), "section_id": section_id, "props": props}
        )
    if sum(s["type"] == "search-tabs" for s in checked) > 1:
        raise invalid(
            "sections",
            "at most one search-tabs section (where the tabs go)",
            "sections: at most one search-tabs section (where the tabs go); this page has "
            f"{sum(s['type'] == 'search-tabs' for s in checked)}.",
        )
    return checked


def _check_slug(
    conn: Any, namespace: str, slug: str, tabs: list[PageTab], current: str | None
) -> None:
    if slug != current and rows.slug_taken(conn, slug):
        raise _slug_taken(slug)
    holder = rows.published_owner(conn, slug)
    if holder is None:
        return
    own = len(tabs) == 1 and holder == (namespace, tabs[0].retriever_id)
    if not own:
        raise Conflict(
            f"The slug {slug!r} is a published retriever's public name; a page may take it only "
            "as that retriever's single-tab page."
        )


def _names(conn: Any, record: PageRecord) -> dict[str, str]:
    ids = [tab["retriever_id"] for tab in record.config["tabs"]]
    return rows.published_names(conn, record.namespace, ids)


def _page_or_404(conn: Any, namespace: str, page_id: str) -> PageRecord:
    record = rows.get(conn, namespace, page_id)
    if record is None:
        raise NotFound(f"No page {page_id!r} in this namespace.")
    return record


def _slug_taken(slug: str) -> Conflict:
    return Conflict(f"The slug {slug!r} is taken; choose another.")
