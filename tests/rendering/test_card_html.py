"""Cards drawn in Python (`card_html`) against the template that drew them before
(`_card.html`, kept here as it was), byte for byte, over configs that use every part of a card:
formats, labels, plugins, thumbnails, badges, arrays, matches by meaning, links to details and
similar items, tabs, and values, labels and URLs that try to break out of the markup."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product
from typing import Any

import pytest
from jinja2 import Environment, select_autoescape

from app.rendering.card_html import card_html, cards_html
from app.rendering.card_keep import KEPT_CARD_CHARS
from app.rendering.card_slots import card_fields, description_field, label_of
from app.rendering.cards import CardField, Links, cards
from app.rendering.formats import MAX_TEXT, builtin_renderers
from app.rendering.marks import marked
from app.rendering.plugins import PluginFrame, plugin_field
from app.schemas.display import DisplayConfig, FieldConfig
from app.schemas.search import BY_MEANING
from tests.helpers import browse_config

# `templates/_card.html` as it was before cards were drawn without a template.
OLD_CARD = (
    '<li class="card"{% if card_tab %} data-public-name="{{ card_tab.public_name }}"'
    '{% if card_tab.execution_id %} data-execution-id="{{ card_tab.execution_id }}"{% endif %}'
    '{% endif %} data-document-id="{{ card.document_id }}" data-position="{{ card.position }}">\n'
    '  {% if card.thumbnail %}<div class="thumb">{{ card.thumbnail }}</div>{% endif %}\n'
    '  <div class="body">\n'
    '    <h2 class="title">{% if card.title_label %}<span class="visually-hidden">'
    '{{ card.title_label }}: </span>{% endif %}{% if card.link %}<a href="{{ card.link }}"'
    '{% if card.external %} rel="noopener noreferrer" target="_blank"{% else %} data-detail'
    "{% endif %}>{{ card.title }}</a>{% else %}{{ card.title }}{% endif %}</h2>\n"
    '    {% if card.by_meaning %}<p class="by-meaning"><span aria-hidden="true">≈ </span>'
    'Matched by meaning<span class="visually-hidden">: none of the words searched for are in'
    " it</span></p>{% endif %}\n"
    '    {% if card_tab and card_tab.label %}<p class="card-from">In {{ card_tab.label }}</p>'
    "{% endif %}\n"
    '    {% if card.description %}<p class="desc">{{ card.description }}</p>{% endif %}\n'
    '    {% if card.fields %}<ul class="facts">{% for f in card.fields %}<li class="m m--'
    "{{ f.kind }} f-{{ f.name | replace('.', '-') }}\">{% if f.shown_label %}<span "
    'class="m-label">{{ f.shown_label }}</span><span class="visually-hidden">:</span> '
    '{% else %}<span class="visually-hidden">{{ f.label }}: </span>{% endif %}{{ f.value }}'
    "</li>{% endfor %}</ul>{% endif %}\n"
    '    {% if card.score is not none or card.similar %}<p class="card-foot">{% if card.similar %}'
    '<a class="similar" href="{{ card.similar }}">Find similar<span class="visually-hidden"> to '
    "{{ card.title | striptags }}</span></a>{% endif %}{% if card.score is not none %}<span "
    'class="score">Score {{ "%.3f" | format(card.score) }}</span>{% endif %}</p>{% endif %}\n'
    "  </div>\n"
    "</li>\n"
)
OLD = Environment(autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)
OLD_TEMPLATE = OLD.from_string(OLD_CARD)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
RENDERERS = builtin_renderers()
HOSTILE = "<script>alert('x')</script> \"quoted\" & 'single'"
FIELDS = ["title", "description", "price", "image_url", "url", "tags", "rating", "in_stock",
          "brand", "added", "meta.size", "stars", "notes"]  # fmt: skip
DOCUMENTS: list[dict[str, Any]] = [
    {
        "document_id": "d/1",
        "title": "Desk <lamp>",
        "description": "A warm light for late work " * 10,
        "price": 45,
        "image_url": "https://img.example.com/lamp.png",
        "url": 'https://shop.example.com/lamp?a=1&b="2"',
        "tags": ["warm", "<b>bold</b>", "o'clock"],
        "rating": 4.5,
        "in_stock": True,
        "brand": HOSTILE,
        "added": "2025-12-30T10:00:00Z",
        "meta.size": 12000,
        "stars": 3,
        "notes": None,
        "score": 1.25,
        "highlights": {"title": "Desk &lt;<mark>lamp</mark>&gt;", "brand": "<mark>x</mark>&amp;"},
    },
    {
        "document_id": '"><script>alert(1)</script>',
        "title": HOSTILE,
        "description": "",
        "price": None,
        "image_url": "javascript:alert(1)",
        "url": "javascript:alert('x')",
        "tags": [],
        "rating": 0,
        "in_stock": False,
        "brand": "",
        "notes": {"a": "<i>"},
        "score": 0,
        BY_MEANING: True,
    },
    {"document_id": "3", "title": 1999, "price": -2.5, "score": None, BY_MEANING: True},
    {"title": "", "image_url": "https://img.example.com/<x>.png", "stars": "<5>"},
]
FIELD_CONFIGS: list[dict[str, Any]] = [
    {},
    {
        "price": {"format": "number", "format_options": {"prefix": "$", "label": HOSTILE}},
        "url": {"format": "url", "format_options": {"show_domain": True}},
        "tags": {"format": "array", "format_options": {"separator": " <&> ", "max_items": 2}},
        "rating": {"format": "rating"},
        "in_stock": {"format": "boolean", "format_options": {"true_label": "<yes>"}},
        "brand": {"format": "badge", "format_options": {"label": "Brand"}},
        "added": {"format": "date", "format_options": {"date_format": "relative"}},
        "title": {"format_options": {"label": 'Name "<it>"', "truncate_chars": 8}},
        "description": {"format_options": {"truncate_chars": 20}},
        "notes": {"format_options": {"show_empty": False}},
        "stars": {"format": "plugin", "format_options": {"plugin": "stars", "label": "Stars"}},
    },
    {
        "description": {"format": "badge"},
        "image_url": {"format": "url"},
        "meta.size": {"format": "number", "format_options": {"suffix": " <kB>", "decimals": 1}},
        "title": {"format": "text", "format_options": {"label": "<b>T</b>"}},
    },
]
CARD_PROPS: list[dict[str, Any]] = [
    {},
    {"show_score": True, "show_find_similar": True, "show_meaning_hint": True},
    {"card_click_action": "findSimilar", "show_thumbnail": False, "truncate_title": 5},
    {"card_click_action": "none", "thumbnail_field": "image_url", "title_field": "brand",
     "card_fields": ["tags", "meta.size", "description", "stars"],
     "field_order": ["stars", "tags"], "show_score": True},
    {"card_click_action": "viewDetails", "show_meaning_hint": True, "show_find_similar": True},
]  # fmt: skip
FRAMES = {"stars": PluginFrame(tag="stars", name='Stars <">', src='/plugins/frame/s"1')}
TABS: list[dict[str, Any] | None] = [
    None,
    {},
    {"public_name": "books", "execution_id": ""},
    {"public_name": 'b"<ooks>', "execution_id": 'e"x<1>', "label": HOSTILE},
]
LINKS = [None, Links("shop", ""), Links('s<h>"op', 'query=%3Cx%3E&a="1"')]


def config_of(fields: dict[str, Any], props: dict[str, Any]) -> DisplayConfig:
    config = browse_config(exposed_fields=FIELDS, field_config=fields,
                           components={"result_card": props})  # fmt: skip
    return DisplayConfig.model_validate(config, strict=False)


def old_fields(config: DisplayConfig, document: dict[str, Any], frames: Any) -> list[Any]:
    """The card's fields as the code before drew them, each value by its renderer (`render`,
    not the plan's compiled drawing), its label and kind from its config."""
    configs = config.field_config or {}
    marks = document.get("highlights") or {}
    description = description_field(config)
    plain = configs.get(description or "", FieldConfig()).format in (None, "text") and not (
        frames and description in frames
    )
    fields = []
    for name in card_fields(config):
        field, value = configs.get(name), document.get(name)
        if name == description and plain:
            continue
        options = field.format_options if field else None
        if name in marks and (field is None or field.format in (None, "text")):
            limit = options.truncate_chars if options else None
            drawn = marked(marks[name], limit or MAX_TEXT)
        else:
            drawn = RENDERERS.render(value, field, NOW, name)
        if drawn is None:
            continue
        label = label_of(name, field)
        if frames and name in frames and value is not None:
            drawn = plugin_field(frames[name], label, value, drawn, document, FIELDS, name)
        kind = field.format if field and field.format else RENDERERS.infer(value)
        fields.append(CardField(name, label, drawn, kind, options.label if options else None))
    return fields


