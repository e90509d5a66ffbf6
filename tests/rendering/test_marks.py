"""Marked text (`marked`) against the loop that drew every highlight before it gave short,
plain texts back as they are: the same markup for texts with and without entities, quotes,
stray or unclosed marks and markup of their own, cut or not."""

from __future__ import annotations

import html
import random
import re

from markupsafe import Markup, escape

from app.rendering.marks import marked

_MARK = re.compile(r"(<mark>|</mark>)")
_SPECIAL = re.compile(r"[&<>\"']")


def before(highlighted: str, limit: int | None) -> Markup:
    """`marked` as it was, every text through the loop."""
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
    return Markup("".join(out))  # noqa: S704


PIECES = ["<mark>", "</mark>", "lamp", " ", "desk", "é", "&amp;", "&quot;", "&#x27;", "&",
          "<", ">", '"', "'", "<b>", "&lt;script&gt;", "…", "a"]  # fmt: skip


def test_every_text_is_marked_as_before() -> None:
    shuffle = random.Random(29)
    texts = ["", "lamp", "<mark>lamp</mark>", "a <mark>desk</mark> lamp <mark>x</mark>"]
    texts += ["".join(shuffle.choices(PIECES, k=shuffle.randint(1, 14))) for _ in range(20_000)]
    for text in texts:
        for limit in (None, 0, 1, 3, 8, 20, 120):
            assert marked(text, limit) == before(text, limit), (text, limit)


def test_a_plain_short_text_is_given_back_as_it_is() -> None:
    text = "a <mark>desk</mark> lamp"
    assert marked(text, 120) == text
    assert marked("a <mark>b</mark> &amp; c", None) == "a <mark>b</mark> &amp; c"


def test_long_marked_texts_are_drawn_each_time_not_kept() -> None:
    """Kept marked texts stay a few megabytes per process however long the highlighted texts
    (an engine marks up to 20,000 characters; an upstream any length)."""
    import tracemalloc

    from app.rendering import marks

    body = "word " * 4000
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    drawn = [str(marks.kept_marked(f"<mark>w{n}</mark> {body}", 300)) for n in range(2000)]
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert drawn[7] == str(marked(f"<mark>w7</mark> {body}", 300))
    assert held < 10_000_000, f"{held / 1e6:.0f} MB kept"
    short = marks.kept_marked("<mark>Lamp</mark> for a desk", None)
    assert marks.kept_marked("<mark>Lamp</mark> for a desk", None) is short
