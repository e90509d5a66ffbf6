"""Result cards: what a search page prints for each document, from the display config."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from app.kept import Kept, made
from app.rendering import card_keep
from app.rendering.card_slots import (
    card_fields,
    card_props,
    description_field,
    label_of,
    thumbnail_field,
    title_field,
)
from app.rendering.formats import MAX_TEXT, truncate
from app.rendering.links import Links as Links  # where its users import it from
from app.rendering.marks import kept_marked as _marked
from app.rendering.plugins import PluginFrame, plugin_field
from app.rendering.registry import Compiled, Renderers
from app.schemas.display import (
    DisplayConfig,
    FieldConfig,
    ResultCardProperties,
)
from app.schemas.search import BY_MEANING

PAGE_SIZE = 20
IMAGE = FieldConfig(format="image")


@dataclass
class CardField:
    name: str
    label: str
    value: Markup
    kind: str  # the format drawn: number, rating, boolean, badge, array, text, ...
    # The label the publisher set (`format_options.label`): shown on the card before the value.
    shown_label: str | None = None


@dataclass
class Card:
    document_id: str
    position: int
    title: Markup  # the matched words marked
    title_label: str | None  # the title field's own label, for screen readers
    thumbnail: Markup | None
    description: Markup | None  # one or two lines, the matched words marked
    # The card's facts, each `<li>` of its `<ul class="facts">` drawn from the plan's pieces
    # (`_Shown.fact`): empty when it shows none.
    facts: Markup
    score: float | None
    link: str | None  # where the title leads: the detail view, similar items, or the item's URL
    external: bool  # whether `link` leaves this site (opened in a new tab)
    similar: str | None  # the "find similar" link, when the config asks for one
    # Found by meaning alone (none of the query's words in it), when the config asks to say so.
    by_meaning: bool = False
    # What the card drew of its document, kept for the next search that lists it with the same
    # values and marks (its HTML with it, `card_html`); None when it is drawn afresh each time.
    kept: card_keep.Drawn | None = dataclasses.field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class _Shown:
    """One field a card (or the detail view) shows, with all that its display config settles:
    made by `_shown` alone, so that a card's facts and the detail view's `CardField`s (`field`)
    are drawn from the same settled values."""

    name: str
    label: str
    shown_label: str | None  # the publisher's own label, shown on the card (`CardField`)
    markable: bool  # the engine's highlight draws it, when there is one (plain text)
    mark_limit: int
    format: str | None  # as configured
    draw: Compiled
    frame: PluginFrame | None
    # The fact's opening, `<li ...>` and its label, escaped once, by the format it is drawn by.
    openings: dict[str, str]

    def framed(
        self, value: Any, drawn: Markup, document: dict[str, Any], exposed: list[str]
    ) -> Markup:
        """The drawing in its plugin's frame, when a plugin draws the field."""
        if self.frame is None or value is None:
            return drawn
        return plugin_field(self.frame, self.label, value, drawn, document, exposed, self.name)

    def field(self, drawn: Markup, kind: str) -> CardField:
        return CardField(self.name, self.label, drawn, kind, self.shown_label)

    def fact(self, drawn: Markup, kind: str) -> str:
        """The card's `<li>` for this field: its class, its label and the drawing."""
        opening = self.openings.get(kind)
        if opening is None:
            opening = self.openings[kind] = _opening(self, kind)
        return f"{opening}{drawn}</li>"


def _shown(
    name: str,
    config: FieldConfig | None,
    renderers: Renderers,
    frames: Mapping[str, PluginFrame] | None,
) -> _Shown:
    return _Shown(
        name=name,
        label=label_of(name, config),
        shown_label=config.format_options.label if config and config.format_options else None,
        markable=config is None or config.format in (None, "text"),
        mark_limit=_limit(config) or MAX_TEXT,
        format=config.format if config and config.format else None,
        draw=renderers.compiled(config, name),
        frame=frames.get(name) if frames else None,
        openings={},
    )


def _opening(field: _Shown, kind: str) -> str:
    """A fact's `<li>` up to its value: a label the publisher set is shown, with the colon
    screen readers hear; the field's own name is for screen readers only."""
    if field.shown_label:
        shown = escape(field.shown_label)
        label = f'<span class="m-label">{shown}</span><span class="visually-hidden">:</span> '
    else:
        label = f'<span class="visually-hidden">{escape(field.label)}: </span>'
    css = escape(field.name.replace(".", "-"))
    return f'<li class="m m--{escape(kind)} f-{css}">{label}'


