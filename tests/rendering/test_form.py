"""The search form read back from the URL, and the inputs' defaults on the page."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams

from app.rendering.form import form_state
from app.schemas.display import DisplayConfig
from tests.helpers import display_config

INPUTS = [
    {"field_name": "query", "field_schema": {"type": "string"}, "label": "Q", "required": False},
    {
        "field_name": "category",
        "field_schema": {"type": "string", "enum": ["Audio", "Home"], "default": "Home"},
        "label": "Category",
        "required": False,
        "order": 1,
    },
    {
        "field_name": "in_stock",
        "field_schema": {"type": "boolean", "default": True},
        "label": "In stock",
        "required": False,
        "order": 2,
    },
]


def _state(query: str) -> Any:
    config = DisplayConfig.model_validate(display_config(inputs=INPUTS), strict=False)
    return form_state(config, QueryParams(query))


def test_a_fresh_page_shows_the_defaults() -> None:
    state = _state("")
    values = {control.name: control.value for control in state.controls}
    assert values == {"query": None, "category": "Home", "in_stock": True}


def test_a_sent_form_can_untick_a_box_whose_default_is_ticked() -> None:
    state = _state("query=lamp")  # the box was left unticked
    assert state.inputs == {"query": "lamp", "in_stock": False}
    ticked = _state("query=lamp&in_stock=true&category=Audio")
    assert ticked.inputs == {"query": "lamp", "in_stock": True, "category": "Audio"}
