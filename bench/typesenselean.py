"""What a leaner stored document would save the Typesense node a search, measured before building
it: the same catalog imported into one node as the engine writes it (`documents.to_typesense`)
and in leaner forms made from those documents, then the same searches asked of each, the forms
in turn for every round (the order rotated), the node's CPU a search read from /proc.

The leaner forms, each adding to the one before:
- `short`: a column named by its kind and a field number (`t3`, kept per collection) instead of
  the field's name in hex (`t_6465736372697074696f6e`); `_has` and `_null` as field numbers;
  the exact-value tokens (`x`, `l`, `v`, `_key`) 8 bytes instead of 16.
- `short-s`: no `s` column where it holds the same values as `t` (the facets counted on
  `t`).
- `short-s-l`: no `l` column where it holds the same tokens as `x`.
- `short-s-l-w`: no `w` column either (typeahead's words: not a form the engine could
  use without keeping them elsewhere; the bound of what dropping columns can give).

The searches are the engine bench's (bench/candidates.py: common, one and two words) made into
the engine's own parameters (`query.parameters`, the last word whole or a prefix as the counts
decide), the top 20, the columns renamed for the leaner forms. Each form is asked once over the
searches one at a time (the node's `search_time_ms` p50 / p99, its CPU a search) and then
`--connections` at once for `--seconds` (its CPU a search, searches a second). Answers (the
hits' ids, `found`) are compared with the engine's form.

    python -m bench.typesenselean [--scale 1] [--queries 100] [--rounds 3] [--forms ...]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from app import jsonutil
from app.adapters.engine.results import Search
from app.adapters.engine.typesense import query
from app.adapters.engine.typesense.documents import BODY, HAS, KEY, NULL, SEQ, schema, to_typesense
from app.adapters.engine.typesense.names import unhexed
from app.adapters.texts import split_id
from bench.candidates import catalog, queries
from bench.engine import FIELDS, TOP_K, percentile, typesense_node
from bench.harness import cpu_seconds
from bench.typesensereplay import hammer

Doc = dict[str, Any]
TOKENS = ("x", "l", "v")
COLUMN = re.compile(r"\b([a-z])_([0-9a-f]+)\b")


class Numbers:
    """A field's number in a collection, given in the order fields are first seen."""

    def __init__(self) -> None:
        self.of: dict[str, int] = {}

    def __call__(self, field: str) -> int:
        return self.of.setdefault(field, len(self.of))


def lean(doc: Doc, numbers: Numbers, drop_s: bool, drop_l: bool, drop_w: bool) -> Doc:
    out: Doc = {"id": doc["id"], BODY: doc[BODY], SEQ: doc[SEQ], KEY: doc[KEY][:16]}
    out[HAS] = [str(numbers(unhexed(h))) for h in doc[HAS]]
    out[NULL] = [str(numbers(unhexed(h))) for h in doc[NULL]]
    for key, value in doc.items():
        if key in out:
            continue
        kind, hexname = key.split("_", 1)
        if drop_s and kind == "s" and doc.get(f"t_{hexname}") == value:
            continue
        if drop_l and kind == "l" and doc.get(f"x_{hexname}") == value:
            continue
        if drop_w and kind == "w":
            continue
        out[f"{kind}{numbers(unhexed(hexname))}"] = (
            [v[:16] for v in value] if kind in TOKENS else value
        )
    return out


def lean_schema(name: str, facet_t: bool) -> Doc:
    made = schema(name)
    for field in made["fields"]:
        if field["name"].endswith("_.*"):
            kind = field["name"][0]
            field["name"] = f"{kind}[0-9].*"  # (".*" makes it a pattern)
            if kind == "t" and facet_t:
                field["facet"] = True
    return made


def renamed(numbers: Numbers | None) -> Callable[[str], str]:
    """The engine's columns named in a search's parameters, as a leaner form names them."""
    if numbers is None:
        return lambda text: text
    return lambda text: COLUMN.sub(lambda m: f"{m[1]}{numbers.of[unhexed(m[2])]}", text)


