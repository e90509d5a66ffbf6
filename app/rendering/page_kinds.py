"""The kinds of search page (`template_type`, or the cards' `card_style`), and what each one
changes: its look (a class the stylesheet reads) and the result layout it falls back to.

- `product-grid` (also `default`): a grid of cards led by a picture, title, price and badges.
- `document-search`: a list of titles with their matched passages; small or no pictures.
- `portrait-gallery`: tall pictures in columns, the title over the picture's foot.
- `media-search`: wide (16:9) pictures in a grid, for videos and images.
"""

from __future__ import annotations

from app.schemas.display import DisplayConfig

KINDS = ("product-grid", "document-search", "portrait-gallery", "media-search")
_STYLES = {
    "portrait-discovery": "portrait-gallery",
    "media-search": "media-search",
    "document-search": "document-search",
}
# The layout a kind uses unless the config names one.
_LAYOUTS = {"document-search": "list", "portrait-gallery": "masonry"}


def template_of(display: DisplayConfig) -> str:
    if display.template_type:
        return display.template_type
    card = display.components.result_card if display.components else None
    if card is not None and card.card_style in _STYLES:
        return _STYLES[card.card_style]
    return "product-grid"


def result_layout(display: DisplayConfig) -> str:
    """`components.result_layout` when set, else `layout.mode` when set, else the kind's."""
    components, layout = display.components, display.layout
    if components is not None and "result_layout" in components.model_fields_set:
        return components.result_layout
    if layout is not None and "mode" in layout.model_fields_set:
        return layout.mode
    return _LAYOUTS.get(template_of(display), "grid")
