"""Every HTML page goes through `render`: one Jinja environment, one context, one set of
security headers (a CSP with a per-page nonce, framing only for the publisher's origins)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, Undefined, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from app import urls
from app.crypto import random_urlsafe
from app.kept import Kept, made
from app.paths import TEMPLATES_DIR
from app.rendering.card_html import cards_html
from app.rendering.form import Control
from app.rendering.markdown import render_markdown
from app.rendering.plugins import PluginFrame, frame_sources
from app.rendering.results_html import drawable, openings, results_block
from app.rendering.structured import ld_json, structured_data
from app.services.catalog import PublicRetriever
from app.services.editor_fields import FORMAT_WORDS
from app.web.assets import asset_url
from app.web.requests import services_of

T = TypeVar("T")

templates = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # templates ship with the release: no stat() of every file per page
)
templates.filters["markdown"] = render_markdown
templates.filters["ld_json"] = ld_json
templates.globals["structured_data"] = structured_data


def card_list(cards: list[Any], card_tab: Any = None) -> Markup:
    """The cards of a results list, drawn from their pre-escaped pieces (`card_html`), joined
    here rather than passed up through every template around them one piece at a time."""
    return cards_html(cards, None if isinstance(card_tab, Undefined) else card_tab)


templates.globals["card_list"] = card_list

PARTS_KEPT = 512  # rendered parts of pages kept (`once`, frames), a few for each loaded config
_parts: Kept[tuple[Any, ...], tuple[Any, Any]] = Kept(PARTS_KEPT)


def kept(key: tuple[Any, ...], holder: Any, make: Callable[[], T]) -> T:
    """What `make` returns for `key`, made once per loaded config `holder` (`app.kept.made`)."""
    return made(_parts, key, holder, make)


def once(name: str, display: Any, **values: Any) -> Markup:
    """A part of a page that depends on nothing but its display config and `values` (its
    head's meta tags, its icon), rendered once per loaded config rather than for every page."""
    return kept(
        (name, id(display), *sorted(values.items())),
        display,
        lambda: Markup(templates.get_template(name).render(display=display, **values)),  # noqa: S704
    )


templates.globals["once"] = once


# The pages drawn from a frame: what does not change between two searches of one config version
# (head, theme, bars, hero, panels, foot) rendered once, with a gap for each request's nonce and
# one for its block of per-request parts (the form, the filters, the results); a form of search
# boxes alone is itself drawn once, with a gap for each box's text (`_form`). Only what a frame
# reads is given to it (FRAME_VALUES); anything else would show as undefined.
FRAMED = {"search.html": "main"}
FRAME_VALUES = ("embed", "plugins", "typeahead_url", "kind", "layout", "canonical", "theme_css")
GAP = f"\x00{random_urlsafe(12)}:"  # in no value nor config: the gaps' names follow it
_GAPS = re.compile(re.escape(GAP) + r"(\w+)\x00")


def framed(name: str, retriever: PublicRetriever, context: dict[str, Any]) -> str:
    """The page `name` for this `context`: its frame, kept per config and per the values it
    reads, with this request's nonce and its block of per-request parts in the gaps."""
    template = templates.get_template(name)
    block = FRAMED[name]
    key = ("frame", name, id(retriever), *(context.get(k) for k in FRAME_VALUES))
    pieces = kept(key, retriever, lambda: _frame(name, block, retriever, context))
    form = _form(retriever, context)
    if form is not None:
        context = {**context, "form_html": form}
    if block == "main" and drawable(context):
        layout = context.get("layout") or ""
        div, ol = kept(
            ("results", id(retriever), layout),
            retriever,
            lambda: openings(retriever.record.public_name, retriever.display, layout),
        )
        main = results_block(context, div, ol)
    else:
        main = "".join(template.blocks[block](template.new_context(context)))
    gaps = {"nonce": context["nonce"], block: main}
    return "".join([gaps[p] if i % 2 else p for i, p in enumerate(pieces)])


def _frame(name: str, block: str, retriever: PublicRetriever, context: dict[str, Any]) -> list[str]:
    """The page `name` drawn around two gaps, split: its text and the gaps' names in turn."""
    child = templates.from_string(
        f'{{% extends "{name}" %}}{{% block {block} %}}{GAP}{block}\x00{{% endblock %}}'
    )
    values = {k: context.get(k) for k in FRAME_VALUES}
    html = child.render(
        retriever=retriever, display=retriever.display, nonce=f"{GAP}nonce\x00", **values
    )
    return _GAPS.split(html)


def _form(retriever: PublicRetriever, context: dict[str, Any]) -> Markup | None:
    """The search form, when its inputs are search boxes, selects and checkboxes with no
    error: drawn once per config and page path with a gap for each box's value, each option's
    `selected` and each checkbox's `checked`, the values put in (None otherwise: the form is
    drawn whole)."""
    state, display = context.get("state"), retriever.display
    if (
        state is None
        or context.get("parent_origin")
        or (display.components and not display.components.show_search)
    ):
        return None
    controls = state.controls
    if not all(c.error is None and _FILLED.get(c.widget, _none)(c.value) for c in controls):
        return None
    path = context["request"].url.path
    values = {k: context.get(k) for k in ("tab_key", "typeahead_url", "preview")}
    key = ("form", id(retriever), path, *values.values())
    pieces = kept(key, retriever, lambda: _form_frame(retriever, state, path, values))
    gaps: dict[str, str] = {}
    for i, c in enumerate(controls):
        if c.widget == "text":
            gaps[f"v{i}"] = "" if c.value is None else escape(c.value)
        elif c.widget == "checkbox":
            gaps[f"c{i}"] = c.checked_attribute
        else:
            for j, (value, _) in enumerate(c.options):
                gaps[f"s{i}_{j}"] = c.selected_attribute(j, value)
    # The frame's text was escaped as Jinja drew it; each box's value is escaped just above.
    return Markup("".join([gaps[p] if i % 2 else p for i, p in enumerate(pieces)]))  # noqa: S704


def _any(value: Any) -> bool:
    return True


def _none(value: Any) -> bool:
    return False


# The controls a form's frame has gaps for, and the values they take (any other control, a
# number, a date, a text area or a file, has the form drawn whole).
_FILLED: dict[str, Callable[[Any], bool]] = {
    "text": lambda value: isinstance(value, str | None),
    "select": _any,
    "multiselect": _any,
    "checkbox": _any,
}


@dataclass
class _Gapped(Control):
    """A control drawn with gaps where a request's state goes (`_form_frame`)."""

    index: int = 0

    def selected_attribute(self, index: int, option: str) -> str:
        return f"{GAP}s{self.index}_{index}\x00"

    @property
    def checked_attribute(self) -> str:
        return f"{GAP}c{self.index}\x00"


def _form_frame(
    retriever: PublicRetriever, state: Any, path: str, values: dict[str, Any]
) -> list[str]:
    """The form drawn around its gaps, split as `_frame` splits."""
    boxes = [
        _Gapped(c.config, c.widget, f"{GAP}v{i}\x00", c.options, c.accept, c.error, i)
        for i, c in enumerate(state.controls)
    ]
    html = templates.get_template("_form.html").render(
        retriever=retriever,
        display=retriever.display,
        request={"url": {"path": path}},
        state=replace(state, controls=boxes),
        **values,
    )
    return _GAPS.split(html)


def _number(value: float | None) -> str:
    """A bound as a placeholder: 4 rather than 4.0; nothing for no value."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


templates.filters["number"] = _number
templates.globals["asset"] = asset_url
# Pages link to each other through the one URL builder, never by formatting paths.
templates.globals["urls"] = urls
templates.globals["format_words"] = FORMAT_WORDS  # the editor's Format list


def frame_ancestors(retriever: PublicRetriever | None) -> list[str]:
    """The origins the publisher allows to frame the page (`extensions.frame_ancestors`)."""
    extensions = (retriever.display.extensions or {}) if retriever else {}
    allowed: list[str] = extensions.get("frame_ancestors") or []
    return allowed


def common_ancestors(allowed: list[list[str]]) -> list[str]:
    """The `frame-ancestors` sources every list allows (each list one retriever's): a source
    is kept when each list has it, or has one that covers it (`*`, a wildcard host), so a
    page of several retrievers is framed only where all of them may be."""
    if not allowed:
        return []
    kept: list[str] = []
    for source in dict.fromkeys(s for sources in allowed for s in sources):
        if all(
            source in sources or any(origin_allowed(p, source) for p in sources)
            for sources in allowed
        ):
            kept.append(source)
    return kept


def origin_allowed(pattern: str, origin: str) -> bool:
    """Whether `origin` is one a `frame-ancestors` source such as https://example.com,
    https://*.example.com (any subdomain) or http://localhost:* (any port) allows."""
    if pattern == "*":
        return True
    want, have = urlsplit(pattern), urlsplit(origin)
    if want.scheme != have.scheme or have.hostname is None:
        return False
    host, _, port = want.netloc.lower().partition(":")
    if host.startswith("*."):
        host_ok = have.hostname.endswith(host[1:]) and len(have.hostname) > len(host) - 1
    else:
        host_ok = have.hostname == host
    try:
        have_port = have.port
    except ValueError:
        return False
    port_ok = port == "*" or (port == "" and have_port is None) or port == str(have_port)
    return host_ok and port_ok


def _security_headers(
    nonce: str,
    retriever: PublicRetriever | None,
    frames: list[PluginFrame],
    ancestors: str | None = None,
) -> dict[str, str]:
    ancestors = ancestors or " ".join(["'self'", *frame_ancestors(retriever)])
    # Plugin frames only: this server's sandboxed frames, and each entry point's own origin.
    frame_src = f"frame-src {' '.join(frame_sources(frames))}; " if frames else ""
    policy = (
        "default-src 'none'; script-src 'self'; "
        f"style-src 'self' 'nonce-{nonce}'; img-src 'self' https: data:; "
        f"connect-src 'self'; {frame_src}form-action 'self'; base-uri 'none'; "
        f"frame-ancestors {ancestors}"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def render(
    request: Request,
    template: str,
    status: int = 200,
    retriever: PublicRetriever | None = None,
    headers: dict[str, str] | None = None,
    frames: list[PluginFrame] | None = None,
    ancestors: str | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page. `frames` are the plugin frames it may hold (a retriever's, unless given);
    `ancestors`, who may frame it (this site and the publisher's origins, unless given)."""
    nonce = random_urlsafe(16)
    if frames is None:
        frames = list(retriever.frames.values()) if retriever else []
    context = {
        "request": request,
        "nonce": nonce,
        "public_url": services_of(request).settings.public_url,
        "retriever": retriever,
        "display": retriever.display if retriever else None,
        "theme_css": retriever.theme_css if retriever else "",
        "embed": request.url.path.endswith("/embed"),
        "plugins": bool(frames),
        **values,
    }
    if template in FRAMED and retriever is not None and not values.get("preview"):
        html = framed(template, retriever, context)
    else:
        html = templates.get_template(template).render(context)
    return HTMLResponse(
        html,
        status_code=status,
        headers={**_security_headers(nonce, retriever, frames, ancestors), **(headers or {})},
    )
