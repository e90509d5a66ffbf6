"""The built-in field formats: one renderer each, registered like any plugin's.

Every value from a result is escaped here (markupsafe), and only http(s), root-relative and
`data:image/...` URLs ever reach an `href` or `src`. A renderer returns None to mean "show
nothing" (an empty value with `show_empty: false`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from markupsafe import Markup, escape

from app import jsonutil
from app.rendering.registry import Renderers
from app.schemas.display import FieldFormatOptions

MAX_TEXT = 2000
# No backslash anywhere: browsers read a backslash as "/" in http(s) URLs, so a value such as
# "/" + "\\evil.example" would be a link to another site that looks like a path.
SAFE_LINK = re.compile(r"(?:https?://[^\s\"'<>`\\]+|/(?!/)[^\s\"'<>`\\]*)")
SAFE_IMAGE = re.compile(
    r"(?:https?://[^\s\"'<>`\\]+|/(?!/)[^\s\"'<>`\\]*"
    r"|data:image/(?:png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+)"
)
IMAGE_SUFFIX = re.compile(r"\.(?:png|jpe?g|gif|webp|svg|avif)(?:\?.*)?$", re.IGNORECASE)
DATE_TOKENS = re.compile(r"YYYY|YY|MMMM|MMM|MM|M|DD|D|HH|H|mm|ss|A")
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def truncate(text: str, limit: int | None) -> str:
    if limit is not None and len(text) > limit:
        return text[: max(1, limit - 1)].rstrip() + "…"
    return text


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def render_text(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    text = value if isinstance(value, str) else _plain(value)
    return escape(truncate(text, options.truncate_chars or MAX_TEXT))


def render_number(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    number = _number(value)
    if number is None:
        return render_text(value, options, now)
    group = "" if options.thousands_separator is False else ","
    if options.decimals is not None:
        shown = f"{number:{group}.{options.decimals}f}"
    elif isinstance(number, int) or number.is_integer():
        shown = f"{int(number):{group}}"
    else:
        shown = f"{number:{group}.6g}" if abs(number) < 1e15 else f"{number:.6g}"
    return escape(f"{options.prefix or ''}{shown}{options.suffix or ''}")


def render_date(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    moment = _datetime(value)
    if moment is None:
        return render_text(value, options, now)
    if options.date_format == "iso":
        shown = moment.date().isoformat() if _is_midnight(moment) else moment.isoformat()
    elif options.date_format == "relative":
        shown = relative(moment, now)
    else:
        shown = format_date(moment, options.date_format)
    return _html('<time datetime="{}">{}</time>', moment.isoformat(), shown)


def render_url(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    if not isinstance(value, str) or not SAFE_LINK.fullmatch(value):
        return render_text(value, options, now)
    shown = urlsplit(value).hostname or value if options.show_domain else value
    target = Markup(' target="_blank" rel="noopener noreferrer"') if options.open_in_new_tab else ""
    return _html(
        '<a href="{}"{}>{}</a>', value, target, truncate(shown, options.truncate_chars or 80)
    )


def render_image(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    if not isinstance(value, str) or not SAFE_IMAGE.fullmatch(value):
        return render_text(value, options, now)
    size = Markup("")
    if options.width:
        size += _html(' width="{}"', options.width)
    if options.height:
        size += _html(' height="{}"', options.height)
    loading = Markup(' loading="lazy"') if options.lazy_load else ""
    alt = options.label or ""
    return _html('<img src="{}" alt="{}"{}{} decoding="async">', value, alt, size, loading)


def render_boolean(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    if not isinstance(value, bool):
        return render_text(value, options, now)
    label = options.true_label if value else options.false_label
    return _html('<span class="badge bool bool--{}">{}</span>', str(value).lower(), label)


def render_rating(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    """Stars out of five (to the nearest half), with the number beside them."""
    number = _number(value)
    if number is None or not 0 <= number <= 5:
        return render_number(value, options, now)
    halves = round(number * 2)
    full, half = divmod(halves, 2)
    shown = f"{number:.{options.decimals if options.decimals is not None else 1}f}"
    return _html(
        '<span class="stars" role="img" aria-label="Rated {} out of 5">'
        '<span class="on">{}</span><span class="half">{}</span><span class="off">{}</span>'
        '</span> <span class="rating-n" aria-hidden="true">{}</span>',
        shown,
        "★" * full,
        "★" * half,
        "★" * (5 - full - half),
        shown,
    )


def render_badge(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    """A status ("New", "Sale", "Draft") as a badge; a boolean says its true or false label."""
    if isinstance(value, bool):
        return render_boolean(value, options, now)
    text = truncate(_plain(value), options.truncate_chars or 40)
    return _html('<span class="badge">{}</span>', text)


def render_array(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    items = value if isinstance(value, list) else [value]
    shown = items[: options.max_items] if options.max_items else items
    parts = [escape(truncate(_plain(item), 200)) for item in shown]
    more = len(items) - len(shown)
    joined = escape(options.separator).join(parts)
    if more > 0:
        joined += _html(' <span class="more">+{} more</span>', more)
    return joined


def render_object(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
    if not isinstance(value, dict):
        return render_text(value, options, now)
    rows = Markup("").join(
        _html("<dt>{}</dt><dd>{}</dd>", truncate(str(key), 100), truncate(_plain(item), 200))
        for key, item in list(value.items())[:20]
    )
    return _html('<dl class="object">{}</dl>', rows)


def infer_format(value: Any) -> str:
    """The format of a field the publisher did not configure, from its value."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str) and value.startswith(("http", "/")) and SAFE_LINK.fullmatch(value):
        return "image" if IMAGE_SUFFIX.search(value) else "url"
    return "text"


