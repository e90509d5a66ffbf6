"""Pages (`/v1/pages`, served at `/p/{slug}`): several published retrievers behind one URL, in
tabs, with sections around them.

The names follow Mixpeek's page-builder models where it has them (`PageMeta`, `HeroConfig`,
`StatItem`, `FeaturedGalleryConfig`, `SectionConfig`, `PageTab` with `tab_id` and `label`,
`custom_html`, `is_active`); what it has none for is ours and says so: a tab's `order`, a stat
that counts a tab's documents (`StatItem.tab_id`), the gallery's `document_ids`, and the
"All" tab (`all_tab`).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from app.schemas.base import (
    CssLength,
    HexColour,
    ImageUrl,
    LinkUrl,
    Model,
    OpenModel,
    PublicName,
    StrictModel,
    matching,
)

TAB_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,29}")
TAB_ID_RULE = "1 to 30 lowercase letters, digits and hyphens, starting with a letter or digit"
ALL_TAB = "all"  # the merged tab's key in the URL: no tab may take it
MAX_TABS = 10
MAX_STATS = 8
MAX_SECTIONS = 20
MAX_FEATURED = 24
MAX_MARKDOWN_CHARS = 20_000
MAX_CUSTOM_HTML_CHARS = 100_000
PAGE_ID_PREFIX = "page_"

TabId = Annotated[str, matching(TAB_ID, TAB_ID_RULE)]
Label = Annotated[str, StringConstraints(min_length=1, max_length=40)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Blurb = Annotated[str, StringConstraints(max_length=500)]
SectionType = Literal[
    "hero",
    "stats-bar",
    "featured-gallery",
    "search-tabs",
    "markdown-content",
    "iframe-embed",
]


class PageMeta(StrictModel):
    """The page's chrome: its title (the browser tab's and the header's), description, logo."""

    title: Title
    description: Blurb | None = None
    logo_url: ImageUrl | None = None
    favicon_url: ImageUrl | None = None


class PageTab(StrictModel):
    """One tab: a published retriever of the page's namespace, under a label. `tab_id` is the
    tab's key in the URL (`/p/{slug}?tab=docs`)."""

    tab_id: TabId
    label: Label
    retriever_id: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    description: Blurb | None = None
    order: int | None = Field(default=None, ge=0, le=1000)


class HeroConfig(StrictModel):
    headline: Title
    subheadline: Blurb | None = None
    background_color: HexColour | None = None
    text_color: HexColour | None = None
    logo_url: ImageUrl | None = None
    cta_label: Label | None = None
    cta_url: LinkUrl | None = None


class StatItem(StrictModel):
    """A number in the stats bar: one the publisher sets (`value`), or the count of documents
    a tab searches (`tab_id`, over this server's own collections)."""

    label: Label
    value: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = None
    tab_id: TabId | None = None

    @model_validator(mode="after")
    def _one_source(self) -> StatItem:
        if (self.value is None) == (self.tab_id is None):
            raise ValueError("give either value (a number you set) or tab_id (its documents)")
        return self


class FeaturedGalleryConfig(StrictModel):
    """Documents the publisher picks, by id, shown as a tab's cards (its exposed fields only)."""

    enabled: bool = True
    title: Label = "Featured"
    tab_id: TabId | None = None  # whose retriever; the first tab's when not given
    document_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=MAX_FEATURED
    )


class MarkdownProps(StrictModel):
    title: Label | None = None
    markdown: Annotated[str, StringConstraints(min_length=1, max_length=MAX_MARKDOWN_CHARS)]


class FrameProps(StrictModel):
    """The publisher's own HTML, in a sandboxed frame of its own (no access to the page)."""

    title: Label = "Custom content"
    html: (
        Annotated[str, StringConstraints(min_length=1, max_length=MAX_CUSTOM_HTML_CHARS)] | None
    ) = None  # the page's `custom_html` when not given
    height: CssLength = "320px"


