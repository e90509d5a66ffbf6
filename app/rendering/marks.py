"""Matched words, as the engine marks them: `highlights` hold a field's whole text, HTML-escaped,
with each matched word in `<mark>…</mark>`. Cards shorten that text without cutting a mark or
an entity in two."""

from __future__ import annotations

import html
import re

from markupsafe import Markup, escape

from app.kept import Kept

_MARK = re.compile(r"(<mark>|</mark>)")
_SPECIAL = re.compile(r"[&<>\"']")  # what `escape` changes: text without any is its own escape
# Text and whole `<mark>…</mark>` pairs, none nested or left open: no `<` but the marks'.
_WELL_FORMED = re.compile(r"[^<]*(?:<mark>[^<]*</mark>[^<]*)*")
MARKS_KEPT = 8192  # marked texts kept, shortened (`kept_marked`)
MARKED_CHARS = 1000  # only texts this short are kept: what is kept stays a few megabytes
_kept: Kept[tuple[str, int | None], Markup] = Kept(MARKS_KEPT)


def marked(highlighted: str, limit: int | None) -> Markup:
    """The marked-up text shortened to `limit` visible characters (with "…"); anything but
    the engine's own `<mark>` tags is escaped again, so a highlight can never carry markup."""
    budget = limit if limit is not None else 1 << 30
    if _WELL_FORMED.fullmatch(highlighted):
        text = highlighted.replace("<mark>", "").replace("</mark>", "")
        if len(text) <= budget and not _SPECIAL.search(text):
            # Nothing to cut, unescape or escape again: the loop below would give it back as
            # it is (the common case, a short text without `&` or quotes).
            return Markup(highlighted)  # noqa: S704 - no markup but whole <mark> pairs
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


def kept_marked(highlighted: str, limit: int | None) -> Markup:
    """`marked`, kept per text and limit: a popular result's title and description come back
    marked alike for every search of the same words."""
    if len(highlighted) > MARKED_CHARS:
        return marked(highlighted, limit)
    key = (highlighted, limit)
    drawn = _kept.get(key)
    return drawn if drawn is not None else _kept.put(key, marked(highlighted, limit))


def plain(highlighted: str) -> str:
    """The text without its marks."""
    return html.unescape(_MARK.sub("", highlighted))
