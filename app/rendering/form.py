"""The search form's state, read back from the URL.

The query lives in the URL (`?query=...&category=Audio&page=2`), so a page is shareable and
works with JavaScript off: `form_state` turns the parameters into typed inputs and controls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from app.kept import Kept, made
from app.schemas.display import DisplayConfig, InputConfig, InputType

MAX_PAGE = 500
_NUMBERS = {InputType.NUMBER, InputType.INTEGER, InputType.FLOAT}
_FILES = {InputType.IMAGE, InputType.AUDIO, InputType.VIDEO, InputType.PDF, InputType.EXCEL}


class Params(Protocol):
    """Query parameters, as a web framework gives them (Starlette's `QueryParams`)."""

    def getlist(self, key: str) -> list[str]: ...

    def get(self, key: str, default: str) -> str: ...


@dataclass
class Control:
    """One input of the form, with what the URL says it holds."""

    config: InputConfig
    widget: str  # text, number, checkbox, select, multiselect, date, file, textarea
    value: Any = None
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    accept: str = ""
    error: str | None = None

    @property
    def name(self) -> str:
        return self.config.field_name

    @property
    def placeholder(self) -> str:
        """The input's placeholder, else its schema's first example."""
        examples = self.config.field_schema.examples
        return self.config.placeholder or (f"e.g. {examples[0]}" if examples else "")

    @property
    def help(self) -> str | None:
        """The helper text, else the schema's description of the input."""
        return self.config.helper_text or self.config.field_schema.description

    def selected(self, option: str) -> bool:
        if isinstance(self.value, list):
            return option in [str(v) for v in self.value]
        return self.value is not None and str(self.value) == option

    def selected_attribute(self, index: int, option: str) -> str:
        """What the form writes in the `<option>` of `option` (its `index`th): ` selected`
        when the control holds it (the form's frame puts a gap there instead)."""
        return " selected" if self.selected(option) else ""

    @property
    def checked_attribute(self) -> str:
        """What the form writes in a checkbox: ` checked` when it is ticked."""
        return " checked" if self.value else ""


@dataclass
class FormState:
    controls: list[Control]
    inputs: dict[str, Any]
    page: int
    touched: bool  # did the URL carry any input at all

    @property
    def can_search(self) -> bool:
        """Search on arrival when nothing is required; else once the URL holds a query."""
        required = any(c.config.required or c.config.field_schema.required for c in self.controls)
        return self.touched or not required


def widget_of(config: InputConfig) -> str:
    """The control an input is drawn as (text, number, checkbox, select, multiselect, date,
    file or textarea): its kind, as the form and a page's shared inputs know it."""
    schema = config.field_schema
    if config.input_type in ("file",) or schema.type in _FILES:
        return "file"
    if config.input_type == "multiselect" or (
        schema.type == InputType.ARRAY and (schema.enum or (schema.items and schema.items.enum))
    ):
        return "multiselect"
    if schema.enum is not None or config.input_type == "select":
        return "select"
    if schema.type == InputType.BOOLEAN or config.input_type == "checkbox":
        return "checkbox"
    if schema.type in _NUMBERS or config.input_type == "number":
        return "number"
    if schema.type in (InputType.DATE, InputType.DATETIME) or config.input_type == "date":
        return "date"
    return "textarea" if config.input_type == "textarea" else "text"


PLANS_KEPT = 256  # display configs whose inputs' controls are settled (`_plan`)
_plans: Kept[int, tuple[Any, Any]] = Kept(PLANS_KEPT)
_ACCEPT = {"image": "image/*", "audio": "audio/*", "video": "video/*", "pdf": "application/pdf"}


def _plan(display: DisplayConfig) -> tuple[tuple[InputConfig, str, list[Any], str], ...]:
    """What a config settles for each of its controls, in order: its input, its widget, its
    options and the files it accepts; worked out once per loaded config (kept by the config
    object, which is never changed: a new version is a new object, held by its entry)."""
    return made(_plans, id(display), display, lambda: _make_plan(display))


def _make_plan(display: DisplayConfig) -> tuple[tuple[InputConfig, str, list[Any], str], ...]:
    plan = []
    for config in sorted(display.inputs, key=lambda c: c.order):
        widget = widget_of(config)
        schema = config.field_schema
        enum = schema.enum or (schema.items.enum if schema.items else None) or []
        accept = _ACCEPT.get(schema.type.value, "") if widget == "file" else ""
        plan.append((config, widget, [(str(option), str(option)) for option in enum], accept))
    return tuple(plan)


def form_state(display: DisplayConfig, params: Params) -> FormState:
    controls: list[Control] = []
    inputs: dict[str, Any] = {}
    touched = False
    for config, widget, options, accept in _plan(display):
        control = Control(config, widget, options=list(options), accept=accept)
        if widget == "file":
            controls.append(control)
            continue
        raw = params.getlist(config.field_name)
        if raw and any(item != "" for item in raw):
            touched = True
            control.value, control.error = _parse(control, raw)
            if control.error is None and control.value is not None:
                inputs[config.field_name] = control.value
        controls.append(control)
    _defaults(controls, inputs, touched)
    page = params.get("page", "1")
    number = int(page) if page.isdigit() else 1
    return FormState(controls, inputs, max(1, min(number, MAX_PAGE)), touched)


def _defaults(controls: list[Control], inputs: dict[str, Any], touched: bool) -> None:
    """`field_schema.default`: on a fresh page the form shows it (the query applies it to any
    input left empty). Once the form was sent, a box left unticked is an explicit false, or
    the default would tick it again; a select with a default offers no "Any"."""
    for control in controls:
        default = control.config.field_schema.default
        if default is None or control.widget == "file":
            continue
        if not touched:
            control.value = default
        elif control.widget == "checkbox" and control.name not in inputs and default is True:
            inputs[control.name] = False


def parse_value(control: Control, raw: list[str]) -> tuple[Any, str | None]:
    """A control's value from the URL's values of its name, and what is wrong with it."""
    return _parse(control, raw)


def _parse(control: Control, raw: list[str]) -> tuple[Any, str | None]:
    schema = control.config.field_schema
    if control.widget == "multiselect":
        return [_typed(item, control) for item in raw if item != ""], None
    text = raw[-1].strip()
    if control.widget == "checkbox":
        return (True, None) if text.lower() in ("true", "on", "1", "yes") else (None, None)
    if control.widget == "select":
        # Options are matched as text and handed on with the enum's own type.
        for option in schema.enum or []:
            if str(option) == text:
                return option, None
        return text, None  # left for the input check to refuse with its message
    if control.widget == "number":
        try:
            value: Any = int(text) if schema.type == InputType.INTEGER else float(text)
        except ValueError:
            return text, "must be a number"
        if isinstance(value, float) and value.is_integer() and schema.type != InputType.FLOAT:
            value = int(value)
        return value, None
    return text, None


def _typed(item: str, control: Control) -> Any:
    schema = control.config.field_schema
    for option in schema.enum or (schema.items.enum if schema.items else None) or []:
        if str(option) == item:
            return option
    return item
