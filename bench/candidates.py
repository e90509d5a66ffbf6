"""Candidates for the embedded engine's index, measured on real text before choosing: SQLite
FTS5 (the engine before, kept as `bench/fts5.py`: BM25 computed for every match, then sorted)
against tantivy (BM25 with block-max WAND,
which skips blocks that cannot reach the top k), on Debian's package catalog (bench/debian.py).

Each kind of query is drawn from the catalog's own words: `common` are its 20 most frequent
description words (the worst case for a full sort), `one`/`two` from its 300 most frequent,
`prefix` their first three letters, `typo` one letter changed in a word of five or more
(FTS5 has no typo tolerance, so it is timed on the misspelt word as it is).

    python -m bench.candidates [--scale 4] [--queries 300]

`--scale N` repeats the catalog N times under new ids (the same words, N times the matches) to
show how each cost grows with the number of matches. Needs `tantivy` (pip install tantivy).
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import tantivy

from bench import debian
from bench.fts5 import Fts5Engine

FIELDS = ["title", "description", "section"]
WORD = re.compile(r"[a-z][a-z0-9]+")
TOP_K = 20


def catalog(scale: int) -> Iterator[dict[str, Any]]:
    rows = list(debian.records())
    for copy in range(scale):
        for row in rows:
            yield {**row, "document_id": f"{row['document_id']}#{copy}"} if copy else row


def build_fts5(rows: list[dict[str, Any]], where: Path) -> Fts5Engine:
    engine = Fts5Engine(where / "fts5.db")
    for start in range(0, len(rows), 2000):
        engine.upsert("debian", rows[start : start + 2000])
    return engine


def build_tantivy(rows: list[dict[str, Any]], where: Path) -> tuple[tantivy.Index, Any]:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in FIELDS:
        builder.add_text_field(name, tokenizer_name="default")
    schema = builder.build()
    index = tantivy.Index(schema, path=str(where))
    writer = index.writer(heap_size=256_000_000, num_threads=2)
    for row in rows:
        writer.add_document(
            tantivy.Document(id=row["document_id"], **{name: str(row[name]) for name in FIELDS})
        )
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index, schema


def queries(rows: list[dict[str, Any]], count: int) -> dict[str, list[list[str]]]:
    frequency = Counter(w for row in rows for w in set(WORD.findall(row["description"].lower())))
    common = [w for w, _ in frequency.most_common(20)]
    top = [w for w, _ in frequency.most_common(300)]
    long_words = [w for w in top if len(w) >= 5]
    rng = random.Random(7)

    def typo(word: str) -> str:
        at = rng.randrange(1, len(word))
        return word[:at] + rng.choice("aeiourstln".replace(word[at], "")) + word[at + 1 :]

    return {
        "common": [[rng.choice(common)] for _ in range(count)],
        "one": [[rng.choice(top)] for _ in range(count)],
        "two": [[rng.choice(top), rng.choice(top)] for _ in range(count)],
        "prefix": [[rng.choice(top)[:3]] for _ in range(count)],
        "typo": [[typo(rng.choice(long_words))] for _ in range(count)],
    }


def tantivy_query(index: tantivy.Index, schema: Any, kind: str, words: list[str]) -> Any:
    """The query a search box would send: every word in some field; the last a prefix; with
    typos, each word within one edit (Meilisearch's default for words of five letters)."""
    must = []
    for position, word in enumerate(words):
        last = position == len(words) - 1
        per_field = []
        for name in FIELDS:
            if kind == "typo":
                per_field.append(tantivy.Query.fuzzy_term_query(schema, name, word, distance=1))
            elif kind == "prefix" or (last and kind != "common"):
                per_field.append(tantivy.Query.phrase_prefix_query(schema, name, [word]))
            else:
                per_field.append(tantivy.Query.term_query(schema, name, word))
        must.append(
            (
                tantivy.Occur.Must,
                tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in per_field]),
            )
        )
    return tantivy.Query.boolean_query(must)


def timed(run: Callable[[list[str]], Any], cases: list[list[str]]) -> tuple[float, float]:
    samples = []
    for words in cases:
        start = time.perf_counter()
        run(words)
        samples.append((time.perf_counter() - start) * 1000)
    ordered = sorted(samples)
    return statistics.median(samples), ordered[int(0.99 * (len(ordered) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rows = list(catalog(args.scale))
    cases = queries(rows, args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        engine = build_fts5(rows, Path(tmp))
        fts5_build = time.perf_counter() - started
        (Path(tmp) / "tantivy").mkdir()
        started = time.perf_counter()
        index, schema = build_tantivy(rows, Path(tmp) / "tantivy")
        tantivy_build = time.perf_counter() - started
        searcher = index.searcher()

        def fts5(words: list[str]) -> Any:
            return engine.search("debian", FIELDS, " ".join(words), TOP_K)

        def top_k(kind: str, count: bool) -> Callable[[list[str]], Any]:
            def run(words: list[str]) -> Any:
                return searcher.search(
                    tantivy_query(index, schema, kind, words), TOP_K, count=count
                )

            return run

        print(f"{len(rows):,} real records (Debian's package catalog x{args.scale}); top {TOP_K}")
        print(f"index build: FTS5 {fts5_build:.1f} s, tantivy {tantivy_build:.1f} s\n")
        print(
            f"{'query':<8} {'FTS5 p50':>9} {'p99':>7}   {'tantivy p50':>11} {'p99':>7}   "
            f"{'+count p50':>10} {'p99':>7}   (ms)"
        )
        for kind, kind_cases in cases.items():
            f50, f99 = timed(fts5, kind_cases)
            t50, t99 = timed(top_k(kind, False), kind_cases)
            c50, c99 = timed(top_k(kind, True), kind_cases)
            fts5_cell = f"{f50:>9.2f} {f99:>7.2f}"
            print(f"{kind:<8} {fts5_cell}   {t50:>11.2f} {t99:>7.2f}   {c50:>10.2f} {c99:>7.2f}")
        engine.close()


if __name__ == "__main__":
    main()
