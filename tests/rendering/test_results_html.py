"""The search page's block drawn in Python (`results_block`) against the templates that draw
it otherwise (`search.html`'s `main` block and `_results.html`), byte for byte, over totals,
pages, sorts, layouts, card styles and values that try to break out of the markup; and the
states it leaves to the templates."""

from __future__ import annotations

from itertools import product
from types import SimpleNamespace
from typing import Any

import pytest
from markupsafe import Markup

from app.rendering.cards import Card
from app.rendering.facets import Selection, SortOption
from app.rendering.form import FormState
from app.rendering.page_kinds import result_layout
from app.rendering.results_html import drawable, openings, results_block
from app.schemas.display import DisplayConfig
from app.schemas.search import Results, Sort
from app.web.templates import templates
from tests.helpers import browse_config

HOSTILE = "<script>alert('x')</script> \"q\" & 'r'"
SORTS = (
    SortOption("price", Sort("price", "asc"), "Price, lowest first"),
    SortOption("-price", Sort("price", "desc"), HOSTILE),
    SortOption(HOSTILE, Sort("x", "asc"), "Odd key"),
)
CONFIGS: list[dict[str, Any]] = [
    {},
    {"theme": {"card_style": "glass", "card_hover_effect": "none"}},
    {"components": {"result_layout": "list", "result_card": {"layout": "horizontal"}}},
    {"components": {"show_hero": False}, "layout": {"mode": "masonry"}},
    {"template_type": "portrait-gallery"},
]


def card(position: int) -> Card:
    return Card(
        document_id=f"d{position}",
        position=position,
        title=Markup("T <mark>x</mark>"),
        title_label=None,
        thumbnail=None,
        description=None,
        facts=Markup(""),
        score=None,
        link=f"/r/p/d{position}",
        external=False,
        similar=None,
    )


def values(
    display: DisplayConfig, total: int, page: int, sort: int | None, sorts: bool, name: str
) -> dict[str, Any]:
    shown = min(20, max(0, total - (page - 1) * 20))
    cards = [card((page - 1) * 20 + i) for i in range(shown)]
    selection = Selection(sort=SORTS[sort] if sort is not None else None)
    result = Results(f'ex"{page}<', [], page, 20, total, total > page * 20)
    return {
        "form_html": Markup('<form id="search"></form>'),
        "retriever": SimpleNamespace(record=SimpleNamespace(public_name=name)),
        "display": display,
        "state": FormState([], {}, page, True),
        "selection": selection,
        "result": result,
        "problem": None,
        "cards": cards,
        "panel": [],
        "chips": [],
        "sorts": SORTS if sorts else (),
        "layout": result_layout(display),
        "prev_url": f"/r/p?query={HOSTILE}&page={page - 1}" if page > 1 else None,
        "next_url": f"/r/p?query=a&b=c&page={page + 1}" if result.has_next else None,
        "similar_title": None,
        "left_out": None,
        "did_you_mean": None,
        "parent_origin": None,
        "preview": False,
        "request": SimpleNamespace(url=SimpleNamespace(path="/r/p", query="")),
    }


def by_template(context: dict[str, Any]) -> str:
    template = templates.get_template("search.html")
    return "".join(template.blocks["main"](template.new_context(context)))


@pytest.mark.parametrize("config", CONFIGS)
def test_the_block_is_the_templates_byte_for_byte(config: dict[str, Any]) -> None:
    display = DisplayConfig.model_validate(browse_config(**config), strict=False)
    for total, page, sort, sorts, name in product(
        (1, 7, 20, 21, 1_234_567), (1, 2, 3), (None, 0, 1, 2), (False, True), ("p", HOSTILE)
    ):
        context = values(display, total, page, sort, sorts, name)
        if not context["cards"]:
            assert not drawable(context)
            continue
        assert drawable(context)
        div, ol = openings(name, display, context["layout"])
        assert results_block(context, div, ol) == by_template(context)


@pytest.mark.parametrize(
    "change",
    [
        {"panel": [object()]},
        {"chips": [object()]},
        {"problem": object()},
        {"similar_title": "A lamp"},
        {"left_out": {"query": "a b", "showing": "a"}},
        {"parent_origin": "https://example.com"},
        {"preview": True},
        {"cards": []},
        {"form_html": None},
        {"selection": Selection(similar_to="d1")},
        {"result": None},
    ],
)
def test_any_other_state_is_left_to_the_templates(change: dict[str, Any]) -> None:
    display = DisplayConfig.model_validate(browse_config(), strict=False)
    context = {**values(display, 30, 1, None, False, "p"), **change}
    assert not drawable(context)
    quiet = browse_config(components={"show_results_header": False})
    hidden = DisplayConfig.model_validate(quiet, strict=False)
    assert not drawable(values(hidden, 30, 1, None, False, "p"))
