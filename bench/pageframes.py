"""The search page's frames (`app/web/templates.py`: the frame around each page, the gaps of a
form of search boxes, the results block drawn in Python; or the cards' kept drawings,
`app/rendering/card_keep.py`) on and off in one process, in turn:
bursts of Debian pages as `bench/pagecpu.py` asks them, the order swapped each round, and the
median of the rounds' ratios, so that the machine's other load weighs on both alike.

    python -m bench.pageframes [--rounds 40] [--pages 100] [--part both|frame|form|results|cards]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import debian, pagecpu

ROOT = Path(__file__).parents[1]


async def run(args: argparse.Namespace, data_dir: Path, words: list[str]) -> None:
    import app.rendering.card_keep as card_keep
    import app.web.templates as drawing
    from app.settings import Settings
    from app.web.app import create_app

    framed, form, drawable = dict(drawing.FRAMED), drawing._form, drawing.drawable
    kept_key = card_keep.key

    def switch(on: bool) -> None:
        if args.part in ("both", "frame"):
            drawing.FRAMED.clear()
            drawing.FRAMED.update(framed if on else {})
        if args.part in ("both", "form"):
            drawing._form = form if on else (lambda retriever, context: None)  # type: ignore[assignment]
        if args.part in ("both", "results"):
            drawing.drawable = drawable if on else (lambda values: False)  # type: ignore[assignment]
        if args.part == "cards":  # off: every card drawn afresh, as before it was kept
            card_keep.key = kept_key if on else (lambda *given: None)  # type: ignore[assignment]

    keys = [f"{pagecpu.NAMESPACE}:{pagecpu.KEY}"]
    app = create_app(Settings(data_dir=data_dir, api_keys=keys, secret_key="b" * 40))
    async with app.router.lifespan_context(app):
        await pagecpu.publish(app)
        await pagecpu.pages(app, words, 200)  # warm
        ratios, on_ms, off_ms = [], [], []
        for round_number in range(args.rounds):
            seconds: dict[bool, float] = {}
            for on in (True, False) if round_number % 2 else (False, True):
                switch(on)
                seconds[on] = await pagecpu.pages(app, words, args.pages)
            ratios.append(seconds[False] / seconds[True])
            on_ms.append(seconds[True] * 1000 / args.pages)
            off_ms.append(seconds[False] * 1000 / args.pages)
        low, middle, high = statistics.quantiles(ratios, n=4)
        print(
            f"{args.part}: off / on, median of {args.rounds} rounds {middle:.3f} (quartiles "
            f"{low:.3f} to {high:.3f}); CPU ms a page, medians: on {statistics.median(on_ms):.3f}, "
            f"off {statistics.median(off_ms):.3f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--pages", type=int, default=100, help="pages a burst")
    parser.add_argument(
        "--part", choices=["both", "frame", "form", "results", "cards"], default="both"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        rows: list[dict[str, Any]] = list(debian.records())
        rows_file = work / "debian.jsonl"
        rows_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
        environment = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RETRIEVER_PAGES_DATA_DIR": str(work / "data"),
            "RETRIEVER_PAGES_API_KEYS": f"{pagecpu.NAMESPACE}:{pagecpu.KEY}",
            "RETRIEVER_PAGES_SECRET_KEY": "b" * 40,
        }
        subprocess.run(
            [sys.executable, "-m", "app.cli", "import", str(rows_file), "--namespace",
             pagecpu.NAMESPACE, "--collection", "debian"],
            env=environment, check=True, capture_output=True, cwd=ROOT,
        )  # fmt: skip
        asyncio.run(run(args, work / "data", pagecpu.commonest(rows, 100)))


if __name__ == "__main__":
    main()
