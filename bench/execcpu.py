"""The public execute's CPU time with no HTTP in front: the ASGI app driven directly (middleware
and all) against the upstream stub of `bench.stack`, over the retrievers `bench.stack.seed`
publishes; optionally under cProfile, to see where an execute goes.

    python -m bench.execcpu [--calls 2000] [--passes 5] [--profile N] [--name upstream]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
from pathlib import Path
from typing import Any

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


def main() -> None:
    from app.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="executes under cProfile")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--name", default="upstream", help="upstream, cached, engine, ...")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        upstream = f"http://127.0.0.1:{port}"
        settings = Settings(
            data_dir=Path(tmp) / "data",
            api_keys=[f"{NAMESPACE}:{OWNER_KEY}"],
            secret_key="b" * 40,
            upstream_allow=["127.0.0.1"],
        )
        with process("-m", "bench.upstream", "--port", str(port)):
            wait_for(port)
            seeded(settings, upstream, 1000)
            asyncio.run(run(args, settings))


if __name__ == "__main__":
    main()
