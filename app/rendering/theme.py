"""The theme as CSS custom properties, and the WCAG contrast check done at publish time.

Every value here was held to a closed grammar when the config was validated (hex colours,
CSS lengths, font names), and the config is validated again whenever it is loaded, so the
CSS built here cannot break out of its declarations.
"""

from __future__ import annotations

from typing import Literal

from markupsafe import Markup

from app.schemas.display import DisplayConfig, ThemeConfig

AA_NORMAL_TEXT = 4.5
# The light palette of static/app.css, drawn wherever the theme sets no colour of its own.
LIGHT_BACKGROUND = "#FFFFFF"
LIGHT_SURFACE = "#FFFFFF"
LIGHT_TEXT = "#1F2937"
LIGHT_MUTED = "#5B6472"
LIGHT_BORDER = "#D8DEE6"
DARK_TEXT = "#111827"
BUTTON_TEXTS = ("#FFFFFF", DARK_TEXT)  # a button's text: white, or near black when white fails
# The dark variant's colours (when the theme sets no background); links and chips are drawn
# on the surface, the lighter of the two, so their colour is checked against it.
DARK = {
    "--bg": "#0F172A",
    "--surface": "#1E293B",
    "--text": "#E2E8F0",
    "--muted": "#A3B1C6",
    "--border": "#334155",
    "--subtle": "#172033",
}
Scheme = Literal["auto", "light", "dark"]
TARGET = 4.6  # a little over AA, so that rounding in a browser never drops below it


def css_variables(config: DisplayConfig, scheme: Scheme = "auto") -> str:
    """One `:root{...}` rule (and a dark variant when the theme sets no background). A
    `scheme` other than auto draws that variant whatever the reader prefers (the console's
    preview shows both)."""
    theme = config.theme or ThemeConfig()
    layout = config.layout
    columns = layout.columns if layout else 3
    gap = layout.gap if layout else "16px"
    values = {
        "--primary": theme.primary_color,
        "--secondary": theme.secondary_color or theme.primary_color,
        "--font": theme.font_family,
        "--heading-font": theme.heading_font_family or theme.font_family,
        "--radius": theme.border_radius,
        "--columns": str(columns),
        "--gap": gap,
    }
    optional = {
        "--bg": theme.background_color,
        "--text": theme.text_color,
        "--surface": theme.surface_color,
        "--muted": theme.muted_color,
        "--border": theme.border_color,
    }
    values.update({name: value for name, value in optional.items() if value})
    values["--link"] = link_colour(theme)
    values["--accent"], values["--on-accent"] = button_colours(theme.primary_color)
    rule = ":root{" + ";".join(f"{name}:{value}" for name, value in values.items()) + "}"
    if theme.background_color is None and scheme != "light":
        # No background chosen: follow the reader's light or dark preference.
        dark = {**DARK, "--link": readable(theme.primary_color, DARK["--surface"])}
        variant = ":root{" + ";".join(f"{name}:{value}" for name, value in dark.items()) + "}"
        rule += (
            variant if scheme == "dark" else "@media (prefers-color-scheme:dark){" + variant + "}"
        )
    return rule


def link_colour(theme: ThemeConfig) -> str:
    """Links in the primary colour, made readable: a light primary is darkened for links on a
    light page, a dark one lightened on a dark page."""
    return readable(theme.primary_color, _link_ground(theme))


def _link_ground(theme: ThemeConfig) -> str:
    return theme.surface_color or theme.background_color or LIGHT_BACKGROUND


def readable(colour: str, background: str, target: float = TARGET) -> str:
    """`colour`, mixed step by step toward black (on a light background) or white (on a dark
    one) until it reaches `target` contrast against `background`."""
    toward = "#000000" if _luminance(background) > 0.18 else "#FFFFFF"
    for step in range(21):
        mixed = _mix(colour, toward, step / 20)
        if contrast(mixed, background) >= target:
            return mixed
    return toward


def button_colours(primary: str) -> tuple[str, str]:
    """(background, text) for a button in the primary colour: white or near-black text,
    whichever reads on it, or white on a darker primary when neither does."""
    for text in BUTTON_TEXTS:
        if contrast(text, primary) >= TARGET:
            return primary, text
    return readable(primary, "#FFFFFF"), "#FFFFFF"


def _mix(colour: str, other: str, share: float) -> str:
    a, b = _rgb(colour), _rgb(other)
    mixed = [round(x + (y - x) * share) for x, y in zip(a, b, strict=True)]
    return "#" + "".join(f"{channel:02X}" for channel in mixed)


