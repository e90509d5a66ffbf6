"""Matched words, as the engine marks them: `highlights` hold a field's whole text, HTML-escaped,
with each matched word in `<mark>…</mark>`. Cards shorten that text without cutting a mark or
an entity in two."""

from __future__ import annotations

import html
import re

from markupsafe import Markup, escape

_MARK = re.compile(r"(<mark>|</mark>)")
_SPECIAL = re.compile(r"[&<>\"']")  # what `escape` changes: text without any is its own escape


def marked(highlighted: str, limit: int | None) -> Markup:
    """The marked-up text shortened to `limit` visible characters (with "…"); anything but
    the engine's own `<mark>` tags is escaped again, so a highlight can never carry markup."""
    budget = limit if limit is not None else 1 << 30
    out: list[str] = []
    inside = False
    cut = False
    for piece in _MARK.split(highlighted):
        if piece == "<mark>":
            if cut:
                break
            out.append("<mark>")
            inside = True
            continue
        if piece == "</mark>":
            if inside:
                out.append("</mark>")
            inside = False
            continue
        text = html.unescape(piece)
        if len(text) > budget:
            text = text[: max(0, budget - 1)].rstrip() + "…"
            cut = True
        budget -= len(text)
        out.append(str(escape(text)) if _SPECIAL.search(text) else text)
        if cut:
            break
    if inside:
        out.append("</mark>")
    return Markup("".join(out))  # noqa: S704 - every text piece escaped above


def plain(highlighted: str) -> str:
    """The text without its marks."""
    return html.unescape(_MARK.sub("", highlighted))
