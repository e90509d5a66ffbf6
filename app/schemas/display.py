"""The display config: what the public page shows and which fields may leave the server.

Mirrors the SDK's `DisplayConfigInput`/`DisplayConfigOutput` and their parts, with the
validation the SDK leaves to the server (closed sets, CSS grammars, fields within
`exposed_fields`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from app import jsonutil
from app.schemas.base import (
    AspectRatio,
    CssLength,
    DatePattern,
    FieldName,
    FontFamily,
    HexColour,
    IconBase64,
    ImageUrl,
    LinkUrl,
    Model,
    OpenModel,
    ShortText,
    Text,
    matching,
)
from app.schemas.extensions import check_extensions
from app.schemas.plugins import Parameters, Tag, Version

MAX_INPUTS = 20
MAX_STRUCTURED_DATA_BYTES = 8 * 1024
MAX_EXPOSED_FIELDS = 100
MAX_MARKDOWNS = 20
MAX_LINKS = 20
MAX_SUGGESTIONS = 20
MARKDOWN_MAX_CHARS = 50_000
# What the search page's URL holds beside the inputs (filters are f.<field>).
PAGE_PARAMETERS = ("page", "sort", "similar_to", "origin")

Suggestion = Annotated[str, StringConstraints(min_length=1, max_length=200)]
ObjectFit = Literal["cover", "contain", "fill", "none", "scale-down"]
ResultLayout = Literal["grid", "list", "masonry"]


class InputType(StrEnum):
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    OBJECT = "object"
    ARRAY = "array"
    DATE = "date"
    DATETIME = "datetime"
    TEXT = "text"
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    PDF = "pdf"
    EXCEL = "excel"
    DOCUMENT_REFERENCE = "document_reference"


class FieldSchema(OpenModel):
    """`RetrieverInputSchemaField`: the type and rules of one input."""

    type: InputType
    default: Any = None
    items: FieldSchema | None = None
    properties: dict[str, FieldSchema] | None = None
    examples: list[Any] | None = Field(default=None, max_length=50)
    description: Text | None = None
    enum: list[Any] | None = Field(default=None, min_length=1, max_length=500)
    required: bool = False


class InputConfig(Model):
    """`InputRenderingConfig`: one input control of the search form."""

    field_name: FieldName
    field_schema: FieldSchema
    input_type: Literal[
        "text", "textarea", "number", "checkbox", "select", "multiselect", "date", "file"
    ] = "text"
    label: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    placeholder: ShortText | None = None
    helper_text: Text | None = None
    suggestions: list[Suggestion] | None = Field(default=None, max_length=MAX_SUGGESTIONS)
    required: bool = True
    order: int = Field(default=0, ge=0, le=10_000)


class StructuredData(Model):
    """`StructuredDataConfig`: the page's schema.org JSON-LD (`type`, and properties over the
    ones the page fills in: name, description, url, logo)."""

    type: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Za-z]{1,49}$")] = "WebApplication"
    additional_properties: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _small(self) -> StructuredData:
        if len(jsonutil.dumps(self.additional_properties or {})) > MAX_STRUCTURED_DATA_BYTES:
            raise ValueError(
                f"structured_data.additional_properties is over {MAX_STRUCTURED_DATA_BYTES} "
                "bytes of JSON"
            )
        return self


class SEOConfig(Model):
    meta_title: Annotated[str, StringConstraints(max_length=60)] | None = None
    meta_description: Annotated[str, StringConstraints(max_length=160)] | None = None
    keywords: list[Annotated[str, StringConstraints(max_length=50)]] | None = Field(
        default=None, max_length=30
    )
    og_image_url: ImageUrl | None = None
    og_image_alt: Annotated[str, StringConstraints(max_length=200)] | None = None
    og_type: Annotated[str, StringConstraints(max_length=30)] = "website"
    twitter_card: Literal["summary", "summary_large_image", "app", "player"] = "summary_large_image"
    twitter_site: Annotated[str, StringConstraints(max_length=50)] | None = None
    twitter_creator: Annotated[str, StringConstraints(max_length=50)] | None = None
    robots: Annotated[str, StringConstraints(pattern=r"^[a-z, -]{1,60}$")] = "index, follow"
    canonical_url: LinkUrl | None = None
    site_name: ShortText | None = None
    author: ShortText | None = None
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(?:[_-][A-Za-z]{2,4})?$")] = (
        "en_US"
    )
    logo_url: ImageUrl | None = None
    favicon_url: ImageUrl | None = None
    structured_data: StructuredData | None = None


class MarkdownContent(Model):
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    content: Annotated[str, StringConstraints(min_length=1, max_length=MARKDOWN_MAX_CHARS)]


class CustomCTA(Model):
    label: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    markdown_content: Annotated[str, StringConstraints(min_length=1, max_length=MARKDOWN_MAX_CHARS)]


class ExternalLink(Model):
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    url: LinkUrl


class ThemeConfig(Model):
    """Every value here ends up in CSS, so each is held to a closed grammar."""

    primary_color: HexColour = "#007AFF"
    secondary_color: HexColour | None = None
    font_family: FontFamily = "system-ui, -apple-system, sans-serif"
    # No default on purpose: an unset background gives the page its dark variant.
    background_color: HexColour | None = None
    text_color: HexColour | None = None
    heading_font_family: FontFamily | None = None
    surface_color: HexColour | None = None
    muted_color: HexColour | None = None
    border_color: HexColour | None = None
    border_radius: CssLength = "12px"
    card_style: Literal["elevated", "flat", "bordered", "glass"] = "elevated"
    card_hover_effect: Literal["lift", "glow", "scale", "none"] = "lift"


class LayoutConfig(Model):
    mode: ResultLayout = "grid"
    columns: int = Field(default=3, ge=1, le=6)
    gap: CssLength = "16px"
    full_width: bool = False


# The SDK's presets and built-in templates; a custom name would be accepted and do nothing, so
# it is refused (see the table of display-config fields in docs/pages.md).
CardStyle = Literal["default", "portrait-discovery", "media-search", "document-search"]
TemplateType = Literal["product-grid", "portrait-gallery", "media-search", "document-search"]
# `field_mappings`: template slots and the field each shows.
MappingSlot = Literal["title", "thumbnail", "description"]


class ResultCardProperties(Model):
    layout: Literal["vertical", "horizontal"] = "vertical"
    show_thumbnail: bool = True
    thumbnail_aspect_ratio: AspectRatio = "16/9"
    thumbnail_fit: ObjectFit = "cover"
    show_score: bool = False
    truncate_title: int | None = Field(default=None, ge=1, le=10_000)
    truncate_description: int | None = Field(default=None, ge=1, le=100_000)
    field_order: list[FieldName] | None = None
    show_find_similar: bool = False
    card_click_action: Literal["none", "findSimilar", "viewDetails"] = "viewDetails"
    thumbnail_field: FieldName | None = None
    title_field: FieldName | None = None
    card_fields: list[FieldName] | None = None
    modal_fields: list[FieldName] | None = None
    card_style: CardStyle = "default"
    show_meaning_hint: bool = Field(
        default=False,
        description="Mark each result that holds none of the query's words (found by meaning "
        "alone, by a retriever that searches by meaning) with a small 'Matched by meaning' "
        "note, so that a shopper sees why it is there. Off by default.",
    )


class ComponentsConfig(Model):
    show_hero: bool = True
    show_search: bool = True
    show_filters: bool = False
    show_results_header: bool = True
    result_layout: ResultLayout = "grid"
    result_card: ResultCardProperties | None = None


class FieldFormatOptions(Model):
    label: ShortText | None = None
    show_empty: bool = True
    truncate_chars: int | None = Field(default=None, ge=1, le=100_000)
    width: int | None = Field(default=None, ge=1, le=4096)
    height: int | None = Field(default=None, ge=1, le=4096)
    lazy_load: bool = True
    aspect_ratio: AspectRatio | None = None
    object_fit: ObjectFit = "cover"
    date_format: DatePattern = "relative"
    decimals: int | None = Field(default=None, ge=0, le=10)
    # Unset: numbers are grouped by thousands ("12,000") except in a field whose name says
    # year ("2019"); true or false decides for the field whatever its name.
    thousands_separator: bool | None = None
    prefix: Annotated[str, StringConstraints(max_length=10)] | None = None
    suffix: Annotated[str, StringConstraints(max_length=10)] | None = None
    open_in_new_tab: bool = True
    show_domain: bool = False
    true_label: Annotated[str, StringConstraints(max_length=50)] = "Yes"
    false_label: Annotated[str, StringConstraints(max_length=50)] = "No"
    separator: Annotated[str, StringConstraints(max_length=10)] = ", "
    max_items: int | None = Field(default=None, ge=1, le=1000)
    # The `plugin` format: which plugin of the namespace draws the field, pinned to a version
    # or following the plugin's current one, with parameters over the plugin's own. `height`
    # (above) fixes the frame's height; without it the frame takes the height it reports.
    plugin: Tag | None = None
    version: Version | None = None
    parameters: Parameters | None = None


FormatName = Annotated[
    str,
    StringConstraints(max_length=50),
    matching(re.compile(r"[a-z][a-z0-9_-]*"), "a format name such as text, number or image"),
]


class FieldConfig(Model):
    """How one field is shown: `format` names a registered renderer (checked on publish);
    without one, the format is chosen from each value, as for a field not configured, and
    the options (a label, a prefix…) still apply."""

    format: FormatName | None = None
    format_options: FieldFormatOptions | None = None

    @model_validator(mode="after")
    def _plugin_named(self) -> FieldConfig:
        named = self.format_options is not None and self.format_options.plugin is not None
        if self.format == "plugin" and not named:
            raise ValueError("the plugin format needs format_options.plugin, a plugin's tag")
        if self.format != "plugin" and named:
            raise ValueError("format_options.plugin goes with format 'plugin'")
        return self


class DisplayConfig(OpenModel):
    """`DisplayConfigInput`/`Output`. Unknown keys the SDK sends are kept and echoed."""

    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    description: Text | None = None
    logo_url: ImageUrl | None = None
    icon_base64: IconBase64 | None = None
    seo: SEOConfig | None = None
    markdowns: list[MarkdownContent] | None = Field(default=None, max_length=MAX_MARKDOWNS)
    theme: ThemeConfig | None = None
    inputs: list[InputConfig] = Field(min_length=1, max_length=MAX_INPUTS)
    layout: LayoutConfig | None = None
    exposed_fields: list[FieldName] = Field(min_length=1, max_length=MAX_EXPOSED_FIELDS)
    components: ComponentsConfig | None = None
    field_config: dict[FieldName, FieldConfig] | None = None
    custom_cta: CustomCTA | None = None
    external_links: list[ExternalLink] | None = Field(default=None, max_length=MAX_LINKS)
    og_image_url: ImageUrl | None = Field(
        default=None, description="The social preview image, when seo.og_image_url is not set."
    )
    template_type: TemplateType | None = None
    field_mappings: dict[MappingSlot, FieldName] | None = None
    extensions: dict[str, Any] | None = None
    # Filled in by the server when published (the stages, without an upstream's details);
    # a value sent is replaced.
    retriever_config: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _extensions(self) -> DisplayConfig:
        check_extensions(self.extensions, self.exposed_fields)
        return self

    @model_validator(mode="after")
    def _fields_within_exposed(self) -> DisplayConfig:
        exposed = set(self.exposed_fields)
        if len(exposed) != len(self.exposed_fields):
            raise ValueError("exposed_fields lists a field twice")
        names = [i.field_name for i in self.inputs]
        if len(set(names)) != len(names):
            raise ValueError("inputs: two inputs share a field_name")
        for number, name in enumerate(names):
            if name in PAGE_PARAMETERS or name.startswith("f."):
                raise ValueError(
                    f"inputs[{number}].field_name {name!r} is a parameter of the search page's "
                    f"own URL ({', '.join(PAGE_PARAMETERS)} and names starting f.); rename it"
                )

        def check(where: str, fields: list[str] | None) -> None:
            outside = sorted(set(fields or ()) - exposed)
            if outside:
                raise ValueError(
                    f"{where} names {', '.join(outside)}, which "
                    f"{'is' if len(outside) == 1 else 'are'} not in exposed_fields; "
                    f"only exposed fields can be shown"
                )

        check("field_config", list(self.field_config or {}))
        check("field_mappings", list((self.field_mappings or {}).values()))
        card = self.components.result_card if self.components else None
        if card is not None:
            check("components.result_card.field_order", card.field_order)
            check("components.result_card.card_fields", card.card_fields)
            check("components.result_card.modal_fields", card.modal_fields)
            for single in ("title_field", "thumbnail_field"):
                value = getattr(card, single)
                check(f"components.result_card.{single}", [value] if value else None)
        return self
