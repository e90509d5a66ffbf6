"""Reading the page editor's form (see `editor_form`) and its JSON view into a display
config, and telling the errors the config's checks report beside the fields they are about.

The form is read over the config it was drawn from, so that what it does not show (an
input's enum, extensions) stays as it was."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from app import jsonutil
from app.errors import InvalidInput, invalid
from app.services.editor_form import FIELDS, ROWS, Field, Rows

MAX_JSON_CHARS = 500_000
MAX_SHOWN_CHARS = 10_000  # of a value that could not be read, shown again as typed
Form = dict[str, list[str]]  # a form's values by name, as sent
# Which row of the form each item of a list came from (rows removed or left empty go), and
# for `field_config`, the field each row formats: how an error finds its row.
Numbers = dict[str, list[Any]]
LISTED = "exposed_fields.listed"  # sent when the fields shown are checkboxes
TRISTATE = {"yes": True, "no": False}  # a tristate's choices ("" is not set)


def from_json(text: str) -> dict[str, Any]:
    """The JSON view's config, or `InvalidInput` for `config_json`."""
    if len(text) > MAX_JSON_CHARS:
        raise invalid("config_json", f"at most {MAX_JSON_CHARS} characters")
    try:
        value = jsonutil.loads(text)
    except ValueError as error:
        raise invalid("config_json", f"not JSON: {error}") from None
    if not isinstance(value, dict):
        raise invalid("config_json", "a JSON object, { … }")
    return value


@dataclass
class Sent:
    """What the form describes: the config, the values that could not be read (by name),
    and where each row went."""

    config: dict[str, Any]
    errors: dict[str, str]
    numbers: Numbers


def from_form(base: dict[str, Any], form: Form) -> Sent:
    """The config the form describes, over `base`, so that what the form does not show (an
    input's enum, extensions) stays as it was."""
    sent = Sent(copy.deepcopy(base), {}, {})
    form = _ticked_fields(form)
    for name, field in FIELDS.items():
        _apply(sent.config, base, field, name, form, sent.errors)
    for rows in ROWS.values():
        if rows.path == "field_config":
            _field_formats(sent, base, rows, form)
        else:
            _list_rows(sent, base, rows, form)
    return sent


def _ticked_fields(form: Form) -> Form:
    """With the collection's fields offered as checkboxes (`exposed_fields.listed`), the
    fields shown are those ticked, in the order of the rows; else the text box's lines."""
    if _first(form, LISTED) is None:
        return form
    count = row_count(form, "field_config", ROWS["field_config"].most)
    ticked = [
        (_first(form, f"field_config.{n}.field") or "").strip()
        for n in range(count)
        if _first(form, f"field_config.{n}.shown") is not None
    ]
    return {**form, "exposed_fields": ["\n".join(name for name in ticked if name)]}


