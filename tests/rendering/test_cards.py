"""Result cards (`rendering/cards.py`), drawn straight from a display config and documents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from app.rendering.card_slots import description_field, thumbnail_field, title_field
from app.rendering.cards import Links, cards
from app.rendering.formats import builtin_renderers
from app.schemas.display import DisplayConfig
from tests.helpers import browse_config

NOW = datetime(2026, 1, 1, tzinfo=UTC)
RENDERERS = builtin_renderers()
LAMP = {
    "document_id": "d/1",
    "title": "Desk <lamp>",
    "description": "A warm light for late work " * 10,
    "price": 45,
    "image_url": "https://img.example.com/lamp.png",
    "url": "https://shop.example.com/lamp",
    "score": 1.25,
}


def display(**card: Any) -> DisplayConfig:
    config = browse_config(
        exposed_fields=["title", "description", "price", "image_url", "url"],
        field_config={
            "price": {"format": "number", "format_options": {"prefix": "$"}},
            "url": {"format": "url"},
        },
        components={"result_card": card},
    )
    return DisplayConfig.model_validate(config, strict=False)


def draw(config: DisplayConfig, *documents: dict[str, Any], **options: Any) -> Any:
    return cards(config, list(documents), 0, NOW, RENDERERS, **options)


def test_the_title_picture_and_description_are_guessed_from_the_fields() -> None:
    config = display(truncate_description=50)
    assert title_field(config) == "title"
    assert thumbnail_field(config) == "image_url"
    assert description_field(config) == "description"
    [card] = draw(config, LAMP)
    assert card.title == "Desk &lt;lamp&gt;"  # escaped, never markup
    assert 'src="https://img.example.com/lamp.png"' in str(card.thumbnail)
    assert card.description is not None
    assert str(card.description).startswith("A warm light")
    assert len(card.description) <= 51  # cut at the publisher's length, with an ellipsis
    # The other fields, formatted, without the title and picture again.
    assert card.facts.startswith(
        '<li class="m m--number f-price"><span class="visually-hidden">Price: </span>$45</li>'
    )
    assert "f-title" not in card.facts
    assert "f-image_url" not in card.facts


def test_the_engines_marks_are_kept_and_nothing_else_is_markup() -> None:
    marked = {**LAMP, "highlights": {"title": "Desk &lt;<mark>lamp</mark>&gt;"}}
    [card] = draw(display(), marked)
    assert str(card.title) == "Desk &lt;<mark>lamp</mark>&gt;"


def test_what_the_title_leads_to() -> None:
    links = Links("shop", "query=lamp")
    [details] = draw(display(card_click_action="viewDetails"), LAMP, links=links)
    assert details.link == "/r/shop/d/d%2F1?query=lamp"
    assert not details.external
    [similar] = draw(display(card_click_action="findSimilar"), LAMP, links=links)
    assert similar.link == "/r/shop?query=lamp&similar_to=d%2F1"
    [own] = draw(display(card_click_action="none"), LAMP, links=links)
    assert own.link == "https://shop.example.com/lamp"
    assert own.external
    [plain] = draw(display(card_click_action="viewDetails"), LAMP)  # no links: its own URL
    assert plain.link == "https://shop.example.com/lamp"


def test_find_similar_and_the_score_only_when_asked() -> None:
    links = Links("shop", "query=lamp&page=3")
    [card] = draw(display(), LAMP, links=links)
    assert card.similar is None
    assert card.score is None
    [asked] = draw(display(show_find_similar=True, show_score=True), LAMP, links=links)
    assert asked.similar == "/r/shop?query=lamp&similar_to=d%2F1"  # back to page one
    assert asked.score == 1.25


def test_positions_count_on_from_the_page() -> None:
    drawn = cards(display(), [LAMP, {**LAMP, "document_id": "2"}], 40, NOW, RENDERERS)
    assert [card.position for card in drawn] == [40, 41]


def test_a_description_with_a_format_is_a_field() -> None:
    config = DisplayConfig.model_validate(
        browse_config(
            exposed_fields=["title", "description"],
            field_config={"description": {"format": "array"}},
            components={},
        ),
        strict=False,
    )
    [card] = draw(config, {"document_id": "t", "title": "Tags", "description": ["a", "b"]})
    assert card.description is None
    assert card.facts.count("<li") == 1
    assert 'class="m m--array f-description"' in card.facts


def test_a_card_says_it_was_matched_by_meaning_only_when_the_config_asks() -> None:
    by_meaning = {**LAMP, "matched_by_meaning": True}
    by_words = {**LAMP, "document_id": "d/2", "highlights": {"title": "Desk <mark>lamp</mark>"}}
    hinted, plain = draw(display(show_meaning_hint=True), by_meaning, by_words)
    assert (hinted.by_meaning, plain.by_meaning) == (True, False)
    [off] = draw(display(), by_meaning)  # off by default
    assert off.by_meaning is False
