"""The HTTP server under this app, and its worker processes: candidates side by side, in one run.

The main table's setup (bench/stack.py): an upstream stub answering like Mixpeek's execute (20
documents), the aiohttp passthrough as the reference, and retrievers published over the stub
(one with the query cache on). Each candidate serves the same data directory from a process of
its own, all at once; `wrk` drives them in turn, round after round (the order rotated each
round), so that the machine's other work weighs on each alike. Per row: the medians of the
rounds, the ratio to the first candidate (the median of the rounds' ratios), and the cores each
process used while it was driven: the server (with its workers), `wrk`, and the stub.

    python -m bench.servers [--part stack|workers|both|against] [--seconds 5] [--rounds 3]
        [--against OTHER_TREE]

`stack`: uvicorn with httptools, uvloop and our limits (app/web/server.py, what `serve` runs);
the same without our limits (their cost); the same on asyncio's own loop (uvloop's worth);
Granian's ASGI server with its nearest limits (`granian_args`; its `--task-impl rust` was
tried and dropped: under Starlette it timed out requests and served 0.03x to 0.4x).
`workers`: `serve --workers 1` against `serve --workers 2`.
`against`: `serve` from this tree against `serve` from another checkout (`--against`, with a
.venv of its own, e.g. a worktree of main): a change's figures beside the code before it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path

from app.settings import Settings
from bench.harness import Row, cpu_seconds, free_port, lua, process, run_wrk, wait_for
from bench.stack import NAMESPACE, OWNER_KEY, seeded


@dataclass(frozen=True)
class Candidate:
    name: str
    command: list[str]  # after the Python interpreter
    tree: Path | None = None  # another checkout to run it from, with its own .venv


def granian_args(settings: Settings, port: int) -> list[str]:
    """Granian's ASGI server with the nearest it has to our limits (what it cannot hold is in
    docs/design.md): a header buffer of MAX_HEADER_BYTES (its floor is 8 KiB; 431 past it), one
    timer for headers and idle keep-alive (the shorter of ours; it closes without a 408), at
    most MAX_CONNECTIONS requests in progress (more wait; nothing is refused), no body rate."""
    header_ms = int(min(settings.header_timeout_seconds, settings.keep_alive_seconds) * 1000)
    return [
        "-m", "granian", "--interface", "asgi", "--factory", "--http", "1", "--no-ws",
        "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop",
        "--log-level", "warning", "--no-access-log",
        "--backlog", "1024", "--backpressure", str(settings.max_connections),
        "--http1-buffer-size", str(max(8192, settings.max_header_bytes)),
        "--http1-header-read-timeout", str(min(60_000, header_ms)),
        "app.web.app:create_app",
    ]  # fmt: skip


def variant(kind: str, port: int) -> None:
    """`serve` as a bench child, changed in one thing: `asyncio`, on asyncio's own event loop
    instead of uvloop; `unguarded`, uvicorn's httptools protocol without our limits."""
    import uvicorn

    from app.cli.serving import uvicorn_options
    from app.settings import load_settings
    from app.web.app import create_app
    from app.web.server import ConnectionLimits, GuardedProtocol

    settings = load_settings().served_at("127.0.0.1", port)
    GuardedProtocol.configured = ConnectionLimits.of(settings)
    changed = {"loop": "asyncio"} if kind == "asyncio" else {"http": "httptools"}
    options = {**uvicorn_options(settings), **changed}
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, **options)


def candidates(part: str, settings: Settings, other: Path | None = None) -> dict[str, Candidate]:
    def serve(port: int, *extra: str) -> list[str]:
        return ["-m", "app.cli", "serve", "--port", str(port), *extra]

    if part == "against":
        if other is None:
            sys.exit("--part against needs --against PATH, another checkout with a .venv")
        return {
            "this tree": Candidate("this tree", serve(free_port())),
            str(other): Candidate(str(other), serve(free_port()), other),
        }

    if part == "workers":
        return {
            "serve --workers 1": Candidate("serve --workers 1", serve(free_port())),
            "serve --workers 2": Candidate(
                "serve --workers 2", serve(free_port(), "--workers", "2")
            ),
        }

    def child(kind: str) -> list[str]:
        return ["-m", "bench.servers", "--child", kind, str(free_port())]

    return {
        "uvicorn, httptools, uvloop, our limits": Candidate("ours", serve(free_port())),
        "the same without our limits": Candidate("unguarded", child("unguarded")),
        "the same on asyncio's loop": Candidate("asyncio", child("asyncio")),
        "Granian 2.8 ASGI, its nearest limits": Candidate(
            "granian", granian_args(settings, free_port())
        ),
    }


