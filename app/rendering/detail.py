"""A result's detail view: every field the config shows there (`modal_fields`, else every
exposed field), each with its label and format, at its own URL and in the page's dialog."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from app.rendering.cards import (
    CardField,
    Links,
    card_props,
    label_of,
    thumbnail_field,
    title_field,
)
from app.rendering.formats import truncate
from app.rendering.plugins import PluginFrame, plugin_field
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
    title_name = title_field(display)
    thumb_name = thumbnail_field(display)
    names = props.modal_fields or display.exposed_fields
    fields = []
    link = None
    for name in names:
        if name in (title_name, thumb_name):
            continue
        config = configs.get(name)
        value = document.get(name)
        drawn = renderers.render(value, config, now)
        if drawn is None:
            continue
        kind = config.format if config else renderers.infer(value)
        if kind == "url" and link is None and isinstance(value, str) and value.startswith("http"):
            link = value
        label = label_of(name, config)
        frame = frames.get(name) if frames else None
        if frame is not None and value is not None:
            drawn = plugin_field(frame, label, value, drawn, document, display.exposed_fields, name)
        fields.append(CardField(name, label, drawn, kind))
    raw_title = document.get(title_name)
    title = truncate(str(raw_title), 300) if raw_title not in (None, "") else "Untitled"
    thumbnail = None
    if thumb_name and document.get(thumb_name):
        image = configs.get(thumb_name) or FieldConfig(format="image")
        thumbnail = renderers.render(document[thumb_name], image, now)
    document_id = str(document.get("document_id", ""))
    return Detail(
        document_id=document_id,
        title=escape(title),
        thumbnail=thumbnail,
        fields=fields,
        link=link,
        similar=links.similar(document_id) if props.show_find_similar else None,
    )
