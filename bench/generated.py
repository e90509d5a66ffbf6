"""Generated catalog documents for the HTTP benchmarks: Zipf-distributed made-up words in
titles and descriptions, with a brand, a kind, a price and a stock flag. (The engine's own
figures come from real text: bench/engine.py.)"""

from __future__ import annotations

import json
import random
from pathlib import Path

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
