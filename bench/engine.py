"""The embedded engine at scale: import N documents from JSONL, then time one- and two-word
queries (whole words and prefixes) straight against the engine.

    python -m bench.engine [--docs 100000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from app.adapters.engine import Engine
from app.services.importing import import_file

SEED = 7
BRANDS = ["Northwind", "Aurora", "Kestrel", "Lumen", "Fjord", "Solace", "Brightline", "Meridian"]
KINDS = [
    "headphones",
    "speaker",
    "kettle",
    "blender",
    "tent",
    "backpack",
    "lamp",
    "keyboard",
    "chair",
    "notebook",
    "mat",
    "kettlebell",
    "boots",
    "purifier",
    "clock",
    "earbuds",
]


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(4, 10))) for _ in range(size)}
    return sorted(words)


def write_documents(path: Path, count: int, rng: random.Random, words: list[str]) -> None:
    # Zipf-like: a few words are everywhere, most are rare, as in real text.
    weights = [1 / (rank + 1) for rank in range(len(words))]
    with path.open("w") as out:
        for n in range(count):
            kind = rng.choice(KINDS)
            title = f"{rng.choice(BRANDS)} {' '.join(rng.choices(words, weights, k=2))} {kind}"
            description = " ".join(rng.choices(words, weights, k=25))
            out.write(
                json.dumps(
                    {
                        "document_id": f"d{n}",
                        "title": title,
                        "description": description,
                        "category": kind,
                        "price": round(rng.uniform(5, 500), 2),
                        "in_stock": rng.random() > 0.2,
                        "image_url": f"/static/{kind}.svg",
                    }
                )
                + "\n"
            )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(SEED)
    words = vocabulary(rng)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "documents.jsonl"
        write_documents(source, args.docs, rng, words)
        engine = Engine(Path(tmp) / "engine.db")
        started = time.perf_counter()
        report = import_file(engine, "bench", "docs", source)
        elapsed = time.perf_counter() - started
        print(
            f"import: {report.imported:,} documents in {elapsed:.2f} s "
            f"({report.imported / elapsed:,.0f} documents/s, "
            f"{source.stat().st_size / elapsed / 1e6:.1f} MB/s)"
        )

        head = words[:200] + KINDS  # common words, where ranking has the most work to do
        queries = {
            "one word": [rng.choice(head) for _ in range(args.queries)],
            "two words": [f"{rng.choice(head)} {rng.choice(words)}" for _ in range(args.queries)],
            "prefix": [rng.choice(head)[:3] for _ in range(args.queries)],
            "word + filter": [rng.choice(head) for _ in range(args.queries)],
        }
        print(f"{'query':<14} {'median ms':>10} {'p99 ms':>8} {'max ms':>8} {'avg hits':>9}")
        for label, texts in queries.items():
            filters = {"in_stock": True} if label == "word + filter" else {}
            timings, totals = [], []
            for text in texts:
                start = time.perf_counter()
                result = engine.search(
                    "bench",
                    "docs",
                    fields=["title", "description"],
                    text=text,
                    filters=filters,
                    limit=20,
                    offset=0,
                )
                timings.append((time.perf_counter() - start) * 1000)
                totals.append(result.total)
            print(
                f"{label:<14} {statistics.median(timings):>10.2f} "
                f"{percentile(timings, 0.99):>8.2f} {max(timings):>8.2f} "
                f"{statistics.mean(totals):>9,.0f}"
            )
        engine.close()


if __name__ == "__main__":
    main()
