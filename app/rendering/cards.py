"""Result cards: what a search page prints for each document, from the display config."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from app.rendering.formats import truncate
from app.rendering.plugins import PluginFrame, plugin_field
from app.rendering.registry import Renderers
from app.schemas.display import (
    DisplayConfig,
    FieldConfig,
    FieldFormatOptions,
    ResultCardProperties,
)

PAGE_SIZE = 20
THUMBNAIL_GUESSES = ("image_url", "thumbnail_url", "thumbnail", "image", "img", "cover")
TITLE_GUESSES = ("title", "name", "headline", "label")
DESCRIPTION_GUESSES = ("description", "summary", "snippet", "body", "text", "content")


@dataclass
class Card:
    document_id: str
    position: int
    title: str
    title_label: str | None  # the title field's own label, for screen readers
    thumbnail: Markup | None
    fields: list[tuple[str, str, Markup]]  # (field name, label, value)
    score: float | None
    link: str | None


def label_of(name: str, config: FieldConfig | None) -> str:
    if config and config.format_options and config.format_options.label:
        return config.format_options.label
    return name.replace("_", " ").replace(".", " ").strip().capitalize()


def _card_props(display: DisplayConfig) -> ResultCardProperties:
    components = display.components
    return (components.result_card if components else None) or ResultCardProperties()


def _mapped(display: DisplayConfig, slot: str) -> str | None:
    mappings = {str(name): field for name, field in (display.field_mappings or {}).items()}
    return mappings.get(slot)


def title_field(display: DisplayConfig) -> str:
    card = _card_props(display)
    if card.title_field or _mapped(display, "title"):
        return card.title_field or str(_mapped(display, "title"))
    exposed = display.exposed_fields
    return next((name for name in TITLE_GUESSES if name in exposed), exposed[0])


def thumbnail_field(display: DisplayConfig) -> str | None:
    card = _card_props(display)
    if not card.show_thumbnail:
        return None
    if card.thumbnail_field or _mapped(display, "thumbnail"):
        return card.thumbnail_field or _mapped(display, "thumbnail")
    configs = display.field_config or {}
    for name in display.exposed_fields:
        if name in configs and configs[name].format == "image":
            return name
    return next((name for name in THUMBNAIL_GUESSES if name in display.exposed_fields), None)


def description_field(display: DisplayConfig) -> str | None:
    """The field `truncate_description` shortens: mapped, or the first that reads as one."""
    mapped = _mapped(display, "description")
    if mapped:
        return mapped
    return next((n for n in DESCRIPTION_GUESSES if n in display.exposed_fields), None)


def card_fields(display: DisplayConfig) -> list[str]:
    card = _card_props(display)
    names = card.field_order or card.card_fields or display.exposed_fields
    skip = {title_field(display), thumbnail_field(display)}
    return [name for name in names if name not in skip]


def _description_config(
    config: FieldConfig | None, props: ResultCardProperties
) -> FieldConfig | None:
    """`truncate_description` applies to the description field unless its own config
    truncates it."""
    if not props.truncate_description or (
        config and config.format_options and config.format_options.truncate_chars
    ):
        return config
    options = FieldFormatOptions(truncate_chars=props.truncate_description)
    return FieldConfig(format=config.format if config else "text", format_options=options)


def cards(
    display: DisplayConfig,
    documents: list[dict[str, Any]],
    offset: int,
    now: datetime,
    renderers: Renderers,
    frames: Mapping[str, PluginFrame] | None = None,
) -> list[Card]:
    props = _card_props(display)
    configs = display.field_config or {}
    title_name = title_field(display)
    thumb_name = thumbnail_field(display)
    shown = card_fields(display)
    image_default = FieldConfig(format="image")
    description_name = description_field(display)
    description = _description_config(configs.get(description_name or ""), props)
    title_options = configs[title_name].format_options if title_name in configs else None
    title_limit = (title_options.truncate_chars if title_options else None) or props.truncate_title
    link_name = next(
        (n for n in display.exposed_fields if n in configs and configs[n].format == "url"),
        None,
    )
    result = []
    for index, document in enumerate(documents):
        raw_title = document.get(title_name)
        title = truncate(
            str(raw_title) if raw_title not in (None, "") else "Untitled", title_limit or 120
        )
        thumbnail = None
        if thumb_name and document.get(thumb_name):
            image_config = configs.get(thumb_name) or image_default
            thumbnail = renderers.render(document[thumb_name], image_config, now)
        rendered = []
        for name in shown:
            config = description if name == description_name else configs.get(name)
            value = renderers.render(document.get(name), config, now)
            if value is None:
                continue
            label = label_of(name, configs.get(name))
            frame = frames.get(name) if frames else None
            if frame is not None and document.get(name) is not None:
                value = plugin_field(
                    frame, label, document[name], value, document, display.exposed_fields, name
                )
            rendered.append((name, label, value))
        link = document.get(link_name) if link_name else None
        result.append(
            Card(
                document_id=str(document.get("document_id", "")),
                position=offset + index,
                title=title,
                title_label=title_options.label if title_options else None,
                thumbnail=thumbnail,
                fields=rendered,
                score=document.get("score") if props.show_score else None,
                link=link
                if isinstance(link, str) and renderers.infer(link) in ("url", "image")
                else None,
            )
        )
    return result
