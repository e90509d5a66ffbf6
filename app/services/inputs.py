"""Checking a query's inputs against the display config's `inputs[].field_schema`, and taking
out the query's own vector."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from app.errors import InvalidInput, invalid
from app.schemas.display import FieldSchema, InputConfig, InputType
from app.schemas.embedders import MAX_DIMENSIONS
from app.schemas.search import QUERY_VECTOR_INPUT

MAX_TEXT_CHARS = 1000
MAX_LIST_ITEMS = 100
# What every store and engine here can hold: SQLite and PostgreSQL integers are 64-bit.
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**63 - 1

_TEXTUAL = {InputType.STRING, InputType.TEXT, InputType.DOCUMENT_REFERENCE}
_FILES = {InputType.IMAGE, InputType.AUDIO, InputType.VIDEO, InputType.PDF, InputType.EXCEL}


def validate_inputs(
    configs: list[InputConfig], given: dict[str, Any], *, required: bool = True
) -> dict[str, Any]:
    """The inputs to run, or a 422 naming the first wrong input and what it accepts.

    Unknown inputs are refused (a typo should not silently search everything); empty values
    count as absent. `required=False` for a search that needs no input (documents like one).
    """
    known = {config.field_name: config for config in configs}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise _invalid(
            unknown[0], f"is not an input of this retriever; inputs are {', '.join(sorted(known))}"
        )
    accepted: dict[str, Any] = {}
    for name, config in known.items():
        value = given.get(name)
        if _empty(value):
            value = config.field_schema.default  # checked when the config was published
        if _empty(value):
            if required and (config.required or config.field_schema.required):
                raise _invalid(name, "is required")
            continue
        accepted[name] = _check(name, config.field_schema, value)
    return accepted


def split_vector(
    configs: list[InputConfig], given: Mapping[str, Any]
) -> tuple[dict[str, Any], tuple[float, ...] | None]:
    """The inputs without the query's own vector (`inputs.embedding`, the name Mixpeek's
    execute gives a pre-computed one), and that vector: a 422 naming it when it is not a list
    of finite numbers. Whether the retriever can search with it is its backend's to say. An
    input the display config declares under that name is that input, not a vector."""
    if QUERY_VECTOR_INPUT not in given or any(c.field_name == QUERY_VECTOR_INPUT for c in configs):
        return dict(given), None
    rest = {name: value for name, value in given.items() if name != QUERY_VECTOR_INPUT}
    value = given[QUERY_VECTOR_INPUT]
    if _empty(value):
        return rest, None
    problem = f"must be the query's vector: a list of at most {MAX_DIMENSIONS:,} finite numbers"
    if not isinstance(value, list) or len(value) > MAX_DIMENSIONS:
        raise _invalid(QUERY_VECTOR_INPUT, problem)
    try:  # bool is no number here; an integer past float's range is no vector
        numbers = tuple(float(n) for n in value if type(n) in (int, float))
    except OverflowError:
        raise _invalid(QUERY_VECTOR_INPUT, problem) from None
    if len(numbers) != len(value) or not all(math.isfinite(n) for n in numbers):
        raise _invalid(QUERY_VECTOR_INPUT, problem)
    return rest, numbers


def check_defaults(configs: list[InputConfig], where: str) -> None:
    """A 422 naming the first input whose `field_schema.default` its own schema refuses."""
    for index, config in enumerate(configs):
        default = config.field_schema.default
        if _empty(default):
            continue
        try:
            _check(config.field_name, config.field_schema, default)
        except InvalidInput as error:
            problem = error.details["errors"][0]["message"]
            raise invalid(
                f"{where}.inputs[{index}].field_schema.default",
                f"a value its field_schema accepts: it {problem}",
            ) from None


def _empty(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _check(name: str, schema: FieldSchema, value: Any) -> Any:
    kind = schema.type
    if kind == InputType.ARRAY:
        if not isinstance(value, list) or len(value) > MAX_LIST_ITEMS:
            raise _invalid(name, f"must be a list of at most {MAX_LIST_ITEMS} items")
        item_schema = schema.items or FieldSchema(type=InputType.STRING)
        if schema.enum is not None and item_schema.enum is None:
            item_schema = item_schema.model_copy(update={"enum": schema.enum})
        return [_check(f"{name}[{i}]", item_schema, item) for i, item in enumerate(value)]
    checked = _scalar(name, kind, value)
    if schema.enum is not None and checked not in schema.enum:
        allowed = ", ".join(repr(option) for option in schema.enum[:20])
        raise _invalid(name, f"must be one of {allowed}")
    return checked


def _scalar(name: str, kind: InputType, value: Any) -> Any:
    if kind in _TEXTUAL or kind in _FILES:
        if not isinstance(value, str) or len(value) > MAX_TEXT_CHARS:
            raise _invalid(name, f"must be text of at most {MAX_TEXT_CHARS} characters")
        return value.strip()
    if kind == InputType.BOOLEAN:
        if not isinstance(value, bool):
            raise _invalid(name, "must be true or false")
        return value
    if kind == InputType.INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(name, "must be a whole number")
        return _bounded(name, value)
    if kind in (InputType.NUMBER, InputType.FLOAT):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _invalid(name, "must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise _invalid(name, "must be a finite number")
        return _bounded(name, value) if isinstance(value, int) else value
    if kind in (InputType.DATE, InputType.DATETIME):
        parse = date.fromisoformat if kind == InputType.DATE else datetime.fromisoformat
        try:
            parse(value)
        except (TypeError, ValueError):
            raise _invalid(name, "must be an ISO 8601 date such as 2026-01-31") from None
        return value
    if kind == InputType.OBJECT:
        if not isinstance(value, dict):
            raise _invalid(name, "must be an object")
        return value
    raise _invalid(name, f"has a type ({kind.value}) this server cannot take")


def _bounded(name: str, value: int) -> int:
    if not MIN_INTEGER <= value <= MAX_INTEGER:
        raise _invalid(name, f"must be a whole number from {MIN_INTEGER} to {MAX_INTEGER}")
    return value


def _invalid(name: str, problem: str) -> InvalidInput:
    return invalid(f"inputs.{name}", problem)
