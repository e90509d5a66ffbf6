"""What a search page shows, worked out from the display config, the URL and the results.

The query lives in the URL (`?query=...&category=Audio&page=2`): `form_state` reads it back into
typed inputs, and `cards` turns result documents into what the templates print.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup
from starlette.datastructures import QueryParams

from app.rendering.fields import infer_format, render_field, truncate
from app.schemas.display import (
    DisplayConfig,
    FieldConfig,
    FieldFormat,
    FieldFormatOptions,
    InputConfig,
    InputType,
    ResultCardProperties,
)

PAGE_SIZE = 20
MAX_PAGE = 500
THUMBNAIL_GUESSES = ("image_url", "thumbnail_url", "thumbnail", "image", "img", "cover")
TITLE_GUESSES = ("title", "name", "headline", "label")
_NUMBERS = {InputType.NUMBER, InputType.INTEGER, InputType.FLOAT}
_FILES = {InputType.IMAGE, InputType.AUDIO, InputType.VIDEO, InputType.PDF, InputType.EXCEL}


@dataclass
class Control:
    """One input of the form, with what the URL says it holds."""

    config: InputConfig
    widget: str  # text, number, checkbox, select, multiselect, date, file, textarea
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    accept: str = ""
    error: str | None = None

    @property
    def name(self) -> str:
        return self.config.field_name

    def selected(self, option: str) -> bool:
        if isinstance(self.value, list):
            return option in [str(v) for v in self.value]
        return self.value is not None and str(self.value) == option


@dataclass
class FormState:
    controls: list[Control]
    inputs: dict[str, Any]
    page: int
    touched: bool  # did the URL carry any input at all

    @property
    def can_search(self) -> bool:
        """Search on arrival when nothing is required; else once the URL holds a query."""
        required = any(c.config.required or c.config.field_schema.required for c in self.controls)
        return self.touched or not required


def _widget(config: InputConfig) -> str:
    schema = config.field_schema
    if config.input_type in ("file",) or schema.type in _FILES:
        return "file"
    if config.input_type == "multiselect" or (
        schema.type == InputType.ARRAY and (schema.enum or (schema.items and schema.items.enum))
    ):
        return "multiselect"
    if schema.enum is not None or config.input_type == "select":
        return "select"
    if schema.type == InputType.BOOLEAN or config.input_type == "checkbox":
        return "checkbox"
    if schema.type in _NUMBERS or config.input_type == "number":
        return "number"
    if schema.type in (InputType.DATE, InputType.DATETIME) or config.input_type == "date":
        return "date"
    return "textarea" if config.input_type == "textarea" else "text"


def form_state(display: DisplayConfig, params: QueryParams) -> FormState:
    controls: list[Control] = []
    inputs: dict[str, Any] = {}
    touched = False
    for config in sorted(display.inputs, key=lambda c: c.order):
        control = Control(config, _widget(config))
        schema = config.field_schema
        enum = schema.enum or (schema.items.enum if schema.items else None) or []
        control.options = [(str(option), str(option)) for option in enum]
        if control.widget == "file":
            control.accept = {
                "image": "image/*",
                "audio": "audio/*",
                "video": "video/*",
                "pdf": "application/pdf",
            }.get(schema.type.value, "")
            controls.append(control)
            continue
        raw = params.getlist(config.field_name)
        if raw and any(item != "" for item in raw):
            touched = True
            control.value, control.error = _parse(control, raw)
            if control.error is None and control.value is not None:
                inputs[config.field_name] = control.value
        controls.append(control)
    page = params.get("page", "1")
    number = int(page) if page.isdigit() else 1
    return FormState(controls, inputs, max(1, min(number, MAX_PAGE)), touched)


def _parse(control: Control, raw: list[str]) -> tuple[Any, str | None]:
    schema = control.config.field_schema
    if control.widget == "multiselect":
        return [_typed(item, control) for item in raw if item != ""], None
    text = raw[-1].strip()
    if control.widget == "checkbox":
        return (True, None) if text.lower() in ("true", "on", "1", "yes") else (None, None)
    if control.widget == "select":
        # Options are matched as text and handed on with the enum's own type.
        for option in schema.enum or []:
            if str(option) == text:
                return option, None
        return text, None  # left for the input check to refuse with its message
    if control.widget == "number":
        try:
            value: Any = int(text) if schema.type == InputType.INTEGER else float(text)
        except ValueError:
            return text, "must be a number"
        if isinstance(value, float) and value.is_integer() and schema.type != InputType.FLOAT:
            value = int(value)
        return value, None
    return text, None


def _typed(item: str, control: Control) -> Any:
    schema = control.config.field_schema
    for option in schema.enum or (schema.items.enum if schema.items else None) or []:
        if str(option) == item:
            return option
    return item


# Cards --------------------------------------------------------------------------------------


@dataclass
class Card:
    document_id: str
    position: int
    title: str
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


def title_field(display: DisplayConfig) -> str:
    card = _card_props(display)
    if card.title_field:
        return card.title_field
    exposed = display.exposed_fields
    return next((name for name in TITLE_GUESSES if name in exposed), exposed[0])


def thumbnail_field(display: DisplayConfig) -> str | None:
    card = _card_props(display)
    if not card.show_thumbnail:
        return None
    if card.thumbnail_field:
        return card.thumbnail_field
    configs = display.field_config or {}
    for name in display.exposed_fields:
        if name in configs and configs[name].format == FieldFormat.IMAGE:
            return name
    return next((name for name in THUMBNAIL_GUESSES if name in display.exposed_fields), None)


def card_fields(display: DisplayConfig) -> list[str]:
    card = _card_props(display)
    names = card.field_order or card.card_fields or display.exposed_fields
    skip = {title_field(display), thumbnail_field(display)}
    return [name for name in names if name not in skip]


def _description_config(
    config: FieldConfig | None, props: ResultCardProperties
) -> FieldConfig | None:
    """`truncate_description` applies to `description` unless its own config truncates it."""
    if not props.truncate_description or (
        config and config.format_options and config.format_options.truncate_chars
    ):
        return config
    options = FieldFormatOptions(truncate_chars=props.truncate_description)
    return FieldConfig(format=config.format if config else FieldFormat.TEXT, format_options=options)


def cards(
    display: DisplayConfig, documents: list[dict[str, Any]], offset: int, now: datetime
) -> list[Card]:
    props = _card_props(display)
    configs = display.field_config or {}
    title_name = title_field(display)
    thumb_name = thumbnail_field(display)
    shown = card_fields(display)
    image_default = FieldConfig(format=FieldFormat.IMAGE)
    description = _description_config(configs.get("description"), props)
    link_name = next(
        (
            n
            for n in display.exposed_fields
            if n in configs and configs[n].format == FieldFormat.URL
        ),
        None,
    )
    result = []
    for index, document in enumerate(documents):
        raw_title = document.get(title_name)
        title = truncate(
            str(raw_title) if raw_title not in (None, "") else "Untitled",
            props.truncate_title or 120,
        )
        thumbnail = None
        if thumb_name and document.get(thumb_name):
            image_config = configs.get(thumb_name) or image_default
            thumbnail = render_field(document[thumb_name], image_config, now)
        rendered = []
        for name in shown:
            config = description if name == "description" else configs.get(name)
            value = render_field(document.get(name), config, now)
            if value is not None:
                rendered.append((name, label_of(name, configs.get(name)), value))
        link = document.get(link_name) if link_name else None
        result.append(
            Card(
                document_id=str(document.get("document_id", "")),
                position=offset + index,
                title=title,
                thumbnail=thumbnail,
                fields=rendered,
                score=document.get("score") if props.show_score else None,
                link=link
                if isinstance(link, str)
                and infer_format(link) in (FieldFormat.URL, FieldFormat.IMAGE)
                else None,
            )
        )
    return result
