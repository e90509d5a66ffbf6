"""A page's cards alone (`cards()` and their HTML, `cards_html()`), over the upstream stub's 20
documents (`bench/upstream.py`) under the display `bench.stack` publishes (a price drawn as a
number): the cards' kept drawings on and off in one process, in turn, bursts of pages, the
order swapped each round, and the median of the rounds' ratios.

    python -m bench.cardcpu [--rounds 40] [--pages 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

import app.rendering.card_keep as keep
import app.rendering.cards as drawing
from app.rendering.card_html import cards_html
from app.rendering.formats import builtin_renderers
from app.schemas.display import DisplayConfig
from bench.stack import DISPLAY
from bench.upstream import DOCUMENTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--pages", type=int, default=200, help="pages a burst")
    args = parser.parse_args()
    display = DisplayConfig.model_validate(DISPLAY, strict=False)
    exposed = display.exposed_fields
    renderers, now = builtin_renderers(), datetime.now(UTC)
    links = drawing.Links("bench", "query=tent")
    kept_key = keep.key

    def burst() -> float:
        start = time.process_time()
        for _ in range(args.pages):
            # Each page's documents are new objects, as each search reads them anew.
            documents = [{"document_id": d["document_id"], **{n: d.get(n) for n in exposed}}
                         for d in DOCUMENTS]  # fmt: skip
            cards_html(drawing.cards(display, documents, 0, now, renderers, None, links))
        return (time.process_time() - start) * 1e6 / args.pages

    ratios, on_us, off_us = [], [], []
    for round_number in range(args.rounds):
        micros: dict[bool, float] = {}
        for on in (True, False) if round_number % 2 else (False, True):
            keep.key = kept_key if on else (lambda *given: None)  # type: ignore[assignment]
            micros[on] = burst()
        ratios.append(micros[False] / micros[True])
        on_us.append(micros[True])
        off_us.append(micros[False])
    low, middle, high = statistics.quantiles(ratios, n=4)
    print(
        f"cards of the stub's page: off / on, median of {args.rounds} rounds {middle:.3f} "
        f"(quartiles {low:.3f} to {high:.3f}); CPU µs a page, medians: on "
        f"{statistics.median(on_us):.1f}, off {statistics.median(off_us):.1f}"
    )


if __name__ == "__main__":
    main()