@pytest.mark.parametrize(("fields", "props"), list(product(FIELD_CONFIGS, CARD_PROPS)))
def test_cards_are_drawn_as_the_template_drew_them(fields: Any, props: Any) -> None:
    config = config_of(fields, props)
    for frames, links, tab in product([None, FRAMES], LINKS, TABS):
        drawn = cards(config, DOCUMENTS, 40, NOW, RENDERERS, frames, links)
        for card, document in zip(drawn, DOCUMENTS, strict=True):
            context = {**vars(card), "fields": old_fields(config, document, frames)}
            before = OLD_TEMPLATE.render(card=context, card_tab=tab)
            assert card_html(card, tab) == before.removesuffix("\n")
        joined = "".join(card_html(card, tab) for card in drawn)
        assert cards_html(drawn, tab) == joined


def test_nothing_a_document_holds_becomes_markup() -> None:
    config = config_of(FIELD_CONFIGS[1], CARD_PROPS[1])
    html = str(cards_html(cards(config, DOCUMENTS, 0, NOW, RENDERERS, FRAMES, LINKS[2]), TABS[3]))
    assert "<script>" not in html
    assert "<b>" not in html
    assert "<i>" not in html
    assert html.count("<mark>") == 1  # the engine's own marks only


# Documents of texts alone: a card drawn of one is kept, and the next search listing it with
# the same values and marks takes the kept drawing.
TEXT_DOCUMENTS: list[dict[str, Any]] = [
    {
        "document_id": "t/1",
        "title": "Desk <lamp>",
        "description": "A warm light & a 'cold' one " * 4,
        "image_url": "https://img.example.com/lamp.png",
        "url": 'https://shop.example.com/lamp?a=1&b="2"',
        "brand": HOSTILE,
        "added": "2025-12-30T10:00:00Z",
        "stars": "<5>",
        "highlights": {"title": "Desk &lt;<mark>lamp</mark>&gt;", "brand": "<mark>x</mark>&amp;"},
    },
    {"document_id": '"><script>alert(1)</script>', "title": HOSTILE, "url": "javascript:x()"},
    {"document_id": "t/3", "title": "ünïcödé " * 30, "description": "ø" * 900},
    {
        "document_id": "t/4",
        "title": "Kettle",
        "price": 45,
        "rating": 4.5,
        "in_stock": True,
        "meta.size": 12000,
        "stars": 3,
        "url": "https://shop.example.com/kettle",
    },
]