@dataclass(frozen=True)
class _Plan:
    """What every card of a display config draws, worked out once for the config (and its
    plugin frames) instead of for each card of each search."""

    props: ResultCardProperties
    title_name: str
    title_limit: int
    title_label: str | None
    thumb_name: str | None
    description_name: str | None
    description_limit: int | None
    describe: bool
    shown: tuple[_Shown, ...]
    link_name: str | None
    thumb_draw: Compiled | None
    # The document's fields a card reads, when its drawing may be kept (`card_keep.key`): none
    # drawn by a plugin, no score (a search's own). Empty when it may not.
    reads: tuple[str, ...]
    serial: int  # one a plan: never reused, unlike an id()


PLANS_KEPT = 256  # display configs (a retriever version each) whose card plan is kept
_plans: Kept[tuple[int, int, int], tuple[Any, Any]] = Kept(PLANS_KEPT)
_plan_serials = itertools.count()


def _plan(
    display: DisplayConfig, renderers: Renderers, frames: Mapping[str, PluginFrame] | None
) -> _Plan:
    """The card plan of a display config, kept by the identity of the config object (a
    published version's is built once and never changed; the key's objects are kept with
    it, so that an id is never reused while its entry stands)."""
    key = (id(display), id(renderers), id(frames))
    return made(
        _plans, key, (display, renderers, frames), lambda: _make_plan(display, renderers, frames)
    )


def _make_plan(
    display: DisplayConfig, renderers: Renderers, frames: Mapping[str, PluginFrame] | None
) -> _Plan:
    props = card_props(display)
    configs = display.field_config or {}
    title_name = title_field(display)
    description_name = description_field(display)
    listed = card_fields(display)
    description_config = configs.get(description_name or "")
    # The description is a card's line of text, marked where the query matched, unless its
    # config draws it otherwise (a format, a plugin): then it is a field like any other.
    plain = (description_config is None or description_config.format in (None, "text")) and not (
        frames and description_name in frames
    )
    describe = plain and description_name is not None and description_name in listed
    description_options = description_config.format_options if description_config else None
    title_options = configs[title_name].format_options if title_name in configs else None
    thumb_name = thumbnail_field(display)
    shown = []
    for name in listed:
        if name == description_name and plain:
            continue
        shown.append(_shown(name, configs.get(name), renderers, frames))
    keepable = not props.show_score and all(field.frame is None for field in shown)
    reads = (
        title_name,
        *([description_name] if describe and description_name else []),
        *(field.name for field in shown),
        *([thumb_name] if thumb_name else []),
    )
    link_name = next(
        (n for n in display.exposed_fields if n in configs and configs[n].format == "url"),
        None,
    )
    return _Plan(
        props=props,
        title_name=title_name,
        title_limit=(title_options.truncate_chars if title_options else None)
        or props.truncate_title
        or 120,
        title_label=title_options.label if title_options else None,
        thumb_name=thumb_name,
        description_name=description_name,
        description_limit=(description_options.truncate_chars if description_options else None)
        or props.truncate_description,
        describe=describe,
        shown=tuple(shown),
        link_name=link_name,
        thumb_draw=renderers.compiled(configs.get(thumb_name) or IMAGE) if thumb_name else None,
        reads=(*reads, *([link_name] if link_name else [])) if keepable else (),
        serial=next(_plan_serials),
    )


def cards(
    display: DisplayConfig,
    documents: list[dict[str, Any]],
    offset: int,
    now: datetime,
    renderers: Renderers,
    frames: Mapping[str, PluginFrame] | None = None,
    links: Links | None = None,
) -> list[Card]:
    """The cards of one page. Without `links` (a page that cannot open details or similar
    items), titles lead to the item's own URL field, as with `card_click_action: none`."""
    plan = _plan(display, renderers, frames)
    props = plan.props
    meaning = props.show_meaning_hint
    how = links is None  # a card with no links leads to its own URL
    result = []
    for index, document in enumerate(documents):
        marks: dict[str, str] = document.get("highlights") or {}
        document_id = str(document.get("document_id", ""))
        key = (
            card_keep.key(plan.serial, plan.reads, document, marks, document_id, how)
            if plan.reads
            else None
        )
        drawn_card = card_keep.drawn.get(key) if key is not None else None
        if drawn_card is None:
            drawn_card, timeless = _draw(plan, document, marks, now, renderers, display)
            if key is not None and timeless and card_keep.small(drawn_card):
                card_keep.drawn.put(key, drawn_card)
        own_link = drawn_card.own_link
        link, external = own_link, own_link is not None
        if links is not None and props.card_click_action == "viewDetails":
            link, external = links.detail(document_id), False
        elif links is not None and props.card_click_action == "findSimilar":
            link, external = links.similar(document_id), False
        result.append(
            Card(
                document_id=document_id,
                position=offset + index,
                title=drawn_card.title,
                title_label=plan.title_label,
                thumbnail=drawn_card.thumbnail,
                description=drawn_card.description,
                facts=drawn_card.facts,
                score=document.get("score") if props.show_score else None,
                link=link,
                external=external,
                similar=links.similar(document_id)
                if links is not None and props.show_find_similar
                else None,
                by_meaning=meaning and document.get(BY_MEANING) is True,
                kept=drawn_card if key is not None else None,
            )
        )
    return result


