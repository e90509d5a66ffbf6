"""The benchmark table: this server against two passthrough baselines, in one run.

Everything runs on loopback in its own process: an upstream stub answering like Mixpeek's
execute (20 documents), a passthrough proxy on a default httpx.AsyncClient, one on aiohttp, and
this server (one process) with retrievers published over that upstream and over the embedded
engine. `wrk` drives each at a fixed concurrency. Figures are ratios within one run, because this
machine is shared and noisy.

    python -m bench.stack [--quick] [--seconds 10] [--connections 32] [--docs 100000]
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from app.adapters.engine import ENGINE_FILE, Engine, Search
from app.schemas.publishing import PublishRetrieverRequest
from app.schemas.retrievers import CreateRetrieverRequest
from app.services.importing import import_file
from app.services.wiring import build_services
from app.settings import Settings
from bench.engine import percentile
from bench.generated import KINDS, vocabulary, write_documents
from bench.harness import cpu_seconds, free_port, lua, process, run_wrk, wait_for

OWNER_KEY = "bench-owner-key-0123456789"
NAMESPACE = "bench"
LOG_ROUNDS = 5
HIGH = {"requests_per_minute": 10**9, "requests_per_hour": 10**9, "requests_per_day": 10**9}
DISPLAY = {
    "title": "Bench",
    "inputs": [
        {
            "field_name": "query",
            "label": "Search",
            "required": False,
            "field_schema": {"type": "string"},
        }
    ],
    "exposed_fields": ["title", "description", "price", "image_url"],
    "field_config": {
        "price": {"format": "number", "format_options": {"decimals": 2, "prefix": "$"}}
    },
}


def seed(settings: Settings, upstream: str, docs: int) -> None:
    ctx = build_services(settings)
    ctx.store.migrate()
    ctx.vault.create(NAMESPACE, "upstream-key", "sk_upstream_bench")

    def publish(name: str, backend: dict[str, object], extensions: dict[str, object]) -> None:
        created = ctx.retrievers.create(
            NAMESPACE,
            CreateRetrieverRequest.model_validate(
                {"retriever_name": name, "backend": backend}, strict=False
            ),
        )
        ctx.publishing.publish(
            NAMESPACE,
            created.retriever_id,
            PublishRetrieverRequest.model_validate(
                {
                    "public_name": name,
                    "display_config": {**DISPLAY, "extensions": extensions},
                    "rate_limit_config": {**HIGH, "max_results_per_query": 20},
                },
                strict=False,
            ),
        )

    mixpeek = {
        "type": "mixpeek",
        "base_url": upstream,
        "retriever_id": "ret_bench",
        "namespace": "upstream",
        "api_key_secret_name": "upstream-key",
    }
    publish("upstream", mixpeek, {})
    publish("cached", mixpeek, {"query_cache_seconds": 60})
    publish("unlogged", mixpeek, {"search_log": False})
    publish("cached-unlogged", mixpeek, {"query_cache_seconds": 60, "search_log": False})
    local = {"type": "local", "collection": "docs", "search_fields": ["title", "description"]}
    publish("engine", local, {})
    publish("engine-unlogged", local, {"search_log": False})
    source = settings.data_dir / "docs.jsonl"
    write_documents(source, docs, random.Random(7), vocabulary(random.Random(7)))
    import_file(ctx.engine, NAMESPACE, "docs", source)
    source.unlink()
    ctx.engine.close()
    ctx.store.close()


def seeded(settings: Settings, upstream: str, docs: int) -> None:
    """`seed` from a worker thread, as the server publishes: a backend's check at publishing
    runs on an event loop."""
    import anyio
    from anyio import to_thread

    anyio.run(partial(to_thread.run_sync, seed, settings, upstream, docs))


def _counter(base: str, name: str) -> float:
    """A counter's value off the server's /metrics."""
    import http.client
    from urllib.parse import urlsplit

    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    found = re.search(rf"^{name} ([0-9.e+]+)$", text, flags=re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def limiter_memory(addresses: int, requests: int) -> tuple[float, float, int, int]:
    """RSS before and after `requests` IP-limited checks from `addresses` clients, in MB."""
    code = f"""
import asyncio, resource
from app.adapters.clock import system_clock
from app.adapters.counters import Counters
from app.services.limits import RateLimiter, windows_for
from app.schemas.publishing import RateLimitConfig
def rss():
    return int(open('/proc/self/statm').read().split()[1]) * resource.getpagesize() / 1e6
