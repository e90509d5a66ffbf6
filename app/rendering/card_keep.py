"""A card's drawing of one document, kept for the next search that lists the document with the
same values and marks under the same config version (a popular query's page draws each of its
cards once). What `cards.cards` keeps and takes back; `card_html` keeps the card's HTML in it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup

from app.kept import Kept

# Cards' drawings kept (`Drawn`), over every config: a result listed again with the same values
# and marks (a popular query's page) is drawn once. Only documents whose fields read are texts,
# numbers or absent, the texts KEPT_CARD_CHARS together at most, are kept: what is kept stays
# small.
CARDS_KEPT = 4096
KEPT_CARD_CHARS = 4000  # read, and drawn: escaping can make a text five times longer
drawn: Kept[tuple[Any, ...], Drawn] = Kept(CARDS_KEPT)
_TEXTS = frozenset({str, type(None)})
_PLAIN = frozenset({str, type(None), int, float, bool})


class Drawn:
    """What a card draws of one document under one config version, whatever the search: its
    title, picture, description, facts and own URL, and (once drawn) its HTML outside a tab,
    cut where the card's position and link go."""

    __slots__ = ("description", "facts", "html", "own_link", "thumbnail", "title")

    def __init__(
        self,
        title: Markup,
        thumbnail: Markup | None,
        description: Markup | None,
        facts: Markup,
        own_link: str | None,
    ) -> None:
        self.title, self.thumbnail, self.description = title, thumbnail, description
        self.facts, self.own_link = facts, own_link
        self.html: tuple[str, str, str] | None = None


def key(
    serial: int,
    reads: tuple[str, ...],
    document: dict[str, Any],
    marks: Mapping[str, str],
    document_id: str,
    how: Any,
) -> tuple[Any, ...] | None:
    """The key of a card's kept drawing: its plan (`serial`), the document's id, each field
    read (`reads`) and its marks, and `how` (what else the drawing depends on); None when it is
    not kept (too long, a value other than a text or a number, or a zero, as 0.0 and -0.0 are
    equal and may be drawn apart). Numbers are keyed with their types: 1, 1.0 and True are
    equal and drawn apart."""
    if marks:
        values = (*map(document.get, reads), *map(marks.get, reads))
    else:
        values = tuple(map(document.get, reads))
    kinds = set(map(type, values))
    if kinds <= _TEXTS:
        size = sum(map(len, filter(None, values)))
        key: tuple[Any, ...] = (serial, how, document_id, values)
    elif kinds <= _PLAIN and 0 not in values:
        size = sum([len(value) for value in values if type(value) is str])
        key = (serial, how, document_id, values, tuple(map(type, values)))
    else:
        return None
    return key if len(document_id) + size <= KEPT_CARD_CHARS else None


def small(drawing: Drawn) -> bool:
    """Whether a drawing is short enough to keep: at most KEPT_CARD_CHARS drawn, so that the
    keep holds a few tens of megabytes at worst (its HTML, kept with it, is about as long)."""
    parts = (drawing.title, drawing.thumbnail, drawing.description, drawing.facts)
    return sum(len(part) for part in parts if part is not None) <= KEPT_CARD_CHARS
