"""What one rate-limit check costs per request: the retriever's three windows plus an IP
window, counted in memory and in a real Redis (started here on a free loopback port).

    python -m bench.ratelimit [--requests 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import time

from app.adapters.clock import system_clock
from app.adapters.counters import Counters
from app.schemas.publishing import RateLimitConfig
from app.services.limits import RateLimiter, windows_for

CONFIG = RateLimitConfig.model_validate(
    {
        "tier": "enterprise",
        "requests_per_minute": 10**9,
        "requests_per_hour": 10**9,
        "requests_per_day": 10**9,
        "enable_ip_limits": True,
        "max_requests_per_ip_hour": 10**9,
    },
    strict=False,
)


async def _noop() -> None:
    return None


async def measure(limiter: RateLimiter | None, requests: int, clients: int) -> list[float]:
    """Microseconds per request, one sample per request."""
    samples = []
    for n in range(requests):
        windows = windows_for(CONFIG, "ret_bench", f"10.0.{n % clients // 256}.{n % 256}")
        start = time.perf_counter()
        if limiter is None:
            await _noop()
        else:
            await limiter.hit(windows)
        samples.append((time.perf_counter() - start) * 1e6)
    return samples


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def run(requests: int) -> None:
    rows = [("baseline (an awaited no-op)", await measure(None, requests, 1000))]
    memory = RateLimiter(Counters("memory://", "fallback", system_clock), system_clock)
    rows.append(("memory", await measure(memory, requests, 1000)))
    binary = shutil.which("redis-server")
    process = None
    if binary:
        port = free_port()
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.3)
        redis = RateLimiter(
            Counters(f"redis://127.0.0.1:{port}/0", "refuse", system_clock), system_clock
        )
        rows.append(("redis (loopback)", await measure(redis, requests, 1000)))
    try:
        print(f"{requests:,} checks of 4 windows each (3 retriever windows + 1 IP window)")
        print(f"{'storage':<30} {'median us':>10} {'p99 us':>10} {'checks/s':>10}")
        for name, samples in rows:
            ordered = sorted(samples)
            print(
                f"{name:<30} {statistics.median(samples):>10.1f} "
                f"{ordered[int(0.99 * len(ordered))]:>10.1f} "
                f"{len(samples) / (sum(samples) / 1e6):>10,.0f}"
            )
        if not binary:
            print("redis-server not found: the Redis row is missing")
    finally:
        if process:
            process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=20_000)
    asyncio.run(run(parser.parse_args().requests))


if __name__ == "__main__":
    main()
