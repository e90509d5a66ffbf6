"""The page editor's form controls (`Field`), and those of a field's format: every option of
`FieldFormatOptions`, each under the kind of value it is for, so that a publisher finds a
number's decimals beside its currency and a date's format alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

# tristate: a yes-or-no that may be left unset (a select of "", "yes" and "no"); json: an
# object typed as JSON (a plugin's parameters).
Kind = Literal["text", "textarea", "bool", "int", "select", "lines", "colour", "tristate", "json"]


@dataclass(frozen=True)
class Field:
    path: str  # within the config, or within a row
    label: str
    kind: Kind = "text"
    help: str = ""
    choices: tuple[str, ...] = ()  # a select's values; "" first for "not set"
    default: Any = None  # the model's: sent unchanged for a field absent, it stays absent
    wide: bool = False
    always: bool = False  # written even when it is the default (a row's required parts)
    unset: str = ""  # what the page draws when it is left empty (a colour's placeholder)
    labels: tuple[str, ...] = ()  # a select's (or tristate's) words for its choices, in order
    suggest: tuple[str, ...] = ()  # values offered as the field is typed (a datalist)
    strip: bool = True  # spaces around the value dropped (not for "before the value"…)
    part: str = ""  # of a field's format: the kind of value it is for ("" for any)
    follows: str = ""  # a colour left empty draws as this other colour field (its path)


FIELD_FORMATS_HELP = "Automatic: chosen from the values (text, number, date, link, image)."
# A format's words in the Format list where its name alone hides what it covers: a price is a
# number with decimals and a prefix such as $ (there is no "currency" format of its own).
FORMAT_WORDS = {"number": "number (counts, prices)"}
# Every option of `FieldFormatOptions`: those most used beside the format, the rest under
# the kind of value each is for (`part`), behind "More options".
FORMAT_PARTS = (
    "Numbers",
    "Images and frames",
    "Links",
    "Yes or no",
    "Lists",
    "Plugin",
)
FORMAT_FIELDS: tuple[Field, ...] = (
    Field("format", "Format", "select", FIELD_FORMATS_HELP),
    Field("format_options.label", "Label", help="Shown instead of the field's name."),
    Field(
        "format_options.truncate_chars",
        "Cut on cards after (characters)",
        "int",
        "On the cards only: the detail view shows the whole text. For the description, this "
        "comes before Cards → Cut descriptions after.",
    ),
    Field(
        "format_options.decimals",
        "Decimals (0 to 10)",
        "int",
        "2 with $ before shows a price as $18.50; empty: as the value has them.",
    ),
    Field(
        "format_options.thousands_separator",
        "Thousands separator",
        "tristate",
        "Automatic groups thousands (12,000), but not in a field whose name says year.",
        labels=("Automatic", "Always: 12,000", "Never: 12000"),
        part="Numbers",
    ),
    Field(
        "format_options.prefix",
        "Before the value",
        help="A currency ($, €, £) or any text, up to 10 characters; spaces are kept.",
        strip=False,
    ),
    Field(
        "format_options.suffix",
        "After the value",
        help="A unit (%, kg), up to 10 characters; spaces are kept: “ kg” shows 12 kg.",
        strip=False,
    ),
    Field(
        "format_options.date_format",
        "Date format",
        help="relative (3 days ago), iso, or a pattern of YYYY, MMMM, MMM, MM, DD, HH, mm, ss, A.",
        default="relative",
        suggest=("relative", "iso", "MMM DD, YYYY", "DD/MM/YYYY", "YYYY-MM-DD", "MMM YYYY"),
    ),
    Field("format_options.show_empty", "Show it when empty", "bool", default=True),
    Field("format_options.width", "Width (pixels)", "int", part="Images and frames"),
    Field("format_options.height", "Height (pixels)", "int", part="Images and frames"),
    Field(
        "format_options.aspect_ratio",
        "Shape",
        help="16/9, 1, 4/3 or auto",
        part="Images and frames",
    ),
    Field(
        "format_options.object_fit",
        "Fit",
        "select",
        choices=("cover", "contain", "fill", "none", "scale-down"),
        default="cover",
        part="Images and frames",
    ),
    Field(
        "format_options.lazy_load",
        "Load when scrolled near",
        "bool",
        default=True,
        part="Images and frames",
    ),
    Field(
        "format_options.open_in_new_tab", "Open in a new tab", "bool", default=True, part="Links"
    ),
    Field(
        "format_options.show_domain",
        "Show the site's name instead of the address",
        "bool",
        default=False,
        part="Links",
    ),
    Field("format_options.true_label", "Yes is shown as", default="Yes", part="Yes or no"),
    Field("format_options.false_label", "No is shown as", default="No", part="Yes or no"),
    Field(
        "format_options.separator",
        "Between items",
        help="Up to 10 characters; empty: a comma and a space.",
        strip=False,
        part="Lists",
    ),
    Field("format_options.max_items", "Items shown at most", "int", part="Lists"),
    Field(
        "format_options.plugin",
        "Plugin",
        help="With the format plugin: the tag of a plugin installed in this namespace.",
        part="Plugin",
    ),
    Field(
        "format_options.version",
        "Plugin version",
        help="1.0.0; empty: the plugin's current one.",
        part="Plugin",
    ),
    Field(
        "format_options.parameters",
        "Plugin parameters (JSON)",
        "json",
        'An object, such as {"stars": 5}, over the plugin\'s own.',
        part="Plugin",
    ),
)
