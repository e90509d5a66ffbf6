"""This server's search page and JSON execute against Datasette's, over the same real rows with
SQLite FTS5 on the same fields, the same queries, one process each, in one run; beside them
Typesense's own search endpoint over the same rows, the fastest engine that runs here.

The rows are Debian's package catalog (bench/debian.py). Datasette (installed into a virtual
environment of its own, `.bench/datasette`, so that its pins never meet ours) serves them from a
table with an FTS5 index on title, description and section (`?_search=`); this server serves them
from the embedded engine through a published retriever. `wrk` asks both for the commonest words
of the catalog, one a request, 20 results each. Typesense (the test extra's 0.24.1 server, a
node of its own for the run, bench/engine.py's `typesense_node`) holds the rows in a collection
of their own, searched on the same three fields, each word as typed (`prefix=false`; its other
defaults: typos when nothing matches as typed, highlights): no page of its own, so a JSON row
only, and its threads take what cores they find.

`--baseline DIR` serves the same rows from the code of another checkout too (its page and
JSON beside ours, for a change measured against the code before it in one run). Beside each
server's req/s, the CPU time its process spent a request (its /proc/PID/stat over each run).

    python -m bench.peers [--seconds 5] [--connections 32] [--rounds 1] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench import debian
from bench.engine import typesense_node
from bench.harness import Row, cpu_seconds, run_wrk
from bench.pages import QUERY_INPUT, published
from tests.servers import TypesenseServer, free_port

ROOT = Path(__file__).parents[1]
PEER_ENV = ROOT / ".bench" / "datasette"
FIELDS = ["title", "description", "section"]
WORD = re.compile(r"[a-z][a-z0-9]+")
NAMESPACE, KEY = "bench", "bench-owner-key-0123456789abcdef"


def datasette_binary() -> Path:
    binary = PEER_ENV / "bin" / "datasette"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_ENV)], check=True)
        subprocess.run(
            [str(PEER_ENV / "bin" / "pip"), "install", "--quiet", "datasette>=0.65,<1"],
            check=True,
        )
    return binary


def build_sqlite(rows: list[dict[str, object]], path: Path) -> None:
    """The rows as Datasette finds them searchable: a table and its FTS5 index (content=)."""
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE packages (document_id TEXT PRIMARY KEY, title TEXT, description TEXT, "
        "section TEXT, priority TEXT, maintainer TEXT, tags TEXT, installed_size_kb INTEGER, "
        "version TEXT, homepage TEXT)"
    )
    conn.executemany(
        "INSERT INTO packages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                r["document_id"], r["title"], r["description"], r["section"], r["priority"],
                r["maintainer"], json.dumps(r["tags"]), r["installed_size_kb"], r["version"],
                r["homepage"],
            )
            for r in rows
        ],
    )  # fmt: skip
    conn.execute(
        "CREATE VIRTUAL TABLE [packages_fts] USING FTS5 ([title], [description], [section], "
        "content=[packages])"
    )
    conn.execute(
        "INSERT INTO packages_fts (rowid, title, description, section) "
        "SELECT rowid, title, description, section FROM packages"
    )
    conn.commit()
    conn.close()


def wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} stopped")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def commonest(rows: list[dict[str, object]], count: int) -> list[str]:
    """The words most descriptions have, most first."""
    frequency = Counter(w for r in rows for w in set(WORD.findall(str(r["description"]).lower())))
    return [w for w, _ in frequency.most_common(count)]


def ours(
    rows_file: Path, data_dir: Path, port: int, code: Path | None = None, **env: str
) -> subprocess.Popen[bytes]:
    """This server, one process, with the rows imported and published as `debian` (`env`: more
    of its settings, such as the engine it uses; `code`: another checkout's code to run)."""
    environment = {
        **os.environ,
        **({"PYTHONPATH": str(code)} if code else {}),
        "RETRIEVER_PAGES_DATA_DIR": str(data_dir),
        "RETRIEVER_PAGES_API_KEYS": f"{NAMESPACE}:{KEY}",
        "RETRIEVER_PAGES_SECRET_KEY": "b" * 40,
        **env,
    }
    cli = [sys.executable, "-m", "app.cli"]
    subprocess.run(
        [*cli, "import", str(rows_file), "--namespace", NAMESPACE, "--collection", "debian"],
        env=environment,
        check=True,
        capture_output=True,
        cwd=code,
    )
    process = subprocess.Popen(
        [*cli, "serve", "--port", str(port)],
        env=environment,
        cwd=code,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/healthz", process)
    headers = {"Authorization": f"Bearer {KEY}", "X-Namespace": NAMESPACE}
    config = {
        "title": "Debian packages",
        "inputs": [QUERY_INPUT],
        "exposed_fields": ["title", "description", "section", "version", "homepage"],
    }
    with httpx.Client(base_url=base) as client:
        published(client, headers, "debian", "debian", FIELDS, config)
    return process


def get_lua(
    path: Path, template: str, words: list[str], headers: dict[str, str] | None = None
) -> Path:
    listed = ", ".join(f'"{word}"' for word in words)
    named = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in (headers or {}).items())
    path.write_text(
        named + f"local words = {{{listed}}}\n"
        "request = function()\n"
        "  local w = words[math.random(#words)]\n"
        f'  return wrk.format("GET", "{template}")\n'
        "end\n"
    )
    return path


def post_lua(path: Path, words: list[str]) -> Path:
    listed = ", ".join(f'"{word}"' for word in words)
    path.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"local words = {{{listed}}}\n"
        "request = function()\n"
        "  local w = words[math.random(#words)]\n"
        "  return wrk.format(nil, nil, nil,\n"
        '    \'{"inputs": {"query": "\' .. w .. \'"}, "limit": 20}\')\n'
        "end\n"
    )
    return path


