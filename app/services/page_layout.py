"""How a page's sections are laid out around its tabs (`docs/pages.md`)."""

from __future__ import annotations

from app.schemas.pages import FeaturedGalleryConfig, HeroConfig, SectionConfig, StatItem


def default_layout(
    hero: HeroConfig | None,
    stats: tuple[StatItem, ...],
    gallery: FeaturedGalleryConfig | None,
    custom_html: str | None,
) -> list[SectionConfig]:
    """Without sections: the hero, the stats, the gallery, the tabs, then the custom HTML."""
    kinds: list[str] = []
    if hero:
        kinds.append("hero")
    if stats:
        kinds.append("stats-bar")
    if gallery and gallery.enabled and gallery.document_ids:
        kinds.append("featured-gallery")
    kinds.append("search-tabs")
    if custom_html:
        kinds.append("iframe-embed")
    return [
        SectionConfig.model_validate({"type": kind, "section_id": f"{kind}-{n}"})
        for n, kind in enumerate(kinds, start=1)
    ]


def laid_out(sections: list[SectionConfig]) -> list[SectionConfig]:
    """In `order` (then as listed), with the tabs after every other section when no section
    says where they go."""
    ordered = [
        s
        for _, s in sorted(
            enumerate(sections), key=lambda p: (p[1].order is None, p[1].order or 0, p[0])
        )
    ]
    if not any(s.type == "search-tabs" for s in ordered):
        ordered.append(SectionConfig(section_id="search-tabs", type="search-tabs"))
    return ordered
