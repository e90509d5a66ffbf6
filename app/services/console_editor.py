"""The console's page editor: a retriever's draft display config, read from the editor's
form (see `editor_form`) or its JSON, checked by the models and checks the owner API's
publish call uses, kept in the store until it is published, and the retriever that renders
it for the preview (the public page's own renderer, with the draft in place of the page).

A draft is only ever saved valid: the form's errors come back by field name instead."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from markupsafe import Markup
from pydantic import ValidationError

from app import crypto, jsonutil
from app.adapters.backends import Backends
from app.adapters.clock import Clock, stamp
from app.adapters.store import PublishedRecord, Store
from app.adapters.store import page_versions as stored
from app.adapters.store.page_versions import DraftRecord
from app.errors import InvalidInput, from_validation_error, invalid
from app.rendering.registry import Renderers
from app.rendering.theme import Scheme, page_css
from app.schemas.display import DisplayConfig
from app.schemas.publishing import RateLimitConfig
from app.schemas.search import FULL_TEXT_INPUT
from app.services.catalog import PublicRetriever
from app.services.configs import check_display
from app.services.editor_form import FIELDS, ROWS, Field, Rows
from app.services.plugins import plugin_frames
from app.services.publishing import slugify
from app.services.retrievers import retriever_or_404
from app.services.versions import edited

MAX_JSON_CHARS = 500_000
STARTER_FIELDS = 20
Form = dict[str, list[str]]  # a form's values by name, as sent
# Which row of the form each item of a list came from (rows removed or left empty go), and
# for `field_config`, the field each row formats: how an error finds its row.
Numbers = dict[str, list[Any]]


@dataclass(frozen=True)
class Draft:
    """What the editor starts from: the draft if one is saved, else the page as published,
    else the retriever's own config, else a starter."""

    retriever_id: str
    retriever_name: str
    config: dict[str, Any]
    published: dict[str, Any] | None  # what the page shows now
    public_name: str | None
    saved_by: str | None
    saved_at: str | None

    @property
    def pending(self) -> bool:
        """Whether the draft differs from the page published."""
        return self.saved_at is not None and self.config != self.published


@dataclass(frozen=True)
class PreviewRetriever(PublicRetriever):
    """A draft as the page renders it, in the reader's colours or forced light or dark."""

    scheme: Scheme = "auto"

    @cached_property
    def theme_css(self) -> Markup:
        return page_css(self.display, self.scheme)


