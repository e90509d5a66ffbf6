"""The page editor's form: every display-config field, grouped as a publisher thinks of the
page, each named by its path in the config (`theme.primary_color`), so that an error the
config's models report lands beside the field it is about.

Lists of things (inputs, markdown panels, links, field formats) are rows: `inputs.0.label`.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.rendering.theme import (
    DARK,
    LIGHT_BACKGROUND,
    LIGHT_BORDER,
    LIGHT_MUTED,
    LIGHT_SURFACE,
    LIGHT_TEXT,
)
from app.schemas.display import InputType, ThemeConfig
from app.services.editor_fields import FORMAT_FIELDS, Field

__all__ = ["FIELDS", "GROUPS", "ROWS", "Field", "Group", "Rows", "error_label"]


@dataclass(frozen=True)
class Rows:
    """A list in the config (`inputs`), or the per-field formats (`field_config`)."""

    path: str
    label: str
    fields: tuple[Field, ...]
    most: int


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    intro: str
    fields: tuple[Field, ...] = ()
    rows: Rows | None = None


def _colour(path: str, label: str, unset: str, help: str = "") -> Field:
    return Field(
        path, label, "colour", help or f"A hex colour; empty: the page's own, {unset}.", unset=unset
    )


PRIMARY = ThemeConfig().primary_color
INPUT_TYPES = ("text", "textarea", "number", "checkbox", "select", "multiselect", "date", "file")

GROUPS: tuple[Group, ...] = (
    Group(
        "text",
        "Title and text",
        "What the top of the page says.",
        (
            Field("title", "Title", help="Up to 200 characters; the page's heading."),
            Field("description", "Description", "textarea", "Under the title; plain text."),
            Field("logo_url", "Logo image URL", help="An https:// image, shown beside the title."),
            Field("custom_cta.label", "Call-to-action button label", help="Up to 50 characters."),
            Field(
                "custom_cta.markdown_content",
                "Call-to-action text (Markdown)",
                "textarea",
                "What the button opens; both or neither.",
                wide=True,
            ),
        ),
    ),
    Group(
        "links",
        "Links",
        "Links shown in the page's header.",
        rows=Rows(
            "external_links",
            "Link",
            (Field("name", "Name"), Field("url", "URL", help="https://…")),
            20,
        ),
    ),
    Group(
        "inputs",
        "Inputs",
        "The search form: one input a row, in order. An input named query is the search box.",
        rows=Rows(
            "inputs",
            "Input",
            (
                Field("field_name", "Name", help="query for the search box"),
                Field("label", "Label"),
                Field(
                    "input_type",
                    "Control",
                    "select",
                    choices=INPUT_TYPES,
                    default="text",
                    always=True,
                ),
                Field(
                    "field_schema.type",
                    "Value type",
                    "select",
                    choices=tuple(InputType),
                    default="text",
                    always=True,
                ),
                Field("placeholder", "Placeholder"),
                Field("helper_text", "Help text"),
                Field("suggestions", "Suggestions", "lines", "One a line."),
                Field("required", "Needed to search", "bool", default=True),
                Field("order", "Order", "int", default=0),
            ),
            20,
        ),
    ),
    Group(
        "fields",
        "Fields and formats",
        "Which fields of the documents may leave the server, and how each is shown.",
        (
            Field(
                "exposed_fields",
                "Fields shown",
                "lines",
                "One field a line. Only these leave the server; every other is kept back.",
            ),
        ),
        Rows("field_config", "Format", FORMAT_FIELDS, 100),
    ),
    Group(
        "cards",
        "Cards",
        "How each result looks in the list.",
        (
            Field(
                "template_type",
                "Template",
                "select",
                choices=("", "product-grid", "portrait-gallery", "media-search", "document-search"),
            ),
            Field("components.result_card.title_field", "Title field"),
            Field(
                "components.result_card.card_fields", "Fields on the card", "lines", "One a line."
            ),
            Field("components.result_card.field_order", "Field order", "lines", "One a line."),
            Field(
                "components.result_card.layout",
                "Card layout",
                "select",
                choices=("vertical", "horizontal"),
                default="vertical",
            ),
            Field(
                "components.result_card.card_style",
                "Card preset",
                "select",
                choices=("default", "portrait-discovery", "media-search", "document-search"),
                default="default",
            ),
            Field(
                "components.result_card.show_thumbnail", "Show a thumbnail", "bool", default=True
            ),
            Field("components.result_card.thumbnail_field", "Thumbnail field"),
            Field(
                "components.result_card.thumbnail_aspect_ratio",
                "Thumbnail shape",
                help="16/9, 1, 4/3 or auto",
                default="16/9",
            ),
            Field(
                "components.result_card.thumbnail_fit",
                "Thumbnail fit",
                "select",
                choices=("cover", "contain", "fill", "none", "scale-down"),
                default="cover",
            ),
            Field(
                "components.result_card.truncate_title",
                "Cut titles after (characters)",
                "int",
                "On the cards; the detail view shows the whole title.",
            ),
            Field(
                "components.result_card.truncate_description",
                "Cut descriptions after (characters)",
                "int",
                "On the cards, unless the description's field sets its own cut (Fields → "
                "Cut on cards after); the detail view shows the whole text.",
            ),
            Field("components.result_card.show_score", "Show the score", "bool", default=False),
            Field(
                "components.result_card.show_meaning_hint",
                "Mark results found by meaning alone",
                "bool",
                default=False,
            ),
        ),
    ),
    Group(
        "layout",
        "Layout",
        "How the page and its results are laid out.",
        (
            Field(
                "layout.mode",
                "Results as",
                "select",
                choices=("grid", "list", "masonry"),
                default="grid",
            ),
            Field("layout.columns", "Columns (1 to 6)", "int", default=3),
            Field(
                "layout.gap", "Gap between cards", help="A CSS length: 16px, 1rem", default="16px"
            ),
            Field("layout.full_width", "Full width", "bool", default=False),
            Field("components.show_hero", "Show the title block", "bool", default=True),
            Field("components.show_search", "Show the search form", "bool", default=True),
            Field(
                "components.show_results_header", "Show the results header", "bool", default=True
            ),
        ),
    ),
    Group(
        "theme",
        "Theme",
        "Colours and type. Leave the background empty for a page that follows the visitor's "
        "light or dark setting; set it for fixed colours.",
        (
            _colour("theme.primary_color", "Main colour", PRIMARY, "Buttons and links."),
            Field(
                "theme.secondary_color",
                "Second colour",
                "colour",
                "Empty: the main colour.",
                follows="theme.primary_color",
            ),
            _colour(
                "theme.background_color",
                "Background",
                LIGHT_BACKGROUND,
                f"Empty: {LIGHT_BACKGROUND}, or {DARK['--bg']} for a visitor who prefers dark.",
            ),
            _colour("theme.text_color", "Text", LIGHT_TEXT),
            _colour("theme.surface_color", "Cards", LIGHT_SURFACE),
            _colour("theme.muted_color", "Muted text", LIGHT_MUTED),
            _colour("theme.border_color", "Borders", LIGHT_BORDER),
            Field("theme.font_family", "Font", help="Font names, comma-separated"),
            Field("theme.heading_font_family", "Heading font"),
            Field(
                "theme.border_radius", "Corner radius", help="A CSS length: 12px", default="12px"
            ),
            Field(
                "theme.card_style",
                "Card style",
                "select",
                choices=("elevated", "flat", "bordered", "glass"),
                default="elevated",
            ),
            Field(
                "theme.card_hover_effect",
                "Card hover",
                "select",
                choices=("lift", "glow", "scale", "none"),
                default="lift",
            ),
        ),
    ),
    Group(
        "markdowns",
        "Text panels",
        "Markdown panels shown beside the results (about, how to search…).",
        rows=Rows(
            "markdowns",
            "Panel",
            (Field("title", "Title"), Field("content", "Markdown", "textarea", wide=True)),
            20,
        ),
    ),
    Group(
        "seo",
        "Search engines and sharing",
        "What search engines and link previews show.",
        (
            Field("seo.meta_title", "Title for search engines", help="Up to 60 characters"),
            Field("seo.meta_description", "Description", "textarea", "Up to 160 characters"),
            Field("seo.keywords", "Keywords", "lines", "One a line."),
            Field("seo.og_image_url", "Share image URL", help="https://…"),
            Field("seo.og_image_alt", "Share image description"),
            Field("seo.site_name", "Site name"),
            Field("seo.author", "Author"),
            Field("seo.canonical_url", "Canonical URL"),
            Field("seo.robots", "Robots", help="index, follow", default="index, follow"),
            Field("seo.locale", "Locale", help="en_US", default="en_US"),
            Field(
                "seo.twitter_card",
                "Link card",
                "select",
                choices=("summary_large_image", "summary", "app", "player"),
                default="summary_large_image",
            ),
        ),
    ),
    Group(
        "filters",
        "Filters and detail view",
        "The filters panel, and what a click on a result opens.",
        (
            Field("components.show_filters", "Show the filters panel", "bool", default=False),
            Field(
                "extensions.filters",
                "Fields to filter on",
                "lines",
                "One a line, in order; empty: the fields with few distinct values.",
            ),
            Field(
                "components.result_card.card_click_action",
                "A click on a result",
                "select",
                choices=("viewDetails", "findSimilar", "none"),
                default="viewDetails",
            ),
            Field(
                "components.result_card.modal_fields",
                "Fields in the detail view",
                "lines",
                "One a line; empty: every exposed field.",
            ),
            Field(
                "components.result_card.show_find_similar",
                "Offer “find similar”",
                "bool",
                default=False,
            ),
        ),
    ),
)

# Every field's form name: the top-level ones, and each row's, without its number.
FIELDS: dict[str, Field] = {f.path: f for g in GROUPS for f in g.fields}
ROWS: dict[str, Rows] = {g.rows.path: g.rows for g in GROUPS if g.rows is not None}


def error_label(name: str, row_fields: list[str]) -> str:
    """A form field's name in words, as the list of errors above the form says it: "year →
    Format", "Input 2 → Label", "Theme → Main colour". `row_fields` are the fields the
    format rows are about, in order."""
    if name in FIELDS:
        group = next(g for g in GROUPS if any(f.path == name for f in g.fields))
        return f"{group.title} → {FIELDS[name].label}"
    head, _, rest = name.partition(".")
    number, _, inner = rest.partition(".")
    rows = ROWS.get(head)
    if rows is None or not number.isdigit():
        return name
    if head == "field_config":
        row = row_fields[int(number)] if int(number) < len(row_fields) else number
    else:
        row = f"{rows.label} {int(number) + 1}"
    if inner == "shown":
        return f"{row} → Shown on the page"
    if inner == "unsearch":
        return f"{row} → Also stop searching it"
    field = next((f for f in rows.fields if f.path == inner), None)
    return f"{row} → {field.label}" if field else row
