"""The public execute's CPU time with no HTTP in front: the ASGI app driven directly (middleware
and all) against the upstream stub of `bench.stack`, over the retrievers `bench.stack.seed`
publishes; optionally under cProfile, to see where an execute goes.

    python -m bench.execcpu [--calls 2000] [--passes 5] [--profile N] [--name upstream]
        [--against OTHER_TREE]

`--against` (another checkout with a .venv of its own): this tree's app and the other's, each
in a process of its own against one stub, driven in turn block by block (`--passes` rounds of
`--calls` executes, which goes first alternating), so that both see the same load; it prints
each one's CPU a request (median, least, quartiles) and the median of the rounds' paired ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from bench.harness import free_port, process, wait_for
from bench.pagecpu import call
from bench.stack import NAMESPACE, OWNER_KEY, seeded

BODY = b'{"inputs": {"query": "lamp"}, "limit": 20}'


async def executes(app: Any, name: str, count: int) -> float:
    """CPU seconds for `count` executes, one after another."""
    path = f"/v1/public/retrievers/{name}/execute"
    start = time.process_time()
    for _ in range(count):
        status, body = await call(app, "POST", path, body=BODY, content_type="application/json")
        assert status == 200, (status, body[:200])
    return time.process_time() - start


async def run(args: argparse.Namespace, settings: Any) -> None:
    from app.web.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await executes(app, args.name, 200)  # warm: configs, the client's pool
        best = [await executes(app, args.name, args.calls) * 1000 / args.calls]
        for _ in range(args.passes - 1):
            best.append(await executes(app, args.name, args.calls) * 1000 / args.calls)
        print(f"CPU ms an execute ({args.name}), {args.passes} passes of {args.calls}: "
              + ", ".join(f"{b:.3f}" for b in best) + f"; best {min(best):.3f}")  # fmt: skip
        if args.profile:
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            await executes(app, args.name, args.profile)
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats(args.sort).print_stats(args.lines)


async def serve(settings: Any, name: str) -> None:
    """`--serve`: one line in (a count), one line out (the CPU ms an execute of that many)."""
    from app.web.app import create_app

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await executes(app, name, 300)  # warm
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while line := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
            count = int(line)
            print(f"{await executes(app, name, count) * 1000 / count:.4f}", flush=True)


def against(args: argparse.Namespace, upstream: str) -> None:
    """This tree and `args.against` in turn, each in its own process (this file run in the
    other tree with its own Python: the other's app, the same driver)."""
    here = Path(__file__).resolve().parent.parent
    trees = {"this tree": here, str(args.against): args.against.resolve()}
    children: dict[str, subprocess.Popen[str]] = {}
    driver = f"import runpy; runpy.run_path({str(Path(__file__).resolve())!r}, run_name='__main__')"
    try:
        for label, tree in trees.items():
            command = [str(tree / ".venv/bin/python"), "-c", driver, "--serve", upstream]
            children[label] = subprocess.Popen(
                [*command, "--name", args.name],
                cwd=tree,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        for child in children.values():
            assert _line(child.stdout) == "ready"
        cpu: dict[str, list[float]] = {label: [] for label in trees}
        labels = list(trees)
        for number in range(args.passes):
            for label in labels if number % 2 == 0 else labels[::-1]:
                child = children[label]
                assert child.stdin is not None
                child.stdin.write(f"{args.calls}\n")
                child.stdin.flush()
                cpu[label].append(float(_line(child.stdout)))
    finally:
        for child in children.values():
            if child.stdin is not None:
                child.stdin.close()
            child.wait(timeout=60)
    print(f"{args.passes} rounds of {args.calls} executes ({args.name}), in turn; load average "
          f"{os.getloadavg()[0]:.1f} at the end")  # fmt: skip
    for label, values in cpu.items():
        low, _, high = statistics.quantiles(values, n=4)
        print(f"  {label}: CPU ms an execute, median {statistics.median(values):.3f}, least "
              f"{min(values):.3f}, quartiles {low:.3f}-{high:.3f}")  # fmt: skip
    other, this = cpu[labels[1]], cpu[labels[0]]
    ratios = [o / t for o, t in zip(other, this, strict=True)]
    low, _, high = statistics.quantiles(ratios, n=4)
    print(f"  {labels[1]} / this tree, median of the rounds' ratios "
          f"{statistics.median(ratios):.3f} (quartiles {low:.3f}-{high:.3f}); "
          f"of the least {min(other) / min(this):.3f}")  # fmt: skip


def _line(stream: TextIO | None) -> str:
    assert stream is not None
    return stream.readline().strip()


def main() -> None:
    from app.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="executes under cProfile")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--name", default="upstream", help="upstream, cached, engine, ...")
    parser.add_argument("--against", type=Path, help="another checkout, driven in turn")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # a child of --against: the stub's URL
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data",
            api_keys=[f"{NAMESPACE}:{OWNER_KEY}"],
            secret_key="b" * 40,
            upstream_allow=["127.0.0.1"],
        )
        if args.serve:
            seeded(settings, args.serve, 200)
            asyncio.run(serve(settings, args.name))
            return
        port = free_port()
        upstream = f"http://127.0.0.1:{port}"
        with process("-m", "bench.upstream", "--port", str(port)):
            wait_for(port)
            if args.against:
                against(args, upstream)
                return
            seeded(settings, upstream, 1000)
            asyncio.run(run(args, settings))


if __name__ == "__main__":
    main()