def typesense_collection(node: TypesenseServer, rows: list[dict[str, object]]) -> None:
    """The rows in a Typesense collection of their own, `packages`, searchable on the same
    fields (every other field stored, as Datasette's table has it)."""
    base, key = f"http://{node.address}", {"X-TYPESENSE-API-KEY": node.api_key}
    schema = {
        "name": "packages",
        "fields": [{"name": field, "type": "string"} for field in FIELDS],
    }
    httpx.post(f"{base}/collections", headers=key, json=schema, timeout=30).raise_for_status()
    for start in range(0, len(rows), 10_000):
        lines = "\n".join(
            json.dumps({**row, "id": row["document_id"]}) for row in rows[start : start + 10_000]
        )
        answer = httpx.post(
            f"{base}/collections/packages/documents/import?action=create",
            headers=key,
            content=lines,
            timeout=300,
        )
        answer.raise_for_status()
        failed = [line for line in answer.text.splitlines() if '"success":true' not in line]
        if failed:
            raise RuntimeError(f"Typesense refused {len(failed)} rows: {failed[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1, help="rounds in turn (medians)")
    parser.add_argument("--baseline", type=Path, help="another checkout, served beside ours")
    args = parser.parse_args()
    binary = datasette_binary()
    rows = list(debian.records())
    words = commonest(rows, 100)
    with tempfile.TemporaryDirectory() as tmp, typesense_node() as node:
        work = Path(tmp)
        rows_file = work / "debian.jsonl"
        rows_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
        build_sqlite(rows, work / "debian.db")
        typesense_collection(node, rows)
        found = httpx.get(
            f"http://{node.address}/collections/packages/documents/search",
            params={"q": words[0], "query_by": ",".join(FIELDS), "prefix": "false"},
            headers={"X-TYPESENSE-API-KEY": node.api_key},
        ).json()["found"]
        print(f"Typesense: {len(rows):,} rows imported; {words[0]!r} finds {found:,}", flush=True)
        peer_port, our_port = free_port(), free_port()
        peer = subprocess.Popen(
            [
                str(binary), "serve", str(work / "debian.db"), "--port", str(peer_port),
                "--setting", "default_page_size", "20", "--setting", "sql_time_limit_ms", "5000",
                # At its best: no facet suggestions computed for every page (on by default).
                "--setting", "suggest_facets", "off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        server = ours(rows_file, work / "ours", our_port)
        base_port = free_port()
        baseline = (
            ours(rows_file, work / "base", base_port, args.baseline) if args.baseline else None
        )
        try:
            wait_for(f"http://127.0.0.1:{peer_port}/debian/packages.json?_search=library", peer)
            peer_base, our_base = f"http://127.0.0.1:{peer_port}", f"http://127.0.0.1:{our_port}"
            word = '" .. w .. "'  # lua: the word this request asks for
            # Each word as typed, as FTS5 and our engine find it (Typesense's prefix on a short
            # last word finds its longer words and can leave the word out: `for`, 14 documents).
            typesense = f"q={word}&query_by={','.join(FIELDS)}&per_page=20&prefix=false"
            plan = [
                (
                    "Datasette JSON",
                    peer_base,
                    get_lua(
                        work / "dj.lua", f"/debian/packages.json?_search={word}&_size=20", words
                    ),
                ),
                (
                    "Typesense JSON",
                    f"http://{node.address}",
                    get_lua(
                        work / "tj.lua",
                        f"/collections/packages/documents/search?{typesense}",
                        words,
                        {"X-TYPESENSE-API-KEY": node.api_key},
                    ),
                ),
                (
                    "ours, JSON execute",
                    f"{our_base}/v1/public/retrievers/debian/execute",
                    post_lua(work / "oj.lua", words),
                ),
                (
                    "Datasette search page",
                    peer_base,
                    get_lua(work / "dp.lua", f"/debian/packages?_search={word}&_size=20", words),
                ),
                (
                    "ours, search page",
                    our_base,
                    get_lua(work / "op.lua", f"/r/debian?query={word}", words),
                ),
            ]
            if baseline is not None:  # each beside its own: the same moment's load
                base_base = f"http://127.0.0.1:{base_port}"
                plan.insert(
                    3,
                    (
                        "before, JSON execute",
                        f"{base_base}/v1/public/retrievers/debian/execute",
                        plan[2][2],
                    ),
                )
                plan.append(("before, search page", base_base, plan[-1][2]))
            pids = {"Datasette": peer.pid, "ours": server.pid, "before": baseline and baseline.pid}
            for _, url, script in plan:  # warm-up
                run_wrk("warm-up", url, script, 1, args.connections)
            runs: dict[str, list[Row]] = {}
            cpu: dict[str, list[float]] = {}
            for _ in range(args.rounds):
                for name, url, script in plan:
                    pid = pids.get(name.split(" ")[0].rstrip(","))
                    start = cpu_seconds(pid)
                    row = run_wrk(name, url, script, args.seconds, args.connections)
                    spent = cpu_seconds(pid) - start
                    runs.setdefault(name, []).append(row)
                    cpu.setdefault(name, []).append(spent * 1000 / (row.rps * args.seconds))
        finally:
            for process in (peer, server, baseline):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=10)
    report(runs, cpu, len(rows), args)


def report(
    runs: dict[str, list[Row]],
    cpu: dict[str, list[float]],
    records: int,
    args: argparse.Namespace,
) -> None:
    print(f"\n{records:,} Debian packages, FTS5 on {', '.join(FIELDS)}; the 100 commonest words;")
    print(
        f"{args.connections} connections, {args.seconds} s each, {args.rounds} round(s) in turn "
        "(medians), one process each (Typesense: its own threads), 20 results\n"
    )
    print(
        f"{'scenario':<24} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
        f"{'CPU ms/req':>10}"
    )
    rps = {}
    for name, rows in runs.items():
        rps[name] = statistics.median(r.rps for r in rows)
        p50 = statistics.median(r.p50 for r in rows)
        p99 = statistics.median(r.p99 for r in rows)
        errors = sum(r.errors for r in rows)
        work = statistics.median(cpu[name]) if not name.startswith("Typesense") else None
        shown = f"{work:>10.3f}" if work is not None else f"{'':>10}"
        print(f"{name:<24} {rps[name]:>8,.0f} {p50:>8.2f} {p99:>8.2f} {errors:>7} {shown}")

    theirs_page = "Datasette search page"

    def ratios(ours: str, theirs: str) -> str:
        each = [a.rps / b.rps for a, b in zip(runs[ours], runs[theirs], strict=True)]
        return f"{statistics.median(each):.2f}x (rounds {min(each):.2f}x to {max(each):.2f}x)"

    print(
        f"\nours / Datasette: JSON {ratios('ours, JSON execute', 'Datasette JSON')}, "
        f"page {ratios('ours, search page', 'Datasette search page')} (req/s)"
    )
    if "before, search page" in runs:
        print(
            f"before / Datasette: JSON {ratios('before, JSON execute', 'Datasette JSON')}, "
            f"page {ratios('before, search page', 'Datasette search page')} (req/s)"
        )
        for kind, theirs in (("JSON execute", "Datasette JSON"), ("search page", theirs_page)):
            peer, mine, old = (statistics.median(cpu[n]) for n in (theirs, f"ours, {kind}",
                                                                   f"before, {kind}"))  # fmt: skip
            print(
                f"CPU a request, {kind}: Datasette / ours {peer / mine:.2f}x, "
                f"Datasette / before {peer / old:.2f}x, before / ours {old / mine:.2f}x"
            )
    print(
        f"ours / Typesense's own search: JSON {ratios('ours, JSON execute', 'Typesense JSON')}; "
        f"Typesense / Datasette: JSON {ratios('Typesense JSON', 'Datasette JSON')}"
    )


if __name__ == "__main__":
    main()
