"""Which of a document's fields fill a card's slots (title, picture, description, the facts
shown), from the display config and, where it names none, from the fields' usual names."""

from __future__ import annotations

from app.schemas.display import DisplayConfig, FieldConfig, ResultCardProperties

THUMBNAIL_GUESSES = ("image_url", "thumbnail_url", "thumbnail", "image", "img", "cover")
TITLE_GUESSES = ("title", "name", "headline", "label")
DESCRIPTION_GUESSES = ("description", "summary", "snippet", "body", "text", "content")


def label_of(name: str, config: FieldConfig | None) -> str:
    if config and config.format_options and config.format_options.label:
        return config.format_options.label
    return name.replace("_", " ").replace(".", " ").strip().capitalize()


def card_props(display: DisplayConfig) -> ResultCardProperties:
    components = display.components
    return (components.result_card if components else None) or ResultCardProperties()


def _mapped(display: DisplayConfig, slot: str) -> str | None:
    mappings = {str(name): field for name, field in (display.field_mappings or {}).items()}
    return mappings.get(slot)


def title_field(display: DisplayConfig) -> str:
    card = card_props(display)
    if card.title_field or _mapped(display, "title"):
        return card.title_field or str(_mapped(display, "title"))
    exposed = display.exposed_fields
    return next((name for name in TITLE_GUESSES if name in exposed), exposed[0])


def thumbnail_field(display: DisplayConfig) -> str | None:
    card = card_props(display)
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
    """The fields a card shows: `card_fields` (in `field_order` when both are given), else
    `field_order`, else every exposed field."""
    card = card_props(display)
    names = card.card_fields or card.field_order or display.exposed_fields
    if card.card_fields and card.field_order:
        rank = {name: number for number, name in enumerate(card.field_order)}
        names = sorted(names, key=lambda name: rank.get(name, len(rank)))
    skip = {title_field(display), thumbnail_field(display)}
    return [name for name in names if name not in skip]
