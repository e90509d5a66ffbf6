"""The search page's per-request block (its form, then the results: status line, sort, cards,
paging), drawn in Python in the common case, byte for byte what `search.html`'s `main` block
and `_results.html` print (`tests/rendering/test_results_html.py` compares them): a page of
results with no filter panel, no chips, no problem and no similar item. Anything else is
left to the templates (`results_block` gives None).

What depends only on the config (the results `<div>`'s opening, the list's `<ol>` up to its
execution id) is drawn by `openings`, which the caller keeps per config version; the rest is
escaped here as it goes in, as Jinja's autoescape would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import escape

from app.rendering.card_html import cards_html

PAGING = '<nav class="paging" aria-label="Pages">\n'
SORT_HEAD = (
    '<div class="sort"><label for="sort">Sort</label> <select id="sort" name="sort" '
    'form="search"><option value="">Relevance</option>'
)
SORT_FOOT = (
    '</select><noscript><button type="submit" form="search">Sort</button></noscript></div>\n'
)
HITS = (
    '<section class="hits" aria-label="Results">\n<div class="rhead">\n'
    '<p class="status" role="status" aria-live="polite">\n'
)


def openings(public_name: str, display: Any, layout: str) -> tuple[str, str]:
    """The results `<div>` (without a parent origin or preview: the caller falls back then)
    and the results list's `<ol>` up to its execution id, for one config."""
    components = display.components
    props = components.result_card if components and components.result_card else None
    theme = display.theme
    style = theme.card_style if theme else "elevated"
    hover = theme.card_hover_effect if theme else "lift"
    horizontal = " results--horizontal" if props and props.layout == "horizontal" else ""
    div = f'<div id="results" class="layout" data-public-name="{escape(public_name)}">\n'
    ol = (
        f'<ol class="results results--{escape(layout)} card--{escape(style)} '
        f'hover--{escape(hover)}{horizontal}" data-execution-id="'
    )
    return div, ol


def drawable(values: dict[str, Any]) -> bool:
    """Whether the page's block is one `results_block` draws: results to show, with their
    header, and nothing the templates draw around them (panel, chips, a problem, a similar
    item, words left out, an embedding origin, a preview, a tab)."""
    result, cards, display = values.get("result"), values.get("cards"), values.get("display")
    selection = values.get("selection")
    components = display.components if display is not None else None
    return bool(
        result is not None
        and cards
        and type(result.total) is int
        and result.total > 0
        and values.get("form_html")
        and selection is not None
        and not selection.similar_to
        and not values.get("panel")
        and not values.get("chips")
        and values.get("problem") is None
        and not values.get("similar_title")
        and not values.get("left_out")
        and not values.get("parent_origin")
        and not values.get("preview")
        and values.get("card_tab") is None
        and (not components or components.show_results_header)
    )


def results_block(values: dict[str, Any], div: str, ol: str) -> str:
    """The block for `values` (which `drawable` allows), from the config's openings."""
    result, cards = values["result"], values["cards"]
    total = result.total
    first, last = cards[0].position + 1, cards[-1].position + 1
    status = f"{total:,} result{'s' if total != 1 else ''}"
    if total > len(cards):
        status += f", showing {first}\u2013{last}"
    parts = [values["form_html"], div, HITS, status, "</p>\n"]
    sorts: Sequence[Any] = values.get("sorts") or ()
    if sorts:
        chosen = values["selection"].sort
        parts.append(SORT_HEAD)
        for option in sorts:
            selected = " selected" if chosen and chosen.key == option.key else ""
            parts += ['<option value="', escape(option.key), '"', selected, ">"]
            parts += [escape(option.label), "</option>"]
        parts.append(SORT_FOOT)
    parts += ["</div>\n", ol, escape(result.execution_id), f'" start="{first}">\n']
    parts += [cards_html(cards), "</ol>\n"]
    prev_url, next_url = values.get("prev_url"), values.get("next_url")
    if prev_url or next_url:
        parts.append(PAGING)
        if prev_url:
            parts += ['<a rel="prev" href="', escape(prev_url), '">← Previous</a>']
        parts.append(f"<span>Page {values['state'].page}</span>\n")
        if next_url:
            parts += ['<a rel="next" href="', escape(next_url), '">Next →</a>']
        parts.append("</nav>\n")
    parts.append("</section></div>\n")  # the include drops its file's last newline
    return "".join(parts)
