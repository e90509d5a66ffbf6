"""A result card's HTML, drawn in Python from pre-escaped pieces: byte for byte what its
template printed before (`tests/rendering/test_card_html.py` keeps it and compares), without a
template's per-value escaping and context lookups.

Every value is escaped once, where it enters: the document's values and the engine's marks
were escaped when the card was made (`cards`), so they go in as they are; the few strings a
card holds as plain text (its id, its links, its title's label, its tab's name and label) are
escaped here. Nothing else is markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from markupsafe import Markup, escape

from app.rendering.cards import Card

BY_MEANING = (
    '<p class="by-meaning"><span aria-hidden="true">≈ </span>Matched by meaning'
    '<span class="visually-hidden">: none of the words searched for are in it</span></p>'
)

EXTERNAL = '" rel="noopener noreferrer" target="_blank">'


def card_html(card: Card, tab: Mapping[str, Any] | None = None) -> str:
    """One card, as an `<li>` of a results list. `tab`: the tab or section it was found in,
    on a page of several (its `public_name`, `execution_id` and, in a list of every tab's
    results, its `label`)."""
    kept = card.kept
    if kept is not None and not tab and card.similar is None and card.score is None:
        # Outside a tab, a kept drawing's HTML is the same on every page that lists it, but
        # for its position and link (a search's own, `similar` and `score` too: not kept).
        pieces = kept.html
        if pieces is None or card.by_meaning:
            pieces = _pieces(card, tab)
            if not card.by_meaning:
                kept.html = pieces
    else:
        pieces = _pieces(card, tab)
    head, middle, tail = pieces
    link = escape(card.link) if card.link else ""
    return f"{head}{card.position}{middle}{link}{tail}"


def _pieces(card: Card, tab: Mapping[str, Any] | None) -> tuple[str, str, str]:
    """The card's HTML up to its position, from there up to its link's URL (if it has one),
    and the rest."""
    parts = ['<li class="card"']
    if tab:
        parts += [' data-public-name="', escape(tab.get("public_name", "")), '"']
        if tab.get("execution_id"):
            parts += [' data-execution-id="', escape(tab["execution_id"]), '"']
    parts += [' data-document-id="', escape(card.document_id), '" data-position="']
    head = "".join(parts)
    parts = ['">\n']
    if card.thumbnail:
        parts += ['<div class="thumb">', card.thumbnail, "</div>"]
    parts.append('  <div class="body">\n    <h2 class="title">')
    if card.title_label:
        parts += ['<span class="visually-hidden">', escape(card.title_label), ": </span>"]
    if card.link:
        parts.append('<a href="')
        middle = "".join(parts)
        parts = [EXTERNAL if card.external else '" data-detail>', card.title, "</a>"]
    else:
        parts.append(card.title)
        middle = "".join(parts)
        parts = []
    parts.append("</h2>\n")
    if card.by_meaning:
        parts.append(BY_MEANING)
    if tab and tab.get("label"):
        parts += ['<p class="card-from">In ', escape(tab["label"]), "</p>"]
    if card.description:
        parts += ['<p class="desc">', card.description, "</p>"]
    if card.facts:
        parts += ['<ul class="facts">', card.facts, "</ul>"]
    if card.score is not None or card.similar:
        parts.append('<p class="card-foot">')
        if card.similar:
            title = escape(Markup(str(card.title)).striptags())  # noqa: S704 - its own markup
            parts += ['<a class="similar" href="', escape(card.similar), '">Find similar']
            parts += ['<span class="visually-hidden"> to ', title, "</span></a>"]
        if card.score is not None:
            parts += ['<span class="score">Score ', escape(f"{card.score:.3f}"), "</span>"]
        parts.append("</p>")
    parts.append("  </div>\n</li>")
    return head, middle, "".join(parts)


def cards_html(cards: Iterable[Card], tab: Mapping[str, Any] | None = None) -> Markup:
    """The cards of a list, one after another, as markup for a template."""
    return Markup("".join([card_html(card, tab) for card in cards]))  # noqa: S704 - escaped above