def _draw(
    plan: _Plan,
    document: dict[str, Any],
    marks: Mapping[str, str],
    now: datetime,
    renderers: Renderers,
    display: DisplayConfig,
) -> tuple[card_keep.Drawn, bool]:
    """What a card draws of `document`, and whether it is the same at any time of the page
    (every format it was drawn by timeless)."""
    timeless = True
    facts = []
    for field in plan.shown:
        name = field.name
        value = document.get(name)
        if name in marks and field.markable:
            drawn: Markup | None = _marked(marks[name], field.mark_limit)
            kind = field.format or renderers.infer(value)
        else:
            drawn, kind = field.draw(value, now)
            timeless = timeless and renderers.timeless(kind)
        if drawn is None:
            continue
        if field.frame is not None:
            drawn = field.framed(value, drawn, document, display.exposed_fields)
        facts.append(field.fact(drawn, kind))
    thumb = document.get(plan.thumb_name) if plan.thumb_name else None
    thumbnail = None
    if thumb and plan.thumb_draw:
        thumbnail, thumb_kind = plan.thumb_draw(thumb, now)
        timeless = timeless and renderers.timeless(thumb_kind)
    own = document.get(plan.link_name) if plan.link_name else None
    own_link = own if isinstance(own, str) and renderers.infer(own) in ("url", "image") else None
    return card_keep.Drawn(
        title=title_of(document, plan.title_name, marks, plan.title_limit),
        thumbnail=thumbnail,
        description=_text(document, plan.description_name, marks, plan.description_limit)
        if plan.describe
        else None,
        facts=Markup("".join(facts)),  # noqa: S704 - each escaped where it was drawn
        own_link=own_link,
    ), timeless


def _limit(config: FieldConfig | None) -> int | None:
    return config.format_options.truncate_chars if config and config.format_options else None


def card_field(
    display: DisplayConfig,
    document: dict[str, Any],
    name: str,
    drawn: Markup,
    renderers: Renderers,
    frames: Mapping[str, PluginFrame] | None,
) -> CardField:
    """A drawn field with its label and kind, in its plugin's frame when one draws it (a card
    and the detail view show fields alike)."""
    field = _shown(name, (display.field_config or {}).get(name), renderers, frames)
    value = document.get(name)
    drawn = field.framed(value, drawn, document, display.exposed_fields)
    return field.field(drawn, field.format or renderers.infer(value))


def thumbnail_of(
    display: DisplayConfig,
    name: str | None,
    document: dict[str, Any],
    now: datetime,
    renderers: Renderers,
) -> Markup | None:
    """The picture in the thumbnail field `name`, drawn by its format (an image unless
    configured)."""
    if not name or not document.get(name):
        return None
    config = (display.field_config or {}).get(name) or IMAGE
    return renderers.render(document[name], config, now)


def title_of(document: dict[str, Any], name: str, marks: Mapping[str, str], limit: int) -> Markup:
    return _text(document, name, marks, limit) or escape("Untitled")


def _text(
    document: dict[str, Any], name: str | None, marks: Mapping[str, str], limit: int | None
) -> Markup | None:
    """A title or description: the engine's marked text when the query matched it."""
    if name is None:
        return None
    if name in marks:
        return _marked(marks[name], limit)
    raw = document.get(name)
    if raw in (None, "", [], {}):
        return None
    text = raw if isinstance(raw, str) else str(raw)
    return escape(truncate(text, limit or MAX_TEXT))