def _first(form: Form, name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


def _value(field: Field, raw: str | None, name: str, errors: dict[str, str]) -> Any:
    """A form value as the config holds it (None: not set)."""
    if field.kind == "bool":
        return raw is not None
    text = (raw or "").strip()
    if field.kind == "lines":
        return [line.strip() for line in text.splitlines() if line.strip()] or None
    if not text and (field.strip or not raw):
        return None
    if field.kind == "int":
        if not re.fullmatch(r"-?\d{1,9}", text):
            errors[name] = "Type a whole number (at most 9 digits)."
            return None
        return int(text)
    if field.kind == "tristate":
        if text not in TRISTATE:
            errors[name] = f"Choose one of: {', '.join(field.labels) or 'yes, no'}."
            return None
        return TRISTATE[text]
    if field.kind == "json":
        return _json_object(text, name, errors)
    return text if field.strip else raw


def _json_object(text: str, name: str, errors: dict[str, str]) -> Any:
    try:
        value = jsonutil.loads(text)
    except ValueError as error:
        errors[name] = f'Type a JSON object, such as {{"stars": 5}} (not JSON: {error}).'
        return None
    if not isinstance(value, dict):
        errors[name] = 'Type a JSON object, such as {"stars": 5}.'
        return None
    return value


def _apply(
    config: dict[str, Any],
    base: dict[str, Any],
    field: Field,
    name: str,
    form: Form,
    errors: dict[str, str],
) -> None:
    value = _value(field, _first(form, name), name, errors)
    if name in errors:
        # Shown again as typed, beside its error; a config with errors is never saved.
        _put(config, field.path, (_first(form, name) or "")[:MAX_SHOWN_CHARS])
        return
    if value == field.default and not field.always and not _has(base, field.path):
        return  # a default left alone is not written into the config
    _put(config, field.path, value)


def _has(config: Any, path: str) -> bool:
    for part in path.split("."):
        if not isinstance(config, dict) or part not in config:
            return False
        config = config[part]
    return True


def _put(config: dict[str, Any], path: str, value: Any) -> None:
    """Set (or with None, remove) a value by path, dropping sections left empty."""
    *parents, last = path.split(".")
    trail = [config]
    for part in parents:
        child = trail[-1].get(part)
        if not isinstance(child, dict):
            if value is None:
                return
            child = trail[-1][part] = {}
        trail.append(child)
    if value is None:
        trail[-1].pop(last, None)
    else:
        trail[-1][last] = value
    for holder, part in zip(reversed(trail[:-1]), reversed(parents), strict=True):
        if holder.get(part) == {}:
            del holder[part]


def row_count(form: Form, path: str, most: int) -> int:
    raw = _first(form, f"{path}.count") or "0"
    return min(int(raw), most + 1) if raw.isdigit() else 0


def _list_rows(sent: Sent, base: dict[str, Any], rows: Rows, form: Form) -> None:
    """Each row over the item it edits; a row marked to remove, or a new one left empty, goes."""
    old = base.get(rows.path) if isinstance(base.get(rows.path), list) else []
    assert isinstance(old, list)
    items = []
    for number in range(row_count(form, rows.path, rows.most)):
        prefix = f"{rows.path}.{number}"
        if _first(form, f"{prefix}.remove") is not None:
            continue
        before = old[number] if number < len(old) and isinstance(old[number], dict) else {}
        # Checkboxes and lists of choices have a value even in a row left empty.
        typed = [
            _first(form, f"{prefix}.{f.path}")
            for f in rows.fields
            if f.kind not in ("bool", "select")
        ]
        if not before and not any((t or "").strip() for t in typed):
            continue
        item = copy.deepcopy(before)
        for field in rows.fields:
            _apply(item, before, field, f"{prefix}.{field.path}", form, sent.errors)
        items.append((number, item))
    _put(sent.config, rows.path, [item for _, item in items] or None)
    sent.numbers[rows.path] = [number for number, _ in items]


def _field_formats(sent: Sent, base: dict[str, Any], rows: Rows, form: Form) -> None:
    """One row per field: an empty format leaves the field to be shown as its values say."""
    old = base.get("field_config") if isinstance(base.get("field_config"), dict) else {}
    assert isinstance(old, dict)
    formats: dict[str, Any] = {}
    listed = _first(form, LISTED) is not None
    for number in range(row_count(form, rows.path, rows.most)):
        prefix = f"field_config.{number}"
        name = (_first(form, f"{prefix}.field") or "").strip()
        sent.numbers.setdefault("field_config", []).append(name)
        if not name or (listed and _first(form, f"{prefix}.shown") is None):
            continue  # a field not shown has no format: the page never draws it
        found = old.get(name)
        before: dict[str, Any] = found if isinstance(found, dict) else {}
        item = copy.deepcopy(before)
        for field in rows.fields:
            _apply(item, before, field, f"{prefix}.{field.path}", form, sent.errors)
        if item:
            # Without a format (Automatic), the options (a label…) apply to the format the
            # values are shown in.
            formats[name] = item
    _put(sent.config, "field_config", formats or None)


def unshown_searched(
    must_show: tuple[str, ...], rows: list[str], config: dict[str, Any], only: bool = False
) -> dict[str, str]:
    """An error beside the checkbox of each field the retriever searches that the page does
    not show (`rows`: the field of each row of the form, in order), as publishing refuses
    it. `only`: the retriever searches one field, which cannot stop being searched."""
    shown = config.get("exposed_fields") or []
    return {
        f"field_config.{number}.shown": (
            f"The retriever searches {name}, so the page must show it: tick it again. "
            + (
                "To hide it, first choose another field to search, in this retriever's Search tab."
                if only
                else f"Or tick “Also stop searching {name}” to hide it."
            )
        )
        for number, name in enumerate(rows)
        if name in must_show and name not in shown
    }


def unsearched(
    searched: tuple[str, ...], must_show: tuple[str, ...], rows: list[str], form: Form
) -> tuple[list[str], dict[str, str]]:
    """The fields the form asks the retriever to stop searching (“Also stop searching it”,
    beside each field it must show), and an error beside the box if none would be left."""
    asked = [
        name
        for number, name in enumerate(rows)
        if name in must_show and _first(form, f"field_config.{number}.unsearch") is not None
    ]
    if asked and not [f for f in searched if f not in asked]:
        number = rows.index(asked[-1])
        return asked, {
            f"field_config.{number}.unsearch": (
                "A retriever searches one field at least: keep one, or first choose another "
                "to search in this retriever's Search tab."
            )
        }
    return asked, {}


def form_errors(error: InvalidInput, numbers: Numbers | None = None) -> dict[str, str]:
    """An `InvalidInput`'s messages by the form field they belong beside; `form` for the rest
    (each with its path, which the JSON view shows)."""
    numbers = numbers or {}
    found: dict[str, str] = {}
    for item in error.details.get("errors", []):
        where = _dotted(str(item.get("field", "")))
        message = str(item.get("message", error.message))
        if item.get("type") == "missing":
            message = "Required: this cannot be left empty."
        name = _form_name(where, message, numbers)
        if name in found:
            continue
        found[name] = message if name != "form" else f"{where}: {message}"
    return found or {"form": error.message}


def _dotted(location: str) -> str:
    location = location.removeprefix("display_config.").removeprefix("display_config")
    return re.sub(r"\[(\d+)\]", r".\1", location)


def _form_name(where: str, message: str, numbers: dict[str, list[Any]]) -> str:
    if where in ("", "body"):
        # A rule over several fields names the one it is about first: "inputs[0].field_name
        # 'page' is …", "components.result_card.title_field names …".
        named = re.match(r"[A-Za-z_][\w.\[\]-]*", message)
        where = _dotted(named[0]) if named else ""
    head, _, rest = where.partition(".")
    if head in ROWS and rest:
        keys = numbers.get(head, [])
        if head == "field_config":
            field = next(
                (
                    k
                    for k in sorted(keys, key=len, reverse=True)
                    if rest == k or rest.startswith(k + ".")
                ),
                None,
            )
            if field is None:
                return "form"
            rest = str(keys.index(field)) + rest[len(field) :]
        number, _, inner = rest.partition(".")
        if number.isdigit() and int(number) < len(keys) and head != "field_config":
            number = str(keys[int(number)])
        for field in ROWS[head].fields:
            if inner == field.path or inner.startswith(field.path + "."):
                return f"{head}.{number}.{field.path}"
        return f"{head}.{number}" if inner == "" else "form"
    while where:
        if where in FIELDS:
            return where
        where = where.rpartition(".")[0]
    return "form"
