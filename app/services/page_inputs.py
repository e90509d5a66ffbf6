"""The inputs a page's "All" tab passes on: besides the one search box, each input that a tab's
retriever declares (a filter, a select, a number...) is shown once, and its value goes to every
tab whose retriever has an input of that name drawn the same way (`docs/pages.md`).

An input of the same name but of another kind in some tab is not that tab's: it applies to the
tabs of the first kind seen (in the page's order). A tab whose own list lacks the choice made
has nothing that matches it, and is not asked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import invalid
from app.rendering.form import Control, Params, parse_value, widget_of
from app.schemas.display import DisplayConfig, InputConfig
from app.schemas.search import FULL_TEXT_INPUT
from app.services.inputs import validate_inputs

_CHOICES = ("select", "multiselect")


@dataclass(frozen=True)
class SharedInput:
    """An input of the All tab: as the first tab that has it declares it, with every tab that
    takes it (their ids and labels, in the page's order) and, for a list, every tab's choices."""

    config: InputConfig
    widget: str
    tab_ids: tuple[str, ...]
    labels: tuple[str, ...]
    options: tuple[Any, ...] = ()

    @property
    def name(self) -> str:
        return self.config.field_name


def text_input(display: DisplayConfig) -> str | None:
    """The input the page's one search box fills: the full-text query, else the first text
    input (`text_inputs`)."""
    names = [i.field_name for i in display.inputs]
    if FULL_TEXT_INPUT in names:
        return FULL_TEXT_INPUT
    for config in display.inputs:
        if config.field_schema.type in ("string", "text"):
            return config.field_name
    return None


def text_inputs(display: DisplayConfig, text: str) -> dict[str, Any]:
    """A page's one search box as a retriever's inputs: its full-text query input, or else its
    first text input (nothing when the text is empty)."""
    name = text_input(display) if text else None
    return {name: text} if name else {}


def _own_inputs(display: DisplayConfig) -> list[tuple[InputConfig, str]]:
    """A retriever's inputs the All tab may pass on: not the search box's, nor a file."""
    skip = text_input(display)
    found = []
    for config in sorted(display.inputs, key=lambda c: c.order):
        widget = widget_of(config)
        if config.field_name != skip and widget != "file":
            found.append((config, widget))
    return found


def _options(config: InputConfig) -> list[Any]:
    schema = config.field_schema
    return list(schema.enum or (schema.items.enum if schema.items else None) or [])


def shared_inputs(tabs: Sequence[tuple[str, str, DisplayConfig]]) -> tuple[SharedInput, ...]:
    """The All tab's inputs over `tabs` (each its id, label and retriever's display config, in
    the page's order): each name once, in the order first seen."""
    found: dict[str, SharedInput] = {}
    for tab_id, label, display in tabs:
        for config, widget in _own_inputs(display):
            seen = found.get(config.field_name)
            if seen is None:
                found[config.field_name] = SharedInput(
                    config, widget, (tab_id,), (label,), tuple(_options(config))
                )
            elif seen.widget == widget and tab_id not in seen.tab_ids:
                more = [o for o in _options(config) if str(o) not in map(str, seen.options)]
                found[config.field_name] = SharedInput(
                    seen.config,
                    widget,
                    (*seen.tab_ids, tab_id),
                    (*seen.labels, label),
                    (*seen.options, *more),
                )
    return tuple(found.values())


def inputs_for(
    shared: Sequence[SharedInput], tab_id: str, display: DisplayConfig, given: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The values of `given` (the All tab's, by input name) that go to one tab: those of the
    inputs it takes, in its own retriever's terms (a choice as its list has it). None when a
    choice is none of the tab's own: nothing there can match it."""
    own = {c.field_name: (c, w) for c, w in _own_inputs(display)}
    passed: dict[str, Any] = {}
    for spec in shared:
        value = given.get(spec.name)
        if value is None or value == [] or tab_id not in spec.tab_ids:
            continue
        mine = own.get(spec.name)
        if mine is None or mine[1] != spec.widget:
            continue  # the retriever changed since the page was drawn
        if spec.widget in _CHOICES:
            value = _chosen(_options(mine[0]), value)
            if value is None:
                return None
        passed[spec.name] = value
    return passed


def _chosen(options: list[Any], value: Any) -> Any:
    """A choice (or the choices of a list) as this tab's options have them; None when it has
    none of them."""
    by_text = {str(option): option for option in options}
    if not by_text:
        return value  # a list without choices of its own takes any
    if isinstance(value, list):
        kept = [by_text[str(v)] for v in value if str(v) in by_text]
        return kept or None
    return by_text.get(str(value))


def shared_controls(
    shared: Sequence[SharedInput], params: Params
) -> tuple[list[Control], dict[str, Any]]:
    """The All tab's controls for its shared inputs, as the URL fills them, and the values
    to pass on (those without a mistake)."""
    controls: list[Control] = []
    given: dict[str, Any] = {}
    for spec in shared:
        options = [(str(option), str(option)) for option in spec.options]
        control = Control(spec.config, spec.widget, options=options)
        raw = params.getlist(spec.name)
        if raw and any(item != "" for item in raw):
            control.value, control.error = parse_value(control, raw)
            if control.error is None and control.value is not None:
                given[spec.name] = control.value
        controls.append(control)
    return controls, given


def checked_given(shared: Sequence[SharedInput], given: Mapping[str, Any]) -> dict[str, Any]:
    """The federated call's own inputs, checked: a 422 naming an input no tab takes, or a
    value the input refuses (a choice none of the tabs' lists has)."""
    known = {spec.name: spec for spec in shared}
    checked: dict[str, Any] = {}
    for name, value in given.items():
        spec = known.get(name)
        if spec is None:
            takes = ", ".join(sorted(known)) or "none besides the query"
            raise invalid(
                f"inputs.{name}",
                f"an input of one of this page's tabs ({takes})",
                f"inputs.{name}: no tab of this page takes this input; they take: {takes}.",
            )
        config = spec.config
        if spec.widget in _CHOICES:
            schema = config.field_schema
            union = list(spec.options)
            items = schema.items.model_copy(update={"enum": union}) if schema.items else None
            update = {"enum": union, "items": items}
            config = config.model_copy(update={"field_schema": schema.model_copy(update=update)})
        checked.update(validate_inputs([config], {name: value}, required=False))
    return checked
