"""A result's detail view: every field the config shows there (`modal_fields`, else every
exposed field), each with its label and format, at its own URL and in the page's dialog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from app.rendering.card_slots import card_props, thumbnail_field, title_field
from app.rendering.cards import CardField, Links, card_field, thumbnail_of, title_of
from app.rendering.plugins import PluginFrame
from app.rendering.registry import Renderers
from app.schemas.display import DisplayConfig, FieldConfig


@dataclass
class Detail:
    document_id: str
    title: Markup
    thumbnail: Markup | None
    fields: list[CardField]
    link: str | None  # the item's own page (its URL field), when it has one
    similar: str | None


def detail(
    display: DisplayConfig,
    document: dict[str, Any],
    now: datetime,
    renderers: Renderers,
    frames: Mapping[str, PluginFrame] | None,
    links: Links,
) -> Detail:
    props = card_props(display)
    configs = display.field_config or {}
    title_name, thumb_name = title_field(display), thumbnail_field(display)
    fields = []
    link = None  # the first URL field, as the item's own page
    for name in props.modal_fields or display.exposed_fields:
        if name in (title_name, thumb_name):
            continue
        value = document.get(name)
        drawn = renderers.render(value, _whole(configs.get(name)), now, name)
        if drawn is None:
            continue
        shown = card_field(display, document, name, drawn, renderers, frames)
        if shown.kind == "url" and link is None and isinstance(value, str):
            link = value if value.startswith("http") else None
        fields.append(shown)
    document_id = str(document.get("document_id", ""))
    return Detail(
        document_id=document_id,
        title=title_of(document, title_name, {}, 300),
        thumbnail=thumbnail_of(display, thumb_name, document, now, renderers),
        fields=fields,
        link=link,
        similar=links.similar(document_id) if props.show_find_similar else None,
    )


def _whole(config: FieldConfig | None) -> FieldConfig | None:
    """A field's config for the detail view: its text whole (`truncate_chars` cuts cards)."""
    options = config.format_options if config else None
    if config is None or options is None or options.truncate_chars is None:
        return config
    return config.model_copy(
        update={"format_options": options.model_copy(update={"truncate_chars": None})}
    )
