"""What every benchmark here needs to run servers and drive them: a free port, a process for the
length of a block, `wrk` and its Lua scripts, and the CPU time a process tree has spent."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@contextmanager
def process(
    *args: str,
    env: dict[str, str] | None = None,
    session: bool = False,
    wait: float = 10,
    tree: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """`python args` until the block ends (killed if it takes more than `wait` s to stop); in
    a session of its own if asked, so that its workers stop with it; from another checkout
    `tree` (its own .venv and code) when given."""
    python = str(tree / ".venv" / "bin" / "python") if tree else sys.executable
    child = subprocess.Popen(
        [python, *args],
        env={**os.environ, **(env or {}), **({"PYTHONPATH": str(tree)} if tree else {})},
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=session,
    )
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            child.kill()


@dataclass
class Row:
    name: str
    rps: float
    p50: float
    p99: float
    errors: int


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def cpu_seconds(pid: int | None) -> float:
    """The user and system CPU time a process and every process under it (a server's
    workers) have spent so far, in seconds, from /proc; 0 for no process."""
    if pid is None:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(times.get(p, 0.0) for p in tree)


def run_wrk(name: str, url: str, script: Path, seconds: int, connections: int) -> Row:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    failed = re.search(r"Socket errors:.*?timeout (\d+)", output)
    errors = (int(bad.group(1)) if bad else 0) + (int(failed.group(1)) if failed else 0)
    return Row(name, rps, p50, p99, errors)


def lua(path: Path, method: str, body: str | None = None, words: list[str] | None = None) -> Path:
    lines = [f'wrk.method = "{method}"', 'wrk.headers["Content-Type"] = "application/json"']
    if body is not None:
        lines.append(f"wrk.body = '{body}'")
    if words:
        # Each request asks for a different word, as users do, from the common ones.
        listed = ", ".join(f'"{word}"' for word in words)
        lines += [
            f"local words = {{{listed}}}",
            "request = function()",
            "  local w = words[math.random(#words)]",
            "  return wrk.format(nil, nil, nil,",
            '    \'{"inputs": {"query": "\' .. w .. \'"}, "limit": 20}\')',
            "end",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path
