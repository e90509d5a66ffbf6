"""Field renderers by name: the one seam every `field_config.format` goes through.

A renderer takes a value, its format options and the time of the page, and returns safe
markup, or None for "show nothing". The built-in formats (`app/rendering/formats.py`) are
registered the same way a plugin's renderer is; a display config may only name a format that
is registered (`check`, run when a config is published or changed).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from app.errors import InvalidInput
from app.kept import Kept
from app.schemas.display import DisplayConfig, FieldConfig, FieldFormatOptions

Renderer = Callable[[Any, FieldFormatOptions, datetime], Markup | None]
# One field's renderer with its config settled (`Renderers.compiled`): the drawing, and its format.
Compiled = Callable[[Any, datetime], tuple[Markup | None, str]]
EMPTY = Markup('<span class="empty">—</span>')
DEFAULT_OPTIONS = FieldFormatOptions()  # shared and never changed: built once, not per value
YEAR_OPTIONS = FieldFormatOptions(thousands_separator=False)  # the defaults, for a year field
# The words of a field name: `release_year`, `model-year`, `yearBuilt`, `Fiscal Year`.
NAME_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
FIELD_NAMES_CACHED = 1024
# Drawings of a field's text values and numbers kept (`compiled`), over every config: a popular
# result's fields are drawn once, not on every page that lists it. Texts longer than KEPT_CHARS
# are drawn each time (a long text is rarely a repeated one).
DRAWN_KEPT = 8192
KEPT_CHARS = 200
_drawn: Kept[tuple[Any, ...], tuple[Markup | None, str]] = Kept(DRAWN_KEPT)
_compiled_serials = itertools.count()  # one a compiled field: never reused, unlike an id()


class Renderers:
    def __init__(self, infer: Callable[[Any], str]) -> None:
        self.infer = infer  # the format of a field the publisher did not configure
        self._renderers: dict[str, Renderer] = {}
        # Formats whose drawing depends on the value and its options alone, never on the time.
        self._timeless: set[str] = set()

    def register(self, name: str, renderer: Renderer, *, timeless: bool = False) -> None:
        """`timeless`: the renderer draws a value the same whatever the time of the page (a
        text value's drawing may be kept and reused)."""
        if name in self._renderers:
            raise ValueError(f"a renderer named {name!r} is registered already")
        self._renderers[name] = renderer
        if timeless:
            self._timeless.add(name)

    def timeless(self, name: str) -> bool:
        """Whether the format `name` draws a value the same whatever the time of the page."""
        return name in self._timeless

    def names(self) -> list[str]:
        return sorted(self._renderers)

    def __contains__(self, name: object) -> bool:
        return name in self._renderers

    def render(
        self, value: Any, config: FieldConfig | None, now: datetime, name: str = ""
    ) -> Markup | None:
        """`value` of the field `name` drawn by its configured (or inferred) format."""
        options = (config.format_options if config else None) or DEFAULT_OPTIONS
        if value is None or value == "" or value == [] or value == {}:
            return EMPTY if options.show_empty else None
        if options.thousands_separator is None and names_a_year(name):
            options = _year_options(options)
        name = config.format if config and config.format else self.infer(value)
        return self._renderers[name](value, options, now)

    def compiled(self, config: FieldConfig | None, name: str = "") -> Compiled:
        """`render` for one field of a display config, with what depends only on the config
        settled once (its options, the year rule, the format when it is configured): a card
        draws the same fields for every document of every search of that config. Gives the
        drawing and the format it was drawn by (configured, or inferred from the value)."""
        options = (config.format_options if config else None) or DEFAULT_OPTIONS
        if options.thousands_separator is None and names_a_year(name):
            options = _year_options(options)
        empty = EMPTY if options.show_empty else None
        configured = config.format if config and config.format else None
        fixed = self._renderers[configured] if configured else None
        infer, renderers, timeless = self.infer, self._renderers, self._timeless
        serial = next(_compiled_serials)

        def draw(value: Any, now: datetime) -> tuple[Markup | None, str]:
            # A text value or a number of a timeless format: drawn once, and kept (by its exact
            # type, so that no other value equal to it shares its drawing: not 1, 1.0 and True;
            # nor 0.0 and -0.0, so no zero is kept).
            kind_of = type(value)
            if kind_of is str:
                key: tuple[Any, ...] | None = (serial, value) if len(value) <= KEPT_CHARS else None
            elif (kind_of is int or kind_of is float) and value:
                key = (serial, kind_of, value)
            else:
                key = None
            if key is not None:
                kept = _drawn.get(key)
                if kept is not None:
                    return kept
            kind = configured or infer(value)
            if value is None or value == "" or value == [] or value == {}:
                return empty, kind
            drawn = (fixed or renderers[kind])(value, options, now), kind
            if key is not None and kind in timeless:
                _drawn.put(key, drawn)
            return drawn

        return draw

    def check(self, display: DisplayConfig, where: str) -> None:
        """A 422 naming the first `field_config` entry whose format is not registered."""
        for field, config in (display.field_config or {}).items():
            if config.format is not None and config.format not in self._renderers:
                location = f"{where}.field_config.{field}.format"
                allowed = ", ".join(self.names())
                raise InvalidInput(
                    f"Invalid request: {location}: {config.format[:60]!r} is not a format; "
                    f"the formats are {allowed}",
                    details={"errors": [{"field": location, "message": f"one of {allowed}"}]},
                )


@lru_cache(maxsize=FIELD_NAMES_CACHED)
def names_a_year(name: str) -> bool:
    """A field whose name has the word "year" holds years (2019), which are no quantity to
    group by thousands; "years" (`warranty_years`) counts them, and is one."""
    return any(word.lower() == "year" for word in NAME_WORDS.findall(name))


def _year_options(options: FieldFormatOptions) -> FieldFormatOptions:
    if options is DEFAULT_OPTIONS:
        return YEAR_OPTIONS
    return options.model_copy(update={"thousands_separator": False})