FORMS: dict[str, tuple[bool, bool, bool] | None] = {  # (no s, no l, no w)
    "engine": None,
    "short": (False, False, False),
    "short-s": (True, False, False),
    "short-s-l": (True, True, False),
    "short-s-l-w": (True, True, True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--kinds", default="common,one,two")
    parser.add_argument("--forms", default=",".join(FORMS))
    args = parser.parse_args()
    forms = args.forms.split(",")
    rows = list(catalog(args.scale))
    cases = {k: [" ".join(w) for w in texts] for k, texts in queries(rows, args.queries).items()}
    base = [to_typesense(i, body, n) for n, (i, body) in enumerate(map(split_id, rows))]
    with typesense_node() as node:
        url = f"http://{node.address}"
        client = httpx.Client(headers={"X-TYPESENSE-API-KEY": node.api_key}, timeout=300)
        pid = node.process.pid if node.process else None
        renames: dict[str, Callable[[str], str]] = {}
        for form in forms:
            spec = FORMS[form]
            name = f"lean{forms.index(form)}"
            if spec is None:
                docs, made = base, schema(name)
                renames[form] = renamed(None)
            else:
                numbers = Numbers()
                docs = [lean(d, numbers, *spec) for d in base]
                made = lean_schema(name, facet_t=spec[0])
                renames[form] = renamed(numbers)
            client.post(f"{url}/collections", json=made).raise_for_status()
            sizes = [len(jsonutil.dumps(d)) for d in docs]
            started = time.perf_counter()
            for start in range(0, len(docs), 2000):
                body = b"\n".join(jsonutil.dumps(d) for d in docs[start : start + 2000])
                answer = client.post(
                    f"{url}/collections/{name}/documents/import?action=upsert", content=body
                )
                answer.raise_for_status()
                assert b'"success":false' not in answer.content, answer.content[:300]
            took = time.perf_counter() - started
            print(f"{form:<20} {statistics.mean(sizes):>7,.0f} bytes a document "
                  f"(body {statistics.mean(len(d[BODY]) for d in docs):,.0f}); "
                  f"import {len(docs) / took:,.0f} records/s", flush=True)  # fmt: skip
        columns = set().union(*(d.keys() for d in base[:5000]))
        planned: dict[str, list[Doc]] = {}
        for kind in args.kinds.split(","):
            planned[kind] = []
            for text in cases[kind]:
                made_params = query.parameters(
                    Search(fields=FIELDS, text=text, limit=TOP_K), columns
                )
                assert made_params is not None
                params = made_params[0]
                counts = query.counts(Search(fields=FIELDS, text=text, limit=TOP_K), params)
                if counts:
                    counted = client.post(
                        f"{url}/multi_search",
                        content=jsonutil.dumps(
                            {"searches": [{"collection": "lean0", **c} for c in counts]}
                        ),
                    ).json()["results"]
                    if not query.prefixed(counted):
                        params = query.whole(params)
                planned[kind].append(params)

        def asked(form: str, kind: str) -> list[bytes]:
            name = f"lean{forms.index(form)}"
            rename = renames[form]
            return [
                jsonutil.dumps({"searches": [{"collection": name, **{
                    k: rename(v) if isinstance(v, str) else v for k, v in p.items()}}]})
                for p in planned[kind]
            ]  # fmt: skip

        def outcome(body: bytes) -> tuple[Any, ...]:
            found = client.post(f"{url}/multi_search", content=body).json()["results"][0]
            if "error" in found:
                raise SystemExit(f"{body[:300]!r}: {found}")
            return (found.get("found"), [h["document"]["id"] for h in found.get("hits", [])])

        bodies = {(f, k): asked(f, k) for f in forms for k in planned}
        for kind in planned:
            want = [outcome(b) for b in bodies[(forms[0], kind)]]
            for form in forms[1:]:
                differ = sum(
                    outcome(b) != w for b, w in zip(bodies[(form, kind)], want, strict=True)
                )
                print(f"{kind}: {form}: {differ} of {len(want)} answers differ from {forms[0]}'s")
        stats: dict[tuple[str, str], dict[str, list[float]]] = {
            key: {"seq": [], "times": [], "busy": [], "rate": []} for key in bodies
        }
        for sent in bodies.values():  # warm-up
            for body in sent:
                client.post(f"{url}/multi_search", content=body)
        for round_ in range(args.rounds):
            for kind in planned:
                turn = round_ % len(forms)
                for form in forms[turn:] + forms[:turn]:
                    each = stats[(form, kind)]
                    sent = bodies[(form, kind)]
                    before = cpu_seconds(pid)
                    for body in sent:
                        answer = client.post(f"{url}/multi_search", content=body).json()
                        each["times"].append(float(answer["results"][0].get("search_time_ms", -1)))
                    each["seq"].append((cpu_seconds(pid) - before) * 1000 / len(sent))
                    before = cpu_seconds(pid)
                    done = asyncio.run(
                        hammer(url, node.api_key, sent, args.seconds, args.connections)
                    )
                    each["busy"].append((cpu_seconds(pid) - before) * 1000 / max(1, done))
                    each["rate"].append(done / args.seconds)
            print(f"round {round_ + 1} done", flush=True)
    print(
        f"\n{len(rows):,} records; {args.queries} queries a kind; {args.rounds} rounds; node CPU "
        f"ms a search one at a time and {args.connections} at once (median of rounds)"
    )
    print(
        f"{'kind':<7}{'form':<20} {'CPU 1':>6} {'CPU n':>6} {'search/s':>9} {'p50':>5} {'p99':>5}"
    )
    for kind in planned:
        for form in forms:
            each = stats[(form, kind)]
            cpu = f"{statistics.median(each['seq']):>6.2f} {statistics.median(each['busy']):>6.2f}"
            times = (
                f"{statistics.median(each['times']):>5.1f} {percentile(each['times'], 0.99):>5.1f}"
            )
            print(f"{kind:<7}{form:<20} {cpu} {statistics.median(each['rate']):>9,.0f} {times}")


if __name__ == "__main__":
    main()
