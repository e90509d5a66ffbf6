"""What one small store transaction over PostgreSQL costs (a read of one row: checkout with its
ping, the query, the rollback, checkin), this tree's `Store` against another checkout's, on one
PostgreSQL server of the run's own.

    python -m bench.storecalls --against OTHER_TREE [--calls 3000] [--rounds 5]

Each round runs both trees' processes one after the other (which goes first alternating), each
doing `--calls` transactions after a warm-up; it prints each one's wall and CPU time a
transaction (the median of the rounds) and the median of the rounds' paired ratios.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

from bench.insights import postgres

# Run in each tree's own interpreter, with that tree's code: the other checkout has no bench of
# this name.
CHILD = """
import sys, time
from app.adapters.store import Store
store = Store(sys.argv[1])
calls = int(sys.argv[2])
def run(count):
    for _ in range(count):
        with store.read() as tx:
            tx.owner_key("absent")
run(300)
wall, cpu = time.perf_counter(), time.process_time()
run(calls)
print((time.perf_counter() - wall) / calls * 1e6, (time.process_time() - cpu) / calls * 1e6)
store.close()
"""


def measure(tree: Path, url: str, calls: int) -> tuple[float, float]:
    python = tree / ".venv" / "bin" / "python"
    out = subprocess.run(
        [str(python), "-c", CHILD, url, str(calls)],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", type=Path, required=True, help="another checkout")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    here = Path(__file__).resolve().parent.parent
    trees = {"this tree": here, "against": args.against.resolve()}
    with postgres() as url:
        subprocess.run(
            [sys.executable, "-c", "import sys; from app.adapters.store import Store; "
             "Store(sys.argv[1]).migrate()", url],
            cwd=here, check=True,
        )  # fmt: skip
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for name in order:
                figures[name].append(measure(trees[name], url, args.calls))
    print(f"{args.rounds} rounds of {args.calls} read transactions, medians of the rounds")
    print(f"{'':<10} {'wall µs':>9} {'CPU µs':>9}")
    for name, rows in figures.items():
        wall = statistics.median(row[0] for row in rows)
        cpu = statistics.median(row[1] for row in rows)
        print(f"{name:<10} {wall:>9.1f} {cpu:>9.1f}")
    for index, what in enumerate(("wall", "CPU")):
        ratios = [
            mine[index] / theirs[index]
            for mine, theirs in zip(figures["this tree"], figures["against"], strict=True)
        ]
        print(
            f"{what} ratio, this tree / against (median of rounds): {statistics.median(ratios):.3f}"
        )


if __name__ == "__main__":
    main()