def register(renderers: Renderers) -> None:
    """The built-in formats; all but dates (which may say "3 days ago") draw a value the
    same at any time."""
    renderers.register("text", render_text, timeless=True)
    renderers.register("number", render_number, timeless=True)
    renderers.register("date", render_date)
    renderers.register("url", render_url, timeless=True)
    renderers.register("image", render_image, timeless=True)
    renderers.register("boolean", render_boolean, timeless=True)
    renderers.register("array", render_array, timeless=True)
    renderers.register("rating", render_rating, timeless=True)
    renderers.register("badge", render_badge, timeless=True)
    renderers.register("object", render_object, timeless=True)


def builtin_renderers() -> Renderers:
    """A registry holding the built-in formats (plugins add theirs to it)."""
    renderers = Renderers(infer_format)
    register(renderers)

    def plugin_text(value: Any, options: FieldFormatOptions, now: datetime) -> Markup | None:
        """A plugin's field as text: what shows before its frame answers, or without one."""
        return renderers.render(value, None, now)

    renderers.register("plugin", plugin_text)
    return renderers


# Helpers ------------------------------------------------------------------------------------


def _html(template: str, *values: Any) -> Markup:
    """`Markup(template).format(*values)`: each value escaped unless it is markup already, but
    without markupsafe's formatter, which is written in Python and took a fifth of the time
    of a card's fields."""
    return Markup(template.format(*[escape(value) for value in values]))  # noqa: S704


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return jsonutil.dumps(value).decode()[:MAX_TEXT]
    return str(value)


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value) if "." in value or "e" in value.lower() else int(value)
        except ValueError:
            return None
    return None


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _is_midnight(moment: datetime) -> bool:
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def relative(moment: datetime, now: datetime) -> str:
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (
        ("year", 31_536_000),
        ("month", 2_592_000),
        ("week", 604_800),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
    ):
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def format_date(moment: datetime, pattern: str) -> str:
    """`MMM DD, YYYY` and friends (the tokens of moment.js and day.js)."""
    values = {
        "YYYY": f"{moment.year:04d}",
        "YY": f"{moment.year % 100:02d}",
        "MMMM": MONTHS[moment.month - 1],
        "MMM": MONTHS[moment.month - 1][:3],
        "MM": f"{moment.month:02d}",
        "M": str(moment.month),
        "DD": f"{moment.day:02d}",
        "D": str(moment.day),
        "HH": f"{moment.hour:02d}",
        "H": str(moment.hour),
        "mm": f"{moment.minute:02d}",
        "ss": f"{moment.second:02d}",
        "A": "AM" if moment.hour < 12 else "PM",
    }
    return DATE_TOKENS.sub(lambda match: values[match.group(0)], pattern)