def port_of(candidate: Candidate) -> int:
    args = candidate.command
    return int(args[args.index("--port") + 1] if "--port" in args else args[-1])


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Measured:
    row: Row
    server_cores: float
    wrk_cores: float
    stub_cores: float


def measure(
    name: str, url: str, script: Path, seconds: int, server: int, stub: int, connections: int
) -> Measured:
    before = (cpu_seconds(server), children_cpu(), cpu_seconds(stub), time.monotonic())
    row = run_wrk(name, url, script, seconds, connections)
    wall = time.monotonic() - before[3]
    return Measured(
        row,
        (cpu_seconds(server) - before[0]) / wall,
        (children_cpu() - before[1]) / wall,
        (cpu_seconds(stub) - before[2]) / wall,
    )


def started(
    command: list[str], env: dict[str, str], tree: Path | None = None
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    return process(*command, env=env, session=True, wait=15, tree=tree)  # its workers stop with it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=["stack", "workers", "both", "against"], default="both")
    parser.add_argument("--against", type=Path, help="another checkout, for --part against")
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        variant(args.child[0], int(args.child[1]))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: scripts/bench installs it (Debian's wrk)")
    parts = ["stack", "workers"] if args.part == "both" else [args.part]
    for part in parts:
        run_part(part, args)


def run_part(part: str, args: argparse.Namespace) -> None:
    results: dict[tuple[str, str], list[Measured]] = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        tmpdir = Path(tmp)
        upstream_port = free_port()
        upstream = f"http://127.0.0.1:{upstream_port}"
        settings = Settings(
            data_dir=tmpdir / "data",
            api_keys=[f"{NAMESPACE}:{OWNER_KEY}"],
            secret_key="b" * 40,
            public_url="http://127.0.0.1:8000",
            upstream_allow=["127.0.0.1"],
        )
        env = {
            "RETRIEVER_PAGES_DATA_DIR": str(settings.data_dir),
            "RETRIEVER_PAGES_SECRET_KEY": "b" * 40,
            "RETRIEVER_PAGES_PUBLIC_URL": settings.public_url,
            "RETRIEVER_PAGES_LOG_LEVEL": "warning",
            "RETRIEVER_PAGES_UPSTREAM_ALLOW": "127.0.0.1",
        }
        stub = stack.enter_context(
            started(["-m", "bench.upstream", "--port", str(upstream_port)], env)
        )
        wait_for(upstream_port)
        seeded(settings, upstream, 1000)
        aiohttp_port = free_port()
        stack.enter_context(
            started(
                [
                    "-m",
                    "bench.proxies",
                    "aiohttp",
                    "--port",
                    str(aiohttp_port),
                    "--upstream",
                    upstream,
                ],
                env,
            )
        )
        chosen = candidates(part, settings, args.against)
        servers = {
            label: stack.enter_context(started(c.command, env, c.tree))
            for label, c in chosen.items()
        }
        for port in [upstream_port, aiohttp_port, *(port_of(c) for c in chosen.values())]:
            wait_for(port, 60)
        post = lua(tmpdir / "post.lua", "POST", '{"inputs": {"query": "lamp"}, "limit": 20}')
        get = lua(tmpdir / "get.lua", "GET")
        scenarios = {
            "public execute": ("/v1/public/retrievers/upstream/execute", post),
            "search page": ("/r/upstream?query=lamp", get),
            "cached execute": ("/v1/public/retrievers/cached/execute", post),
        }
        labels = list(chosen)
        base = {label: f"http://127.0.0.1:{port_of(chosen[label])}" for label in labels}
        for path, script in scenarios.values():  # warm-up, as long as a run
            for label in labels:
                run_wrk("warm-up", base[label] + path, script, args.seconds, args.connections)
        reference: list[Measured] = []
        for round_number in range(args.rounds):
            shift = round_number % len(labels)
            order = labels[shift:] + labels[:shift]
            reference.append(
                measure(
                    "aiohttp",
                    f"http://127.0.0.1:{aiohttp_port}/execute",
                    post,
                    args.seconds,
                    stub.pid,  # the passthrough's own cores are not read: the stub's are
                    stub.pid,
                    args.connections,
                )
            )
            for scenario, (path, script) in scenarios.items():
                for label in order:
                    got = measure(
                        label,
                        base[label] + path,
                        script,
                        args.seconds,
                        servers[label].pid,
                        stub.pid,
                        args.connections,
                    )
                    results.setdefault((scenario, label), []).append(got)
                    print(
                        f"  round {round_number + 1}, {scenario}, {label}: "
                        f"{got.row.rps:,.0f} req/s, p99 {got.row.p99:.1f} ms",
                        flush=True,
                    )
    report(part, results, reference, labels, args)


def report(
    part: str,
    results: dict[tuple[str, str], list[Measured]],
    reference: list[Measured],
    labels: list[str],
    args: argparse.Namespace,
) -> None:
    def median(values: Iterator[float]) -> float:
        return statistics.median(list(values))

    aio = median(m.row.rps for m in reference)
    print(
        f"\n{part}: {args.connections} connections, {args.rounds} rounds of {args.seconds} s in "
        f"turn, medians of the rounds; aiohttp passthrough {aio:,.0f} req/s (p99 "
        f"{median(m.row.p99 for m in reference):.2f} ms); cores: of the machine's "
        f"{os.cpu_count()}, used while driven\n"
    )
    print(
        f"| scenario | server | req/s | p50 ms | p99 ms | vs {labels[0]} | vs aiohttp "
        "| cores: server / wrk / stub | CPU ms a request: server / wrk / stub | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (scenario, label), rows in results.items():
        first = results[scenario, labels[0]]
        ratio = median(m.row.rps / f.row.rps for m, f in zip(rows, first, strict=True))
        spread = [m.row.rps / f.row.rps for m, f in zip(rows, first, strict=True)]
        print(
            f"| {scenario} | {label} | {median(m.row.rps for m in rows):,.0f} | "
            f"{median(m.row.p50 for m in rows):.2f} | {median(m.row.p99 for m in rows):.2f} | "
            f"{ratio:.2f}x ({min(spread):.2f}-{max(spread):.2f}) | "
            f"{median(m.row.rps for m in rows) / aio:.2f}x | "
            f"{median(m.server_cores for m in rows):.2f} / {median(m.wrk_cores for m in rows):.2f}"
            f" / {median(m.stub_cores for m in rows):.2f} | "
            f"{median(m.server_cores * 1000 / m.row.rps for m in rows):.3f} / "
            f"{median(m.wrk_cores * 1000 / m.row.rps for m in rows):.3f} / "
            f"{median(m.stub_cores * 1000 / m.row.rps for m in rows):.3f} | "
            f"{sum(m.row.errors for m in rows)} |"
        )
    print(
        f"\naiohttp passthrough: cores wrk {median(m.wrk_cores for m in reference):.2f}, "
        f"stub {median(m.stub_cores for m in reference):.2f}"
    )
    if part != "workers":
        return
    # What two workers can reach on this machine's cores, with wrk and the stub on them too:
    # one worker is held to a core; two share every core with wrk and the stub.
    cores = os.cpu_count() or 1
    for scenario in dict.fromkeys(scenario for scenario, _ in results):
        one = results[scenario, labels[0]]
        server = median(m.server_cores / m.row.rps for m in one)
        others = median((m.wrk_cores + m.stub_cores) / m.row.rps for m in one)
        ceiling = min(2 / server, cores / (server + others)) * server
        print(
            f"{scenario}: wrk and the stub take {others / (server + others):.0%} of the CPU a "
            f"request costs; on {cores} cores two workers can reach {ceiling:.2f}x one worker"
        )


if __name__ == "__main__":
    main()