class SectionConfig(StrictModel):
    """One block of the page, in `order` (else its place in the list). `search-tabs` is where
    the tabs go; without one they follow every other section."""

    section_id: TabId | None = None
    type: SectionType
    props: dict[str, Any] | None = None
    order: int | None = Field(default=None, ge=0, le=1000)


class AllTabConfig(StrictModel):
    """The tab that sends one query to every tab's retriever at once."""

    enabled: bool = False
    label: Label = "All"
    mode: Literal["merged", "grouped"] = "merged"
    per_tab: int = Field(default=5, ge=1, le=20)


class CreatePageRequest(StrictModel):
    slug: PublicName
    meta: PageMeta
    tabs: list[PageTab] = Field(min_length=1, max_length=MAX_TABS)
    hero: HeroConfig | None = None
    stats: list[StatItem] = Field(default_factory=list, max_length=MAX_STATS)
    featured_gallery: FeaturedGalleryConfig | None = None
    sections: list[SectionConfig] = Field(default_factory=list, max_length=MAX_SECTIONS)
    custom_html: Annotated[str, StringConstraints(max_length=MAX_CUSTOM_HTML_CHARS)] | None = None
    all_tab: AllTabConfig = Field(default_factory=AllTabConfig)
    is_active: bool = True


class UpdatePageRequest(StrictModel):
    """Only the fields sent change; `null` clears an optional section."""

    slug: PublicName | None = None
    meta: PageMeta | None = None
    tabs: list[PageTab] | None = Field(default=None, min_length=1, max_length=MAX_TABS)
    hero: HeroConfig | None = None
    stats: list[StatItem] | None = Field(default=None, max_length=MAX_STATS)
    featured_gallery: FeaturedGalleryConfig | None = None
    sections: list[SectionConfig] | None = Field(default=None, max_length=MAX_SECTIONS)
    custom_html: Annotated[str, StringConstraints(max_length=MAX_CUSTOM_HTML_CHARS)] | None = None
    all_tab: AllTabConfig | None = None
    is_active: bool | None = None


class PageTabResponse(Model):
    tab_id: str
    label: str
    retriever_id: str
    description: str | None
    order: int | None
    public_name: str | None  # None while its retriever is not published


class PageResponse(Model):
    page_id: str
    slug: str
    url: str
    namespace_id: str
    meta: PageMeta
    tabs: list[PageTabResponse]
    hero: HeroConfig | None
    stats: list[StatItem]
    featured_gallery: FeaturedGalleryConfig | None
    sections: list[SectionConfig]
    custom_html: str | None
    all_tab: AllTabConfig
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class PageList(Model):
    results: list[PageResponse]
    total: int
    limit: int
    offset: int


class PageDeleteResponse(Model):
    message: str = "Successfully deleted"
    success: bool = True


class PageSearchRequest(OpenModel):
    """Mixpeek's `PublicAppSearchRequest`: `tab_id` searches that tab with its `inputs` (extra
    top-level fields are merged into them); without it (or with "all"), `inputs.query` (or
    `query`) is searched in every tab at once, and each other input goes to every tab whose
    retriever has an input of that name and kind."""

    tab_id: str | None = None
    inputs: dict[str, Any] | None = None
    settings: dict[str, Any] | None = None
    query: Annotated[str, StringConstraints(max_length=500)] | None = None
    page_size: int = Field(default=10, ge=1, le=50)


class PageSearchError(Model):
    status: int
    type: str
    message: str


class PageSearchTab(Model):
    """One tab's answer: its documents (exposed fields only), or why it has none."""

    tab_id: str
    label: str
    public_name: str | None
    status: Literal["ok", "error"]
    execution_id: str | None = None
    total: int | None = None
    inputs: list[str] = Field(default_factory=list)  # the inputs it searched with, by name
    documents: list[dict[str, Any]] = Field(default_factory=list)
    error: PageSearchError | None = None


class PageSearchMerged(Model):
    """A document of the merged list, as the first tab that found it shows it."""

    tab_id: str
    found_in: list[str]
    rrf_score: float
    document: dict[str, Any]


class PageSearchResponse(Model):
    slug: str
    tabs: list[PageSearchTab]
    merged: list[PageSearchMerged]