class ConsoleEditor:
    def __init__(
        self, store: Store, renderers: Renderers, backends: Backends, clock: Clock
    ) -> None:
        self.store = store
        self.renderers = renderers
        self.backends = backends
        self.clock = clock

    def draft(self, namespace: str, retriever_id: str) -> Draft:
        with self.store.read() as tx:
            retriever = retriever_or_404(tx, namespace, retriever_id)
            published = tx.get_published(namespace, retriever_id)
            saved = stored.draft(tx.conn, namespace, retriever_id)
        now = edited(published.display_config) if published else None
        config = (
            (saved.display_config if saved else None)
            or now
            or (edited(retriever.display_config) if retriever.display_config else None)
            or _starter(retriever.retriever_name, retriever.backend)
        )
        return Draft(
            retriever_id=retriever_id,
            retriever_name=retriever.retriever_name,
            config=config,
            published=now,
            public_name=published.public_name if published else None,
            saved_by=saved.saved_by if saved else None,
            saved_at=saved.saved_at if saved else None,
        )

    def check(self, namespace: str, config: dict[str, Any]) -> DisplayConfig:
        """The config as the publish call would take it, or `InvalidInput` naming each field."""
        try:
            model = DisplayConfig.model_validate_json(jsonutil.dumps(config))
        except ValidationError as error:
            raise from_validation_error(error) from None
        with self.store.read() as tx:
            check_display(self.renderers, tx.conn, namespace, model)
        return model

    def save(self, namespace: str, retriever_id: str, config: dict[str, Any], who: str) -> None:
        """Check and keep the draft (nothing public changes)."""
        model = self.check(namespace, config)
        kept = model.model_dump(mode="json", exclude_unset=True)
        with self.store.write() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            record = DraftRecord(retriever_id, namespace, edited(kept), who, stamp(self.clock()))
            stored.put_draft(tx.conn, record)

    def discard(self, namespace: str, retriever_id: str) -> None:
        with self.store.write() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            stored.drop_draft(tx.conn, namespace, retriever_id)

    def preview(
        self, namespace: str, retriever_id: str, scheme: Scheme = "auto"
    ) -> PreviewRetriever:
        """The retriever as the public page would render it with the draft published."""
        draft = self.draft(namespace, retriever_id)
        config = dict(draft.config)
        # Answers kept in memory are the public page's: a preview neither reads nor adds any.
        config["extensions"] = {
            k: v for k, v in (config.get("extensions") or {}).items() if k != "query_cache_seconds"
        }
        display = DisplayConfig.model_validate_json(jsonutil.dumps(config))
        with self.store.read() as tx:
            retriever = retriever_or_404(tx, namespace, retriever_id)
            published = tx.get_published(namespace, retriever_id)
            frames = plugin_frames(tx.conn, namespace, display)
        record = published or _unpublished(retriever_id, namespace, retriever.retriever_name)
        return PreviewRetriever(
            record=record.replace(display_config=config, version=0),
            backend=self.backends.parse(retriever.backend),
            display=display,
            rate_limit=RateLimitConfig(),  # a preview is never counted
            frames=frames,
            scheme=scheme,
        )


def _starter(name: str, backend: dict[str, Any]) -> dict[str, Any]:
    fields = list(backend.get("search_fields") or ["title"])[:STARTER_FIELDS]
    return {
        "title": name,
        "inputs": [
            {
                "field_name": FULL_TEXT_INPUT,
                "label": "Search",
                "input_type": "text",
                "field_schema": {"type": "text"},
                "required": False,  # an empty query lists everything, so the page shows cards
            }
        ],
        "exposed_fields": fields,
    }


def _unpublished(retriever_id: str, namespace: str, name: str) -> PublishedRecord:
    return PublishedRecord(
        retriever_id=retriever_id,
        namespace=namespace,
        public_id=crypto.new_id(crypto.PUBLIC_ID_PREFIX),
        public_name=slugify(name),
        public_api_key="",
        display_name=None,
        description=None,
        icon_base64=None,
        display_config={},
        rate_limit_config={},
        password_secret_name=None,
        is_active=False,
        tags=None,
        category=None,
        retriever_metadata=None,
        created_at="",
        updated_at="",
        version=0,
    )


# The form -----------------------------------------------------------------------------------


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
    input's enum, plugin parameters, extensions) stays as it was."""
    sent = Sent(copy.deepcopy(base), {}, {})
    for name, field in FIELDS.items():
        _apply(sent.config, base, field, name, form, sent.errors)
    for rows in ROWS.values():
        if rows.path == "field_config":
            _field_formats(sent, base, rows, form)
        else:
            _list_rows(sent, base, rows, form)
    return sent


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
    if not text:
        return None
    if field.kind == "int":
        if not re.fullmatch(r"-?\d{1,9}", text):
            errors[name] = "Type a whole number."
            return None
        return int(text)
    return text


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
    for number in range(row_count(form, rows.path, rows.most)):
        prefix = f"field_config.{number}"
        name = (_first(form, f"{prefix}.field") or "").strip()
        if not name:
            continue
        found = old.get(name)
        before: dict[str, Any] = found if isinstance(found, dict) else {}
        item = copy.deepcopy(before)
        for field in rows.fields:
            _apply(item, before, field, f"{prefix}.{field.path}", form, sent.errors)
        if item.get("format"):
            formats[name] = item
        sent.numbers.setdefault("field_config", []).append(name)
    _put(sent.config, "field_config", formats or None)


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
