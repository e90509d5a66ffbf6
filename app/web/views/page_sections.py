"""The sections around a page's tabs, as its template draws them: a hero, a stats bar, a
featured gallery (documents by id, exposed fields only), markdown panels (sanitised by the
markdown renderer) and custom HTML (in a sandboxed frame of its own document)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from app import urls
from app.rendering.cards import Links, cards
from app.services.catalog import PublicRetriever
from app.services.tab_pages import OpenPage
from app.web.requests import caller_of, services_of


async def section_values(
    request: Request, page: OpenPage, retriever: PublicRetriever | None
) -> list[dict[str, Any]]:
    """Each section in the page's order, with what it shows; `css` for the page's style block
    (colours and heights, validated where the page was saved, set by class, never inline)."""
    services = services_of(request)
    shown: list[dict[str, Any]] = []
    for section in page.sections:
        kind, section_id = section.type, section.section_id or section.type
        value: dict[str, Any] = {"type": kind, "id": section_id}
        if kind == "hero":
            if page.hero is None:
                continue
            value["hero"] = page.hero
        elif kind == "stats-bar":
            counts = await services.tab_pages.document_counts(page) if page.stats else {}
            items = [
                {
                    "label": stat.label,
                    "value": stat.value
                    if stat.value is not None
                    else f"{counts[stat.tab_id]:,}"
                    if stat.tab_id in counts
                    else None,
                }
                for stat in page.stats
            ]
            value["stat_items"] = [item for item in items if item["value"] is not None]
            if not value["stat_items"]:
                continue
        elif kind == "featured-gallery":
            gallery = await _gallery(request, page)
            if gallery is None:
                continue
            value.update(gallery)
        elif kind == "markdown-content":
            value.update(section.props or {})
        elif kind == "iframe-embed":
            props = section.props or {}
            if not (props.get("html") or page.custom_html):
                continue
            value["src"] = urls.tab_page_frame(page.slug, section_id)
            value["title"] = props.get("title") or "Custom content"
            value["height"] = props.get("height") or "320px"
        shown.append(value)
    return shown


def section_css(sections: list[dict[str, Any]]) -> str:
    """The sections' own rules: the hero's colours and each frame's height."""
    rules: list[str] = []
    for section in sections:
        if section["type"] == "hero":
            hero = section["hero"]
            if hero.background_color:
                rules.append(f".page-hero{{background:{hero.background_color}}}")
            if hero.text_color:
                rules.append(f".page-hero,.page-hero h1{{color:{hero.text_color}}}")
        elif section["type"] == "iframe-embed":
            rules.append(f"#frame-{section['id']}{{height:{section['height']}}}")
    return "".join(rules)


async def _gallery(request: Request, page: OpenPage) -> dict[str, Any] | None:
    services = services_of(request)

    def callers(public_name: str) -> Any:
        return caller_of(request, page=True, public_name=public_name)

    answer = await services.tab_pages.featured(page, callers)
    if answer is None or answer.retriever is None or answer.results is None:
        return None
    retriever = answer.retriever
    gallery_cards = cards(
        retriever.display,
        answer.results.documents,
        0,
        services.clock(),
        services.renderers,
        retriever.frames,
        Links(retriever.public_name),
    )
    if not gallery_cards:
        return None
    title = page.featured_gallery.title if page.featured_gallery else "Featured"
    return {
        "title": title,
        "cards": gallery_cards,
        "card_tab": {"public_name": retriever.public_name, "execution_id": ""},
    }
