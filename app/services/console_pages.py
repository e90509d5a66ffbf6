"""The console's pages of tabs: the namespace's pages, and a form that makes or changes one
through `Pages`, the service `/v1/pages` calls, with the same models, so that every check is
the same and each refusal is told beside its field (`docs/console.md`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from app.errors import InvalidInput, from_validation_error
from app.schemas.pages import CreatePageRequest, FrameProps, PageResponse, UpdatePageRequest
from app.services.console_retrievers import ConsoleRetrievers
from app.services.pages import Pages

MAX_PAGES = 200
_FRAME_DEFAULTS = FrameProps().model_dump(mode="json")
MODES = ("merged", "grouped")


@dataclass(frozen=True)
class TabChoice:
    """A published retriever of the namespace, as the form offers it for a tab."""

    retriever_id: str
    name: str
    public_name: str


@dataclass
class TabRow:
    retriever_id: str
    name: str
    picked: bool = False
    tab_id: str = ""
    label: str = ""
    order: str = ""


@dataclass
class PageForm:
    """What the page form sends, as sent (and what it shows again when refused)."""

    slug: str = ""
    title: str = ""
    description: str = ""
    tabs: list[TabRow] = field(default_factory=list)
    all_enabled: bool = False
    all_mode: str = "merged"
    hero_headline: str = ""
    hero_subheadline: str = ""
    stats: str = ""  # one a line: "Label: value", or "Label: tab:products" (its documents)
    featured_title: str = ""
    featured_tab: str = ""
    featured_ids: str = ""
    markdown_title: str = ""
    markdown: str = ""
    custom_html: str = ""
    is_active: bool = True


class ConsolePages:
    def __init__(self, pages: Pages, retrievers: ConsoleRetrievers) -> None:
        self.pages = pages
        self.retrievers = retrievers

    def choices(self, namespace: str) -> list[TabChoice]:
        return [
            TabChoice(row.retriever_id, row.name, row.public_name)
            for row in self.retrievers.rows(namespace)
            if row.published and row.public_name
        ]

    def listing(self, namespace: str) -> list[PageResponse]:
        return self.pages.list(namespace, MAX_PAGES, 0).results

    def blank(self, namespace: str) -> PageForm:
        rows = [
            TabRow(c.retriever_id, c.name, False, c.public_name[:30], c.name[:40])
            for c in self.choices(namespace)
        ]
        return PageForm(tabs=rows)

    def form_of(self, namespace: str, page: PageResponse) -> PageForm:
        """A stored page as the form shows it: its tabs picked, the other retrievers offered."""
        form = self.blank(namespace)
        offered = {row.retriever_id for row in form.tabs}
        gone = [  # a tab whose retriever is not published now: kept, and refused if saved
            TabRow(t.retriever_id, f"{t.label} (not published)")
            for t in page.tabs
            if t.retriever_id not in offered
        ]
        form.tabs = gone + form.tabs
        by_id = {t.retriever_id: t for t in page.tabs}
        picked = [r for r in form.tabs if r.retriever_id in by_id]
        for row in picked:
            tab = by_id[row.retriever_id]
            row.picked, row.tab_id, row.label = True, tab.tab_id, tab.label
            row.order = "" if tab.order is None else str(tab.order)
        form.tabs = picked + [r for r in form.tabs if r.retriever_id not in by_id]
        _fill(form, page)
        return form

    def create(self, namespace: str, form: PageForm) -> PageResponse:
        """The page made from the form, or `InvalidInput` (see `form_errors`) or the API's
        own errors (409 for a slug taken)."""
        try:
            request = CreatePageRequest.model_validate(body_of(form))
        except ValidationError as exc:
            raise from_validation_error(exc) from None
        return self.pages.create(namespace, request)

    def update(
        self, namespace: str, page_id: str, form: PageForm, stored: PageResponse
    ) -> PageResponse:
        """The page changed as the form says, keeping what the form does not show: the hero's
        colours and call to action, the logo, the All tab's label and size, and sections laid
        out in a way the form cannot draw (`kept_sections`)."""
        body = body_of(form)
        body["meta"] = {**stored.meta.model_dump(mode="json"), **body["meta"]}
        body["all_tab"] = {**stored.all_tab.model_dump(mode="json"), **body["all_tab"]}
        if body["hero"] and stored.hero:
            body["hero"] = {**stored.hero.model_dump(mode="json"), **body["hero"]}
        if body["featured_gallery"] and stored.featured_gallery:
            kept = stored.featured_gallery.model_dump(mode="json")
            body["featured_gallery"] = {**kept, **body["featured_gallery"]}
        if kept_sections(stored):
            del body["sections"]
        try:
            request = UpdatePageRequest.model_validate(body)
        except ValidationError as exc:
            raise from_validation_error(exc) from None
        return self.pages.update(namespace, page_id, request)


def kept_sections(stored: PageResponse) -> bool:
    """Whether the page's sections are more than the form draws (a second markdown panel, a
    frame of its own HTML, an order of their own): then saving the form leaves them be."""
    if not stored.sections:
        return False  # the default layout, which the form's is
    drawn = body_of(_as_form(stored))["sections"]
    have = [s.model_dump(mode="json", exclude={"section_id"}) for s in stored.sections]
    for section in have:
        if section["type"] == "iframe-embed" and section["props"] == _FRAME_DEFAULTS:
            section["props"] = None  # the page's custom_html, as the form sends it
        elif section["type"] == "markdown-content" and section["props"]:
            section["props"] = {k: v for k, v in section["props"].items() if v is not None}
    want = [{"props": None, "order": None, **s} for s in drawn]
    return have != want


def _as_form(page: PageResponse) -> PageForm:
    form = PageForm(
        tabs=[TabRow(t.retriever_id, t.label, True, t.tab_id, t.label) for t in page.tabs]
    )
    _fill(form, page)
    return form


def _fill(form: PageForm, page: PageResponse) -> None:
    """Everything of the page the form shows but its tabs."""
    form.slug, form.title = page.slug, page.meta.title
    form.description = page.meta.description or ""
    form.all_enabled, form.all_mode = page.all_tab.enabled, page.all_tab.mode
    if page.hero:
        form.hero_headline = page.hero.headline
        form.hero_subheadline = page.hero.subheadline or ""
    form.stats = "\n".join(
        f"{s.label}: {s.value if s.value is not None else 'tab:' + str(s.tab_id)}"
        for s in page.stats
    )
    if page.featured_gallery:
        form.featured_title = page.featured_gallery.title
        form.featured_tab = page.featured_gallery.tab_id or ""
        form.featured_ids = "\n".join(page.featured_gallery.document_ids)
    for section in page.sections:
        if section.type == "markdown-content" and section.props:
            form.markdown_title = section.props.get("title") or ""
            form.markdown = section.props.get("markdown") or ""
    form.custom_html = page.custom_html or ""
    form.is_active = page.is_active


def body_of(form: PageForm) -> dict[str, Any]:
    """The form as `/v1/pages` takes it: the tabs picked (in the form's order), the sections
    in the order the page shows them."""
    tabs = []
    for row in form.tabs:
        if row.picked:
            tab: dict[str, Any] = {
                "tab_id": row.tab_id.strip(),
                "label": row.label.strip(),
                "retriever_id": row.retriever_id,
            }
            order = row.order.strip()
            if order:
                tab["order"] = int(order) if order.isdigit() else order  # else refused

            tabs.append(tab)
    body: dict[str, Any] = {
        "slug": form.slug.strip(),
        "meta": {"title": form.title.strip(), "description": form.description.strip() or None},
        "tabs": tabs,
        "all_tab": {"enabled": form.all_enabled, "mode": form.all_mode},
        "custom_html": form.custom_html.strip() or None,
        "is_active": form.is_active,
        "hero": None,
        "featured_gallery": None,
        "stats": [_stat(line) for line in form.stats.splitlines() if line.strip()],
    }
    kinds: list[dict[str, Any]] = []
    if form.hero_headline.strip() or form.hero_subheadline.strip():
        body["hero"] = {
            "headline": form.hero_headline.strip(),
            "subheadline": form.hero_subheadline.strip() or None,
        }
        kinds.append({"type": "hero"})
    if body["stats"]:
        kinds.append({"type": "stats-bar"})
    ids = [i.strip() for i in form.featured_ids.replace(",", "\n").splitlines() if i.strip()]
    if ids:
        gallery: dict[str, Any] = {"document_ids": ids, "tab_id": form.featured_tab.strip() or None}
        if form.featured_title.strip():
            gallery["title"] = form.featured_title.strip()
        body["featured_gallery"] = gallery
        kinds.append({"type": "featured-gallery"})
    kinds.append({"type": "search-tabs"})
    if form.markdown.strip():
        props: dict[str, Any] = {"markdown": form.markdown}
        if form.markdown_title.strip():
            props["title"] = form.markdown_title.strip()
        kinds.append({"type": "markdown-content", "props": props})
    if body["custom_html"]:
        kinds.append({"type": "iframe-embed"})
    body["sections"] = kinds
    return body


def _stat(line: str) -> dict[str, Any]:
    label, _, value = line.partition(":")
    value = value.strip()
    if value.startswith("tab:"):
        return {"label": label.strip(), "tab_id": value.removeprefix("tab:").strip()}
    return {"label": label.strip(), "value": value or None}


def form_errors(error: InvalidInput, form: PageForm) -> dict[str, str]:
    """An `InvalidInput`'s messages by the form field they belong beside (`form` for the rest):
    the API's `tabs[1].label` is the label of the second tab picked."""
    picked = [row.retriever_id for row in form.tabs if row.picked]
    found: dict[str, str] = {}
    items = error.details.get("errors", []) or [{"field": "form", "message": error.message}]
    for item in items:
        where = str(item.get("field", ""))
        name = _form_field(where, picked)
        message = str(item.get("message", error.message))
        if len(items) == 1 and error.message.startswith(where + " "):
            message = error.message.removeprefix(where + " ")  # the whole sentence
        elif len(items) == 1 and error.message.startswith(where + ": "):
            rest = error.message.removeprefix(where + ": ")
            message = rest[:1].upper() + rest[1:]
        found.setdefault(name, message if name != "form" else f"{where}: {message}")
    return found


_FIELDS: Mapping[str, str] = {
    "slug": "slug",
    "meta.title": "title",
    "meta.description": "description",
    "all_tab": "all_mode",
    "hero.subheadline": "hero_subheadline",
    "hero": "hero_headline",
    "stats": "stats",
    "featured_gallery.tab_id": "featured_tab",
    "featured_gallery.title": "featured_title",
    "featured_gallery": "featured_ids",
    "custom_html": "custom_html",
    "tabs": "tabs",
}


def _form_field(where: str, picked: list[str]) -> str:
    if where.startswith("tabs[") and "]." in where:
        index, _, rest = where.removeprefix("tabs[").partition("].")
        if index.isdigit() and int(index) < len(picked):
            part = rest if rest in ("label", "tab_id", "order") else "label"
            return f"tab-{picked[int(index)]}-{part}"
    if where.startswith("sections"):
        return "markdown" if "markdown" in where or "title" in where else "form"
    for prefix, name in _FIELDS.items():
        if where == prefix or where.startswith((prefix + ".", prefix + "[")):
            return name
    return "form"