config = RateLimitConfig.model_validate({{"tier": "unlimited", "enable_ip_limits": True,
    "max_requests_per_ip_hour": 10**9}}, strict=False)
async def main():
    limiter = RateLimiter(Counters("memory://", "fallback", system_clock), system_clock)
    before = rss()
    for n in range({requests}):
        a = n % {addresses}
        ip = f"10.{{a >> 16}}.{{(a >> 8) & 255}}.{{a & 255}}"
        await limiter.hit(windows_for(config, "ret", ip))
    after = rss()
    # Idle counters expire: 10,000 more addresses in a 1-second window, then nothing for 2.5 s.
    from app.services.limits import Window
    for n in range(10_000):
        await limiter.hit([Window("idle", 5, 1, f"idle-{{n}}")])
    await asyncio.sleep(2.5)
    await limiter.hit([Window("idle", 5, 1, "wake")])  # the storage sweeps on use
    await asyncio.sleep(0.2)
    idle = sum(1 for key in limiter.counters._memory.storage if ":idle:" in key)
    print(before, after, len(limiter.counters._memory.storage), idle)
asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, keys, idle = out.stdout.split()
    return float(before), float(after), int(keys), int(idle)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs, fewer documents")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--docs", type=int, default=100_000)
    args = parser.parse_args()
    seconds = 3 if args.quick else args.seconds
    docs = 20_000 if args.quick else args.docs
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: scripts/bench installs it (Debian's wrk)")

    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        ports = {name: free_port() for name in ("upstream", "httpx", "aiohttp", "server")}
        upstream_url = f"http://127.0.0.1:{ports['upstream']}"
        settings = Settings(
            data_dir=tmpdir / "data",
            api_keys=[f"{NAMESPACE}:{OWNER_KEY}"],
            secret_key="b" * 40,
            public_url=f"http://127.0.0.1:{ports['server']}",
            upstream_allow=["127.0.0.1"],  # the stub listens on loopback
        )
        print(f"seeding: 3 retrievers, {docs:,} engine documents ...", flush=True)
        seeded(settings, upstream_url, docs)
        env = {
            "RETRIEVER_PAGES_DATA_DIR": str(settings.data_dir),
            "RETRIEVER_PAGES_SECRET_KEY": "b" * 40,
            "RETRIEVER_PAGES_PUBLIC_URL": settings.public_url,
            "RETRIEVER_PAGES_LOG_LEVEL": "warning",
            "RETRIEVER_PAGES_UPSTREAM_ALLOW": "127.0.0.1",
        }
        with (
            process("-m", "bench.upstream", "--port", str(ports["upstream"])),
            process(
                "-m",
                "bench.proxies",
                "httpx",
                "--port",
                str(ports["httpx"]),
                "--upstream",
                upstream_url,
            ),
            process(
                "-m",
                "bench.proxies",
                "aiohttp",
                "--port",
                str(ports["aiohttp"]),
                "--upstream",
                upstream_url,
            ) as aiohttp,
            process("-m", "app.cli", "serve", "--port", str(ports["server"]), env=env) as server,
        ):
            for port in ports.values():
                wait_for(port)
            body = '{"inputs": {"query": "lamp"}, "limit": 20}'
            post = lua(tmpdir / "post.lua", "POST", body)
            get = lua(tmpdir / "get.lua", "GET")
            words = vocabulary(random.Random(7))[:200] + KINDS
            engine_post = lua(tmpdir / "engine.lua", "POST", words=words)
            base = settings.public_url
            plan = [
                ("aiohttp passthrough", f"http://127.0.0.1:{ports['aiohttp']}/execute", post),
                (
                    "httpx passthrough (default client)",
                    f"http://127.0.0.1:{ports['httpx']}/execute",
                    post,
                ),
                (
                    "public execute (every check)",
                    f"{base}/v1/public/retrievers/upstream/execute",
                    post,
                ),
                ("search page, 20 results", f"{base}/r/upstream?query=lamp", get),
                (
                    f"engine execute, {docs:,} docs",
                    f"{base}/v1/public/retrievers/engine/execute",
                    engine_post,
                ),
                (
                    "public execute, query cache on",
                    f"{base}/v1/public/retrievers/cached/execute",
                    post,
                ),
            ]
            # A warm-up for every target, so that no row pays for first connections.
            for _, url, script in plan:
                run_wrk("warm-up", url, script, 1, args.connections)
            rows, cpu = [], []  # CPU ms a request: aiohttp's process, or this server's
            for name, url, script in plan:
                pid = aiohttp.pid if name.startswith("aiohttp") else server.pid
                start = cpu_seconds(pid)
                rows.append(run_wrk(name, url, script, seconds, args.connections))
                spent = cpu_seconds(pid) - start
                cpu.append(spent * 1000 / (rows[-1].rps * seconds) if "httpx" not in name else None)
            # The search log's cost: the same retriever with its log on and off, in turn, so
            # that the machine's other work weighs on both alike.
            pairs = {
                "execute": ("upstream", "unlogged", post),
                "engine execute": ("engine", "engine-unlogged", engine_post),
                "cached execute": ("cached", "cached-unlogged", post),
            }
            shares: dict[str, list[float]] = {}
            for label, (on, off, script) in pairs.items():
                for _ in range(LOG_ROUNDS):
                    logged_on = run_wrk(
                        "on",
                        f"{base}/v1/public/retrievers/{on}/execute",
                        script,
                        seconds,
                        args.connections,
                    )
                    logged_off = run_wrk(
                        "off",
                        f"{base}/v1/public/retrievers/{off}/execute",
                        script,
                        seconds,
                        args.connections,
                    )
                    shares.setdefault(label, []).append(logged_on.rps / logged_off.rps)
            logged = _counter(base, "searches_logged_total")
            dropped = _counter(base, "searches_dropped_total")
            statm = Path(f"/proc/{server.pid}/statm").read_text().split()
            server_rss = int(statm[1]) * resource.getpagesize() / 1e6

        aio, naive = rows[0], rows[1]
        print(
            f"\n{args.connections} connections, {seconds} s each, one server process, "
            f"upstream answering 20 documents\n"
        )
        print(
            f"{'scenario':<36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'vs httpx':>9} {'vs aiohttp':>11} {'p99/aiohttp':>12} {'errors':>7} "
            f"{'CPU ms/req':>10} {'aiohttp/ours':>12}"
        )
        for row, work in zip(rows, cpu, strict=True):
            shown = f"{work:>10.3f} {cpu[0] / work:>11.2f}x" if work else ""
            print(
                f"{row.name:<36} {row.rps:>9,.0f} {row.p50:>8.2f} {row.p99:>8.2f} "
                f"{row.rps / naive.rps:>8.2f}x {row.rps / aio.rps:>10.2f}x "
                f"{row.p99 / aio.p99:>11.2f}x {row.errors:>7} {shown}"
            )
        print(f"\nsearch log on against off, in turn, {LOG_ROUNDS} rounds of {seconds} s each:")
        for label, ratios in shares.items():
            print(
                f"  {label}: {statistics.median(ratios):.1%} of the throughput with it off "
                f"(rounds {min(ratios):.1%} to {max(ratios):.1%})"
            )
        runs = len(rows) + 2 * len(pairs) * LOG_ROUNDS
        print(
            f"search log: {logged:,.0f} searches "
            f"written ({logged / (seconds * runs):,.0f} a second over "
            "the runs, the busiest "
            f"{max(row.rps for row in rows if 'passthrough' not in row.name):,.0f}), "
            f"{dropped:,.0f} dropped"
        )
        print("\n(page weight: python -m bench.pages, which measures the demo's page whole)")
        print(f"server resident memory after the runs: {server_rss:.0f} MB")

        engine = Engine(settings.data_dir / ENGINE_FILE)
        print(f"\nembedded engine, {docs:,} documents, direct (no HTTP):")
        for label, make in (
            ("one word", lambda: random.choice(words)),
            ("two words", lambda: f"{random.choice(words)} {random.choice(words)}"),
        ):
            timings = []
            for _ in range(300 if args.quick else 2000):
                text = make()
                start = time.perf_counter()
                engine.search(
                    NAMESPACE,
                    "docs",
                    Search(
                        fields=["title", "description"], text=text, filters={}, limit=20, offset=0
                    ),
                )
                timings.append((time.perf_counter() - start) * 1000)
            print(
                f"  {label:<10} median {statistics.median(timings):6.2f} ms   "
                f"p99 {percentile(timings, 0.99):6.2f} ms"
            )
        engine.close()

    addresses, requests = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    before, after, keys, idle = limiter_memory(addresses, requests)
    print(
        f"\nIP limits: {requests:,} checks from {addresses:,} addresses: RSS {before:.0f} MB -> "
        f"{after:.0f} MB ({keys:,} live counters); of 10,000 idle 1-second counters, {idle} "
        "left 2.5 s later"
    )


if __name__ == "__main__":
    main()