def _rgb(colour: str) -> list[int]:
    digits = colour.lstrip("#")
    if len(digits) in (3, 4):
        digits = "".join(c * 2 for c in digits[:3])
    return [int(digits[i : i + 2], 16) for i in (0, 2, 4)]


def field_css(config: DisplayConfig) -> str:
    """Thumbnail and image-field sizing, as rules (a strict CSP forbids style attributes)."""
    rules = []
    card = config.components.result_card if config.components else None
    if card is not None:
        # A ratio the publisher set wins over the page kind's own (`.page` weighs as much as
        # the kind's class, and this rule comes later); unset, the kind chooses.
        ratio = (
            f"aspect-ratio:{card.thumbnail_aspect_ratio};"
            if "thumbnail_aspect_ratio" in card.model_fields_set
            else ""
        )
        rules.append(
            f".page .thumb img,.detail-thumb img{{{ratio}object-fit:{card.thumbnail_fit}}}"
        )
    for name, field in (config.field_config or {}).items():
        options = field.format_options
        if field.format != "image" or options is None:
            continue
        ratio = f"aspect-ratio:{options.aspect_ratio};" if options.aspect_ratio else ""
        selector = ".f-" + name.replace(".", "-")
        rules.append(f"{selector} img{{{ratio}object-fit:{options.object_fit}}}")
    return "".join(rules)


def page_css(config: DisplayConfig, scheme: Scheme = "auto") -> Markup:
    """The page's CSS, for a `<style>` element as it is: HTML-escaping it would turn the quotes
    of `'Segoe UI'` into entities, which CSS does not read, and drop the whole font stack. The
    grammars above keep every value inside its declaration; a `<` (which none of them allows)
    is still written as a CSS escape, so that nothing could ever close the element."""
    css = (css_variables(config, scheme) + field_css(config)).replace("<", "\\3C ")
    return Markup(css)  # noqa: S704 - built from validated grammars, "<" escaped above


def _luminance(colour: str) -> float:
    channels = [value / 255 for value in _rgb(colour)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def contrast_warnings(config: DisplayConfig) -> list[str]:
    """What the page draws below WCAG AA (4.5:1 for text) with the theme, and where it draws
    links or buttons in another colour than primary_color so that they read, for the publisher
    to see. Each colour is the one the page uses: the theme's, the stylesheet's where the theme
    sets none, and for links and buttons the readable ones above."""
    theme = config.theme
    if theme is None:
        return []
    grounds = [_named("background_color", theme.background_color, LIGHT_BACKGROUND)]
    surface = _named("surface_color", theme.surface_color, LIGHT_SURFACE)
    if surface[1] != grounds[0][1]:
        grounds.append(surface)
    link = link_colour(theme)
    colours = [
        _named("text_color", theme.text_color, LIGHT_TEXT),
        _named("muted_color", theme.muted_color, LIGHT_MUTED),
        ("link colour", link),
    ]
    checks = [(colour, ground) for colour in colours for ground in grounds]
    accent, on_accent = button_colours(theme.primary_color)
    checks.append((("button text", on_accent), ("the buttons' colour", accent)))
    warnings = []
    for (name, fore), (ground, back) in checks:
        ratio = contrast(fore, back)
        if ratio < AA_NORMAL_TEXT:
            warnings.append(
                f"theme: {name} {fore} has a contrast of {ratio:.2f}:1 against {ground} {back}; "
                f"WCAG AA asks for at least {AA_NORMAL_TEXT}:1"
            )
    primary, ground = theme.primary_color, _link_ground(theme)
    if _rgb(link) != _rgb(primary) and contrast(primary, ground) < AA_NORMAL_TEXT:
        warnings.append(
            f"theme: links are drawn in {link}, not primary_color {primary}, whose contrast "
            f"against {ground} is {contrast(primary, ground):.2f}:1 (WCAG AA asks for "
            f"{AA_NORMAL_TEXT}:1)"
        )
    best_text = max(contrast(text, primary) for text in BUTTON_TEXTS)
    if _rgb(accent) != _rgb(primary) and best_text < AA_NORMAL_TEXT:
        warnings.append(
            f"theme: buttons are drawn in {accent}, not primary_color {primary}, on which "
            f"neither white nor dark text reaches WCAG AA's {AA_NORMAL_TEXT}:1"
        )
    return warnings


def _named(name: str, chosen: str | None, default: str) -> tuple[str, str]:
    """A colour as the publisher knows it: by its setting, or as the page's default."""
    return (name, chosen) if chosen else (f"the default for {name}", default)
