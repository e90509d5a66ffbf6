"""Field formats, markdown and theme CSS: every format and option, and hostile values."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import InvalidInput
from app.rendering.formats import builtin_renderers, format_date, relative
from app.rendering.markdown import render_markdown
from app.rendering.marks import marked
from app.rendering.theme import contrast, contrast_warnings, css_variables, page_css
from app.schemas.display import DisplayConfig, FieldConfig
from tests.helpers import display_config

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)
RENDERERS = builtin_renderers()
FORMATS = [
    "text",
    "number",
    "date",
    "url",
    "image",
    "boolean",
    "array",
    "object",
    "rating",
    "badge",
]
render_field = RENDERERS.render


def field(fmt: str, value: Any, **options: Any) -> str:
    config = FieldConfig.model_validate({"format": fmt, "format_options": options}, strict=False)
    rendered = render_field(value, config, NOW)
    return "" if rendered is None else str(rendered)


def test_the_built_in_formats_are_registered() -> None:
    assert RENDERERS.names() == sorted([*FORMATS, "plugin"])


def test_a_plugin_field_shows_as_text_until_its_frame_answers() -> None:
    # The plugin format's own renderer is the fallback: the value as an unconfigured field.
    assert field("plugin", 4.5, plugin="star-rating") == field("number", 4.5)
    assert field("plugin", "<b>", plugin="star-rating") == "&lt;b&gt;"


@pytest.mark.parametrize(
    "config",
    [
        {"format": "plugin"},
        {"format": "plugin", "format_options": {"label": "Rating"}},
        {"format": "number", "format_options": {"plugin": "star-rating"}},
        {"format": "plugin", "format_options": {"plugin": "Bad Tag"}},
        {"format": "plugin", "format_options": {"plugin": "stars", "version": "1.0"}},
        {"format": "plugin", "format_options": {"plugin": "stars", "parameters": []}},
    ],
)
def test_a_plugin_field_names_a_plugin(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"plugin|version|parameters"):
        FieldConfig.model_validate(config, strict=False)


def test_a_config_may_name_only_a_registered_format() -> None:
    good = DisplayConfig.model_validate(
        display_config(field_config={"price": {"format": "number"}}), strict=False
    )
    RENDERERS.check(good, "display_config")
    bad = DisplayConfig.model_validate(
        display_config(field_config={"price": {"format": "sparkline"}}), strict=False
    )
    with pytest.raises(InvalidInput) as refused:
        RENDERERS.check(bad, "display_config")
    assert refused.value.details["errors"][0]["field"] == "display_config.field_config.price.format"
    assert "'sparkline' is not a format" in refused.value.message


def test_text() -> None:
    assert field("text", "Hello") == "Hello"
    assert field("text", "abcdefghij", truncate_chars=5) == "abcd…"
    assert field("text", "", show_empty=True) == '<span class="empty">—</span>'
    assert field("text", None, show_empty=False) == ""
    assert field("text", 42) == "42"


def test_number() -> None:
    assert field("number", 1234567.891, decimals=2) == "1,234,567.89"
    assert field("number", 19.5, decimals=2, prefix="$") == "$19.50"
    assert field("number", 4.4, decimals=1, suffix=" / 5") == "4.4 / 5"
    assert field("number", 1000) == "1,000"
    assert field("number", "12.5", decimals=0) == "12"  # numeric strings are numbers
    assert field("number", "n/a") == "n/a"
    assert field("number", 3, prefix="<b>") == "&lt;b&gt;3"


def test_a_year_is_shown_without_thousands_separators() -> None:
    def shown(name: str, value: Any, config: FieldConfig | None = None) -> str:
        return str(render_field(value, config, NOW, name))

    for name in ("year", "Year", "release_year", "model-year", "yearBuilt", "fiscal year"):
        assert shown(name, 2019) == "2019", name
    assert shown("year", "2019") == "2019"  # a CSV's year arrives as text when quoted
    assert shown("year", 2019.0) == "2019"
    number = FieldConfig.model_validate({"format": "number"}, strict=False)
    assert shown("release_year", 2019, number) == "2019"  # configured as a number, still a year
    # A count of years, and a number in a field that does not say year, are quantities.
    assert shown("warranty_years", 2019) == "2,019"
    assert shown("yearly_visitors", 12000) == "12,000"
    assert shown("price", 2019) == "2,019"
    # The publisher decides either way with format_options.thousands_separator.
    grouped = FieldConfig.model_validate(
        {"format": "number", "format_options": {"thousands_separator": True}}, strict=False
    )
    assert shown("year", 2019, grouped) == "2,019"
    plain = FieldConfig.model_validate(
        {"format": "number", "format_options": {"thousands_separator": False}}, strict=False
    )
    assert shown("founded", 1998, plain) == "1998"
    assert field("number", 1234567.891, decimals=2, thousands_separator=False) == "1234567.89"


def test_date_formats() -> None:
    assert field("date", "2024-12-20", date_format="MMM DD, YYYY") == (
        '<time datetime="2024-12-20T00:00:00+00:00">Dec 20, 2024</time>'
    )
    assert "2024-12-20</time>" in field("date", "2024-12-20", date_format="iso")
    assert "2026-03-02T09:30:00+00:00</time>" in field(
        "date", "2026-03-02T09:30:00Z", date_format="iso"
    )
    assert ">2 hours ago</time>" in field("date", "2026-03-02T10:00:00Z", date_format="relative")
    assert ">in 3 days</time>" in field("date", "2026-03-05T12:00:00Z")  # relative by default
    assert field("date", "not a date") == "not a date"
    assert "1 year ago" in field("date", 1740916800)  # a Unix timestamp
    assert format_date(NOW, "D MMMM YY HH:mm:ss A") == "2 March 26 12:00:00 PM"
    assert relative(NOW, NOW) == "just now"


def test_url() -> None:
    out = field("url", "https://shop.example.com/p/1?x=1&y=2")
    assert out == (
        '<a href="https://shop.example.com/p/1?x=1&amp;y=2" target="_blank" '
        'rel="noopener noreferrer">https://shop.example.com/p/1?x=1&amp;y=2</a>'
    )
    assert ">shop.example.com</a>" in field("url", "https://shop.example.com/p/1", show_domain=True)
    assert "target" not in field("url", "https://example.com", open_in_new_tab=False)


def test_image() -> None:
    out = field("image", "/static/a.svg", width=120, height=80, lazy_load=True, label="Photo")
    assert out == (
        '<img src="/static/a.svg" alt="Photo" width="120" height="80" '
        'loading="lazy" decoding="async">'
    )
    assert "loading" not in field("image", "https://cdn.example/a.png", lazy_load=False)
    assert field("image", "data:image/png;base64,iVBORw0KGgo=").startswith('<img src="data:image')


def test_boolean_array_object() -> None:
    assert field("boolean", True, true_label="In stock") == (
        '<span class="badge bool bool--true">In stock</span>'
    )
    assert ">No</span>" in field("boolean", False)
    assert field("array", ["a", "b", "c", "d"], separator=" · ", max_items=2) == (
        'a · b <span class="more">+2 more</span>'
    )
    assert field("array", ["x", 1, True]) == "x, 1, true"
    assert field("object", {"colour": "red", "size": 3}) == (
        '<dl class="object"><dt>colour</dt><dd>red</dd><dt>size</dt><dd>3</dd></dl>'
    )


def test_formats_are_inferred_when_not_configured() -> None:
    assert str(render_field(True, None, NOW)).startswith('<span class="badge bool')
    assert str(render_field(1500, None, NOW)) == "1,500"
    assert str(render_field("https://a.example/x.png", None, NOW)).startswith("<img")
    assert str(render_field("https://a.example/page", None, NOW)).startswith("<a href")
    assert str(render_field(["a"], None, NOW)) == "a"


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    " javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/x.png",
    'https://ok.example/"onmouseover="alert(1)',
    "</style><script>x()</script>",
    "<svg onload=alert(1)>",
]


def _assert_inert(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<svg" not in lowered
    assert "onerror=" not in lowered.replace("&#34;", '"').replace(" ", "") or "&lt;" in lowered
    for scheme in ("javascript:", "vbscript:", "data:text"):
        assert f'href="{scheme}' not in lowered
        assert f'src="{scheme}' not in lowered
        assert f'href=" {scheme}' not in lowered
    assert 'src="//' not in lowered
    assert 'href="//' not in lowered
    assert '" onmouseover' not in lowered


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_escaped_in_every_format(fmt: str, value: str) -> None:
    _assert_inert(field(fmt, value))
    _assert_inert(field(fmt, [value, value]))
    _assert_inert(field(fmt, {value: value}))


@settings(max_examples=300, deadline=None)
@given(
    fmt=st.sampled_from(FORMATS),
    value=st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text()
        | st.sampled_from(HOSTILE),
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
        ),
        max_leaves=8,
    ),
)
def test_any_value_in_any_format_renders_no_executable_markup(fmt: str, value: Any) -> None:
    html = field(fmt, value)
    lowered = html.lower()
    assert "<script" not in lowered
    # The only tags a renderer writes are its own.
    import re

    tags = set(re.findall(r"<([a-z]+)", lowered))
    assert tags <= {"span", "time", "a", "img", "dl", "dt", "dd"}
    inside_tags = " ".join(re.findall(r"<[a-z][^>]*>", html))
    for attribute in re.findall(r"\s([a-z-]+)=", inside_tags):
        assert attribute in {
            "class",
            "datetime",
            "href",
            "target",
            "rel",
            "src",
            "alt",
            "width",
            "height",
            "loading",
            "decoding",
            "role",  # a rating's stars are one image to a screen reader
            "aria-label",
            "aria-hidden",
        }
    for url in re.findall(r'(?:href|src)="([^"]*)"', html):
        assert url.startswith(("https://", "http://", "/", "data:image/")), url
        assert not url.startswith("//")


def test_markdown_is_commonmark_and_sanitised() -> None:
    html = str(
        render_markdown(
            "# Title\n\n**bold** [link](https://example.com) [bad](javascript:alert(1))\n\n"
            "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
            "![pic](https://example.com/p.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |"
        )
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert 'href="https://example.com" rel="noopener noreferrer"' in html
    assert 'href="javascript' not in html  # left as inert text
    assert "<script" not in html
    assert "onerror" not in html or "&lt;img" in html
    assert '<img src="https://example.com/p.png" alt="pic">' in html
    assert "<table>" in html


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_no_markdown_renders_executable_markup(text: str) -> None:
    html = str(render_markdown(text)).lower()
    assert "<script" not in html
    import re

    for tag in re.findall(r"<[a-z][^>]*>", html):
        assert not re.search(r"\son[a-z]+=", tag), tag
        assert "javascript:" not in tag


def test_theme_css_is_built_from_validated_values() -> None:
    config = DisplayConfig.model_validate(
        display_config(
            theme={
                "primary_color": "#112233",
                "background_color": "#FFFFFF",
                "font_family": "'Inter', sans-serif",
                "border_radius": "8px",
            },
            layout={"columns": 4, "gap": "1rem"},
            components={
                "result_card": {"thumbnail_aspect_ratio": "4/3", "thumbnail_fit": "contain"}
            },
            field_config={
                "image_url": {"format": "image", "format_options": {"aspect_ratio": "1/1"}}
            },
        ),
        strict=False,
    )
    css = page_css(config)
    assert ":root{--primary:#112233;" in css
    assert "--font:'Inter', sans-serif" in css
    assert "--columns:4;--gap:1rem" in css
    assert "prefers-color-scheme" not in css  # a background was chosen
    assert ".page .thumb img,.detail-thumb img{aspect-ratio:4/3;object-fit:contain}" in css
    assert ".f-image_url img{aspect-ratio:1/1;object-fit:cover}" in css
    assert "</style" not in css


def test_no_background_gives_a_dark_variant() -> None:
    config = DisplayConfig.model_validate(display_config(), strict=False)
    assert "@media (prefers-color-scheme:dark)" in page_css(config)


def test_contrast_is_checked_against_wcag_aa() -> None:
    assert round(contrast("#000000", "#FFFFFF"), 1) == 21.0
    assert round(contrast("#777777", "#FFFFFF"), 2) == 4.48
    good = DisplayConfig.model_validate(
        display_config(theme={"primary_color": "#1D4ED8", "text_color": "#111827"}), strict=False
    )
    assert contrast_warnings(good) == []
    bad = DisplayConfig.model_validate(
        display_config(
            theme={
                "primary_color": "#FFD60A",
                "text_color": "#BBBBBB",
                "background_color": "#FFFFFF",
            }
        ),
        strict=False,
    )
    warnings = contrast_warnings(bad)
    assert any(w.startswith("theme: text_color #BBBBBB has a contrast of 1.") for w in warnings)
    assert any(w.startswith("theme: links are drawn in #") for w in warnings)


def _theme(**theme: str) -> DisplayConfig:
    return DisplayConfig.model_validate(display_config(theme=theme), strict=False)


@pytest.mark.parametrize("primary", ["#8A8A8A", "#FACC15", "#22C55E", "#FF6B6B", "#38BDF8"])
def test_no_warning_about_buttons_the_page_draws_in_dark_text(primary: str) -> None:
    light = dict(
        re.findall(
            r"(--[a-z-]+):(#[0-9A-F]{6})",
            css_variables(_theme(primary_color=primary)).split("@media")[0],
            re.I,
        )
    )
    assert light["--accent"] == primary  # the button keeps the colour, with dark text on it
    assert contrast(light["--on-accent"], primary) >= 4.5
    assert not any("button" in w for w in contrast_warnings(_theme(primary_color=primary)))


def test_contrast_warnings_name_the_colours_the_page_draws() -> None:
    # Light text on a dark page, with the cards left at the stylesheet's white surface.
    warnings = contrast_warnings(
        _theme(primary_color="#2563EB", background_color="#0B1020", text_color="#F8FAFC")
    )
    assert any(
        w.startswith(
            "theme: text_color #F8FAFC has a contrast of 1.05:1 against the default "
            "for surface_color #FFFFFF"
        )
        for w in warnings
    )
    assert any(w.startswith("theme: the default for muted_color #5B6472") for w in warnings)
    # A primary on which neither white nor dark text reads: the buttons are darkened, and
    # the page says so (its links, on white, are darkened too).
    assert contrast_warnings(_theme(primary_color="#7A7A7A")) == [
        "theme: links are drawn in #747474, not primary_color #7A7A7A, whose contrast against "
        "#FFFFFF is 4.29:1 (WCAG AA asks for 4.5:1)",
        "theme: buttons are drawn in #747474, not primary_color #7A7A7A, on which neither white "
        "nor dark text reaches WCAG AA's 4.5:1",
    ]
    assert contrast_warnings(_theme(primary_color="#1D4ED8")) == []
    assert contrast_warnings(_theme(primary_color="#767676")) == []  # AA, if only just


def test_a_rating_is_stars_to_the_nearest_half_with_the_number() -> None:
    drawn = field("rating", 4.3)
    assert 'role="img" aria-label="Rated 4.3 out of 5"' in drawn
    assert (
        '<span class="on">★★★★</span><span class="half">★</span><span class="off"></span>' in drawn
    )
    assert '<span class="on">★★★★</span><span class="half"></span><span class="off">★</span>' in (
        field("rating", 4.2)
    )
    assert "Rated 3 out of 5" in field("rating", 3, decimals=0)
    # Not a rating out of five: shown as the number it is, never as six stars.
    assert field("rating", 7.5) == "7.5"
    assert field("rating", "<b>") == "&lt;b&gt;"


def test_a_badge_shows_a_status_and_escapes_it() -> None:
    assert field("badge", "New") == '<span class="badge">New</span>'
    assert field("badge", "<i>x</i>") == '<span class="badge">&lt;i&gt;x&lt;/i&gt;</span>'
    assert field("badge", False, false_label="Sold out") == (
        '<span class="badge bool bool--false">Sold out</span>'
    )


def test_marked_text_keeps_the_marks_and_escapes_everything_else() -> None:
    text = "Warm &lt;b&gt; <mark>lamp</mark> for a <mark>desk</mark> and more words"
    assert marked(text, None) == (
        "Warm &lt;b&gt; <mark>lamp</mark> for a <mark>desk</mark> and more words"
    )
    # Shortened by what shows, never inside an entity, and an open mark is closed.
    assert marked(text, 13) == "Warm &lt;b&gt; <mark>lamp</mark>…"
    assert marked(text, 11) == "Warm &lt;b&gt; <mark>l…</mark>"
    assert marked("<mark><script></mark>", None) == "<mark>&lt;script&gt;</mark>"


@pytest.mark.parametrize("primary", ["#007AFF", "#FACC15", "#2563EB", "#000000", "#FFFFFF"])
def test_links_and_buttons_are_readable_in_light_and_dark(primary: str) -> None:
    css = css_variables(
        DisplayConfig.model_validate(display_config(theme={"primary_color": primary}), strict=False)
    )
    light = dict(re.findall(r"(--[a-z-]+):(#[0-9A-F]{6})", css.split("@media")[0], re.I))
    dark = dict(re.findall(r"(--[a-z-]+):(#[0-9A-F]{6})", css.split("@media")[1], re.I))
    assert contrast(light["--link"], "#FFFFFF") >= 4.5
    assert contrast(light["--on-accent"], light["--accent"]) >= 4.5
    assert contrast(dark["--link"], dark["--surface"]) >= 4.5
    assert contrast(dark["--link"], dark["--bg"]) >= 4.5
    assert contrast(dark["--muted"], dark["--surface"]) >= 4.5


def test_a_kept_drawing_is_the_drawing_of_that_value_at_that_time() -> None:
    """A text value's drawing is kept for the next page, but never one that depends on the
    time (a relative date), and never shared with another field or another config."""
    later = datetime(2027, 3, 2, 12, 0, 0, tzinfo=UTC)
    relative_date = FieldConfig(format="date", format_options={"date_format": "relative"})
    when = RENDERERS.compiled(relative_date, "added")
    assert when("2026-03-01T12:00:00Z", NOW)[0] != when("2026-03-01T12:00:00Z", later)[0]
    price = RENDERERS.compiled(FieldConfig(format="number", format_options={"prefix": "$"}))
    plain = RENDERERS.compiled(None, "code")
    for _ in range(2):
        assert price("1200", NOW) == ("$1,200", "number")
        assert plain("1200", NOW) == ("1200", "text")
        assert plain("https://a.example/x?a=1&b=2", NOW)[1] == "url"
        assert RENDERERS.compiled(None, "release_year")(2019, NOW) == ("2019", "number")


def test_a_kept_number_is_drawn_as_its_own_type_and_sign() -> None:
    """Numbers' drawings are kept too, each by its exact type: 1, 1.0 and True are not drawn
    alike, nor 0.0 and -0.0; each drawing is the one a fresh field gives."""
    values = [1, 1.0, True, 0.0, -0.0, 0, 2.5, -2.5, 1234567, 1e21, float("nan")]
    configs = [
        FieldConfig(format="number", format_options={"decimals": 2, "prefix": "$"}),
        None,
    ]
    for config in configs:
        draw = RENDERERS.compiled(config, "price")
        for _ in range(2):
            for value in values:
                fresh = RENDERERS.compiled(config, "price")(value, NOW)
                assert draw(value, NOW) == fresh, value
    draw = RENDERERS.compiled(configs[0], "price")
    assert [draw(v, NOW)[0] for v in (1, 1.0)] == ["$1.00", "$1.00"]
    signed = [str(draw(v, NOW)[0]) for v in (0.0, -0.0, 0.0)]
    assert signed[0] == signed[2] == str(RENDERERS.compiled(configs[0], "p")(0.0, NOW)[0])
    assert signed[1] == str(RENDERERS.compiled(configs[0], "p")(-0.0, NOW)[0])
