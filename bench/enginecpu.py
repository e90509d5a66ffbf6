"""The JSON execute's CPU time over the embedded engine on real text, with no HTTP in the way: the
ASGI app driven directly over the Debian catalog as `bench.peers` publishes it, asking for the
100 commonest words in turn (20 results each); optionally under cProfile.

`--code DIR` runs another checkout's app instead (this file needs nothing of its own tree), so
two codes can be timed one after the other in turn. `--dump OUT.json` writes the bodies of a
few hundred varied executes instead (words, pairs, typos, prefixes, nothing found, later pages,
facets, filters, a sort, find similar), execution ids aside, to compare two codes with
`--compare A.json B.json`. Two imports of the catalog may order documents of equal score apart:
`--data DIR` imports it once there, and each run searches a copy.

    python -m bench.enginecpu [--calls 2000] [--passes 5] [--profile N] [--code DIR]
    python -m bench.enginecpu --dump OUT.json [--code DIR] [--data DIR]
    python -m bench.enginecpu --compare A.json B.json
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.pagecpu import KEY, NAMESPACE, call, catalog, checkout, publish

PATH = "/v1/public/retrievers/debian/execute"
EXECUTION_ID = re.compile(rb'"execution_id":"[^"]*"')


async def executes(app: Any, words: list[str], count: int) -> float:
    """CPU seconds for `count` executes, the words in turn."""
    start = time.process_time()
    for i in range(count):
        body = b'{"inputs": {"query": "%s"}, "limit": 20}' % words[i % len(words)].encode()
        status, answer = await call(app, "POST", PATH, body=body, content_type="application/json")
        assert status == 200, (status, answer[:200])
    return time.process_time() - start


def varied(words: list[str]) -> list[dict[str, Any]]:
    """A few hundred execute bodies that reach every path of an embedded search."""
    asked: list[dict[str, Any]] = []
    for n, word in enumerate(words):
        asked.append({"inputs": {"query": word}, "limit": 20})
        asked.append({"inputs": {"query": f"{word} {words[(n * 7 + 3) % len(words)]}"}})
    for word in words[:30]:
        asked.append({"inputs": {"query": word[:3]}, "limit": 20})  # a prefix
        asked.append({"inputs": {"query": word[:1] + word[2:] + "s"}, "limit": 5})  # typos
        asked.append({"inputs": {"query": word}, "page_size": 20, "pagination": {"page": 3}})
        asked.append({"inputs": {"query": word}, "limit": 10, "facets": ["section"]})
        asked.append({"inputs": {"query": f"{word} zzqqxx"}, "limit": 20})  # most words
    for word in words[:10]:
        asked.append({"inputs": {"query": word}, "filters": {"section": "libs"}})
        asked.append({"inputs": {"query": "qqzzxxyy"}, "limit": 20})  # nothing
        asked.append({"inputs": {"query": word}, "limit": 3, "facets": ["section", "version"]})
    asked.append({"inputs": {"query": ""}, "limit": 20})
    asked.append({"inputs": {}, "limit": 20, "facets": ["section"]})
    for name in ("libc6", "python3", "bash", "vim", "nope-not-there"):
        asked.append({"inputs": {}, "similar_to": name})
        asked.append({"inputs": {"query": "library"}, "similar_to": name, "limit": 5})
    return asked


async def dump(app: Any, words: list[str], out: Path) -> None:
    answers = []
    for asked in varied(words):
        body = json.dumps(asked).encode()
        status, answer = await call(app, "POST", PATH, body=body, content_type="application/json")
        answers.append([asked, status, EXECUTION_ID.sub(b'"execution_id":"E"', answer).decode()])
    out.write_text(json.dumps(answers, indent=0))
    print(f"{len(answers)} executes written to {out}")


async def run(args: argparse.Namespace, data_dir: Path, words: list[str]) -> None:
    from app.settings import Settings
    from app.web.app import create_app

    settings = Settings(data_dir=data_dir, api_keys=[f"{NAMESPACE}:{KEY}"], secret_key="b" * 40)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await publish(app)
        if args.dump:
            await dump(app, words, args.dump)
            return
        await executes(app, words, 200)  # warm: configs, caches
        best = []
        for _ in range(args.passes):
            best.append(await executes(app, words, args.calls) * 1000 / args.calls)
        print(f"CPU ms an execute, {args.passes} passes of {args.calls}: " + ", ".join(
            f"{b:.3f}" for b in best) + f"; best {min(best):.3f}")  # fmt: skip
        if args.profile:
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            await executes(app, words, args.profile)
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats(args.sort).print_stats(args.lines)


def compare(first: Path, second: Path) -> int:
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    differ = [n for n, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    for n in differ[:5]:
        print(f"differs: {a[n][0]}\n  {a[n][1]} {a[n][2][:300]}\n  {b[n][1]} {b[n][2][:300]}")
    print(f"{len(a)} executes, {len(differ)} differ")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="executes under cProfile")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--code", type=Path, help="another checkout's app")
    parser.add_argument("--rows", type=Path, help="the catalog as JSON lines (made if absent)")
    parser.add_argument(
        "--data",
        type=Path,
        help="a data directory with the catalog imported (imported there if absent), copied for "
        "the run: two codes then search the same index (equal scores keep one order)",
    )
    parser.add_argument("--dump", type=Path, help="write varied executes' bodies here")
    parser.add_argument("--compare", type=Path, nargs=2, help="two dumps to compare")
    args = parser.parse_args()
    if args.compare:
        sys.exit(compare(*args.compare))
    code = checkout(parser, args.code)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        imported = args.data or work / "imported"
        words = catalog(code, args.rows, imported, work)
        shutil.copytree(imported, work / "data")
        asyncio.run(run(args, work / "data", words))


if __name__ == "__main__":
    main()
