"""What holds the event loop up: `serve` (one process) with three probes, for a `wrk` run.

- a task that sleeps 2 ms at a time and records how late it wakes (the loop's lag);
- `gc.callbacks`, timing each collection by generation, in CPU and in wall time, and counting
  the objects a full collection walks;
- a watchdog thread that, whenever the loop has not run for 30 ms, takes the loop thread's
  stack (where it was when it held everything up).

    python -m bench.loopprobe PORT OUT.json   # settings from the environment, as `serve`

Drive it (`wrk -c32 ... http://127.0.0.1:PORT/...`), then stop it: the summary so far is in
OUT.json, written every 2 s and at the end. The watchdog takes the GIL every 5 ms itself, so
read its catches as where the time goes, not the req/s beside it. docs/design.md, "The
collector and the GIL".
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from typing import Any

LATE_SECONDS = 0.03
TICK = 0.002


class Probes:
    def __init__(self) -> None:
        self.collections: list[tuple[int, float, float]] = []  # generation, wall ms, CPU ms
        self.walked: list[int] = []  # objects at the start of the first full collections
        self.lags: list[float] = []
        self.caught: Counter[str] = Counter()
        self.beat = time.perf_counter()
        self._started = (0.0, 0.0)
        self._loop_thread = threading.get_ident()

    def on_collection(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            if info["generation"] == 2 and len(self.walked) < 10:
                self.walked.append(len(gc.get_objects()))
            self._started = (time.perf_counter(), time.thread_time())
            return
        wall, cpu = self._started
        self.collections.append(
            (
                info["generation"],
                (time.perf_counter() - wall) * 1000,
                (time.thread_time() - cpu) * 1000,
            )
        )

    async def lag(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            self.beat = time.perf_counter()
            self.lags.append((self.beat - before - TICK) * 1000)

    def watch(self) -> None:
        caught_beat = None
        while True:
            time.sleep(0.005)
            beat = self.beat
            if time.perf_counter() - beat < LATE_SECONDS or caught_beat == beat:
                continue
            frame = sys._current_frames().get(self._loop_thread)
            if frame is not None:
                stack = traceback.extract_stack(frame)[-6:]
                self.caught[
                    " < ".join(
                        f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in stack[::-1]
                    )
                ] += 1
                caught_beat = beat

    def summary(self) -> dict[str, Any]:
        by_generation: dict[int, list[tuple[float, float]]] = defaultdict(list)
        for generation, wall, cpu in self.collections:
            by_generation[generation].append((wall, cpu))
        lags = sorted(self.lags) or [0.0]
        return {
            "collections": {
                generation: {
                    "count": len(times),
                    "cpu_ms_total": round(sum(cpu for _, cpu in times), 1),
                    "cpu_ms_median": round(sorted(cpu for _, cpu in times)[len(times) // 2], 2),
                    "wall_ms_longest": round(max(wall for wall, _ in times), 1),
                }
                for generation, times in sorted(by_generation.items())
            },
            "objects_walked_by_full_collections": self.walked,
            "lag_ms": {
                "p50": round(lags[len(lags) // 2], 2),
                "p99": round(lags[int(len(lags) * 0.99)], 1),
                "max": round(lags[-1], 1),
                "over_50": sum(1 for lag in lags if lag > 50),
            },
            "caught": self.caught.most_common(20),
        }


def main() -> None:
    import uvicorn
    import uvloop

    from app import logs
    from app.adapters.store import Store
    from app.cli.serving import uvicorn_options
    from app.settings import load_settings
    from app.web.app import create_app
    from app.web.server import ConnectionLimits, GuardedProtocol

    port, out = int(sys.argv[1]), sys.argv[2]
    settings = load_settings().served_at("127.0.0.1", port)
    logs.configure(settings.log_level, settings.log_format)
    GuardedProtocol.configured = ConnectionLimits.of(settings)
    Store(settings.effective_database_url).migrate()
    probes = Probes()
    gc.callbacks.append(probes.on_collection)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            loop="none",
            **uvicorn_options(settings),
        )
    )

    def write() -> None:
        with open(out, "w") as file:
            json.dump(probes.summary(), file, indent=1)

    async def every_two_seconds() -> None:
        while True:
            await asyncio.sleep(2)
            write()

    async def serve() -> None:
        tasks = [asyncio.create_task(probes.lag()), asyncio.create_task(every_two_seconds())]
        threading.Thread(target=probes.watch, daemon=True).start()
        try:
            await server.serve()
        finally:
            for task in tasks:
                task.cancel()
            write()

    uvloop.run(serve())


if __name__ == "__main__":
    main()