@pytest.mark.parametrize(("fields", "props"), list(product(FIELD_CONFIGS, CARD_PROPS)))
def test_kept_cards_are_drawn_as_the_template_drew_them(fields: Any, props: Any) -> None:
    config = config_of(fields, props)
    for links, tab, offset in product(LINKS, TABS, [40, 0, 40]):  # drawn, then kept, twice
        drawn = cards(config, TEXT_DOCUMENTS, offset, NOW, RENDERERS, None, links)
        for card, document in zip(drawn, TEXT_DOCUMENTS, strict=True):
            context = {**vars(card), "fields": old_fields(config, document, None)}
            before = OLD_TEMPLATE.render(card=context, card_tab=tab)
            assert card_html(card, tab) == before.removesuffix("\n")


def test_a_kept_card_is_drawn_again_when_its_document_or_marks_change() -> None:
    config = config_of({}, {})
    old = {"document_id": "k/1", "title": "Old name", "brand": "Acme"}

    def html(document: dict[str, Any]) -> str:
        return str(cards_html(cards(config, [document], 0, NOW, RENDERERS, None, LINKS[1])))

    assert "Old name" in html(old)
    assert "Old name" in html(old)
    assert "New name" in html({**old, "title": "New name"})
    assert "<mark>Old</mark> name" in html(
        {**old, "highlights": {"title": "<mark>Old</mark> name"}}
    )
    assert "Acme" not in html({**old, "brand": None})
    assert "Zeta" in html({**old, "brand": "Zeta"})
    assert 'data-document-id="k/2"' in html({**old, "document_id": "k/2"})
    # Equal numbers of other types, and zeros, are each drawn as they are.
    for value in [1, 1.0, True, 1, 0.0, -0.0, 0, False, 2.5, 2.5]:
        assert f"{RENDERERS.render(value, None, NOW, 'brand')}</li>" in html(
            {**old, "brand": value}
        )


def test_a_card_whose_drawing_escaping_makes_long_is_not_kept() -> None:
    """Texts short enough to read can draw five times longer once escaped: such a card is
    drawn each time, so that what is kept stays small, and drawn the same either way."""
    config = config_of({}, {})
    short = {"document_id": "k/short", "title": "Lamp", "brand": "Acme & Sons"}
    long = {"document_id": "k/long", "title": "Lamp", "brand": "&" * (KEPT_CARD_CHARS - 100)}

    def drawn(document: dict[str, Any]) -> Any:
        return cards(config, [document], 0, NOW, RENDERERS, None, LINKS[1])[0]

    first, again = drawn(short), drawn(short)
    assert again.kept is first.kept  # taken from the keep
    first, again = drawn(long), drawn(long)
    assert again.kept is not first.kept  # drawn anew
    assert str(cards_html([again])) == str(cards_html([first]))
    assert "&amp;" * 10 in str(cards_html([again]))


def test_a_relative_date_is_drawn_at_each_pages_time() -> None:
    config = config_of(FIELD_CONFIGS[1], {})
    added = FieldConfig.model_validate(FIELD_CONFIGS[1]["added"])
    document = {"document_id": "k/3", "title": "Lamp", "added": "2025-12-30T10:00:00Z"}
    later = datetime(2026, 3, 1, tzinfo=UTC)
    drawings = set()
    for now in (NOW, later, NOW, later):
        [card] = cards(config, [document], 0, now, RENDERERS, None, LINKS[1])
        drawing = RENDERERS.render(document["added"], added, now, "added")
        assert f"{drawing}</li>" in card.facts
        drawings.add(drawing)
    assert len(drawings) == 2
