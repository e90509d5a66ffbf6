"""The search page's CPU time with no HTTP in the way: the ASGI app driven directly, over the
Debian catalog as `bench.peers` publishes it, asking for a page of the 100 commonest words in
turn; optionally under cProfile, to see where a page goes.

`--code DIR` runs another checkout's app instead (this file needs nothing of its own tree), so
two codes can be timed one after the other in turn:

    python bench/pagecpu.py [--pages 300] [--passes 5] [--profile N] [--code DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

NAMESPACE, KEY = "bench", "bench-owner-key-0123456789abcdef"
FIELDS = ["title", "description", "section"]


async def call(
    app: Any, method: str, path: str, query: str = "", body: bytes = b"", **headers: str
) -> tuple[int, bytes]:
    """One request through the whole ASGI app (middleware and all), no socket."""
    sent: list[dict[str, Any]] = []
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def publish(app: Any) -> None:
    owner = {"authorization": f"Bearer {KEY}", "x_namespace": NAMESPACE}
    json_type = {"content_type": "application/json"}
    backend = {"type": "local", "collection": "debian", "search_fields": FIELDS}
    status, body = await call(
        app,
        "POST",
        "/v1/retrievers",
        body=json.dumps({"retriever_name": "debian", "backend": backend}).encode(),
        **owner,
        **json_type,
    )
    assert status in (200, 201), body
    rid = json.loads(body)["retriever_id"]
    config = {
        "title": "Debian packages",
        "inputs": [{"field_name": "query", "label": "Search", "field_schema": {"type": "string"}}],
        "exposed_fields": ["title", "description", "section", "version", "homepage"],
    }
    published = {
        "public_name": "debian",
        "display_config": config,
        "rate_limit_config": {"tier": "unlimited"},
    }
    status, body = await call(
        app,
        "POST",
        f"/v1/retrievers/{rid}/publish",
        body=json.dumps(published).encode(),
        **owner,
        **json_type,
    )
    assert status in (200, 201), body


async def pages(app: Any, words: list[str], count: int) -> float:
    """CPU seconds for `count` pages, the words in turn."""
    start = time.process_time()
    for i in range(count):
        status, _ = await call(app, "GET", "/r/debian", f"query={words[i % len(words)]}")
        assert status == 200, status
    return time.process_time() - start


async def run(args: argparse.Namespace, data_dir: Path, words: list[str]) -> None:
    from app.settings import Settings
    from app.web.app import create_app

    settings = Settings(data_dir=data_dir, api_keys=[f"{NAMESPACE}:{KEY}"], secret_key="b" * 40)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await publish(app)
        await pages(app, words, 100)  # warm: configs, caches, templates
        best = []
        for _ in range(args.passes):
            best.append(await pages(app, words, args.pages) * 1000 / args.pages)
        print(f"CPU ms a page, {args.passes} passes of {args.pages}: " + ", ".join(
            f"{b:.3f}" for b in best) + f"; best {min(best):.3f}")  # fmt: skip
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            await pages(app, words, args.profile)
            profile.disable()
            stats = pstats.Stats(profile)
            stats.sort_stats(args.sort).print_stats(args.lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--profile", type=int, default=0, help="pages under cProfile")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--lines", type=int, default=60)
    parser.add_argument("--code", type=Path, help="another checkout's app")
    parser.add_argument("--rows", type=Path, help="the catalog as JSON lines (made if absent)")
    args = parser.parse_args()
    code = checkout(parser, args.code)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        words = catalog(code, args.rows, work / "data", work)
        asyncio.run(run(args, work / "data", words))


def checkout(parser: argparse.ArgumentParser, named: Path | None) -> Path:
    """The checkout whose app runs (`--code`, or this one), first on the import path."""
    code = (named or Path(__file__).parents[1]).resolve()
    if not (code / "app").is_dir():  # else this tree's own app, installed in the .venv, runs
        parser.error(f"--code {code}: no app/ there; name the checkout, not its app/")
    sys.path[0] = str(code)  # not bench/, whose typesense.py would hide the client's package
    return code


def catalog(code: Path, rows_file: Path | None, data_dir: Path, work: Path) -> list[str]:
    """The Debian catalog imported into `data_dir` by `code`'s command line (unless it is there
    already), its rows kept in `rows_file` (made if absent); its 100 commonest words."""
    rows_file = rows_file or work / "debian.jsonl"
    if not rows_file.exists():
        from bench import debian

        rows_file.write_text("".join(json.dumps(r) + "\n" for r in debian.records()))
    rows = [json.loads(line) for line in rows_file.read_text().splitlines()]
    if not data_dir.exists():
        environment = {
            **os.environ,
            "PYTHONPATH": str(code),
            "RETRIEVER_PAGES_DATA_DIR": str(data_dir),
            "RETRIEVER_PAGES_API_KEYS": f"{NAMESPACE}:{KEY}",
            "RETRIEVER_PAGES_SECRET_KEY": "b" * 40,
        }
        subprocess.run(
            [sys.executable, "-m", "app.cli", "import", str(rows_file), "--namespace", NAMESPACE,
             "--collection", "debian"],
            env=environment, check=True, capture_output=True, cwd=code,
        )  # fmt: skip
    return commonest(rows, 100)


def commonest(rows: list[dict[str, Any]], count: int) -> list[str]:
    import re
    from collections import Counter

    word = re.compile(r"[a-z][a-z0-9]+")
    frequency = Counter(w for r in rows for w in set(word.findall(str(r["description"]).lower())))
    return [w for w, _ in frequency.most_common(count)]


if __name__ == "__main__":
    main()
