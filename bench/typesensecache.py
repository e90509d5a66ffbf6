"""A Typesense node whose data directory outlives the run, so that a second run at the same
scale skips the import (about 30 minutes at a million records on this machine): kept under
`~/.cache/retriever-pages/typesense/` (or `$RETRIEVER_PAGES_BENCH_CACHE`), keyed by the
catalog's records, the scale, and the source of the modules that make Typesense's documents
(a change to them makes a new key). A directory is reused only once its import finished
(`complete`, written after the count was checked, with each collection's number of documents);
the node starts on the same ports as the first time (its Raft state names them), so a restart
loads the documents from disk instead. The node says it is healthy while it is still loading
them (a search then finds part of the collection): `cached_node` waits until every collection
holds as many as when the import finished. An import stopped halfway is taken up where it
stopped: after each batch the number of documents is written (`progress`), and the next run
imports from there (`resumed_at`; the ids are the same, so a batch written twice is written
once). One run at a time uses a directory (a lock)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.servers import TypesenseServer, free_port

# What decides a document's columns in the node: a change here is a new cache key.
SOURCES = ["documents.py", "names.py", "schemas.py", "textfields.py"]
TYPESENSE_DIR = Path(__file__).resolve().parent.parent / "app/adapters/engine/typesense"


def cache_root() -> Path:
    configured = os.environ.get("RETRIEVER_PAGES_BENCH_CACHE")
    root = Path(configured) if configured else Path.home() / ".cache/retriever-pages"
    return root / "typesense"


def key(rows: list[dict[str, Any]], scale: int) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(json.dumps(row, sort_keys=True).encode())
    for name in SOURCES:
        digest.update((TYPESENSE_DIR / name).read_bytes())
    return f"debian-x{scale}-{digest.hexdigest()[:16]}"


class CachedNode(TypesenseServer):
    """A one-node Typesense whose root is a cache directory: `stop` keeps its data."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        shutil.rmtree(self.root, ignore_errors=True)  # the temporary one made by the parent
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        ports = root / "ports"
        if ports.exists():
            self.port, self.peering_port = map(int, ports.read_text().split())
        else:
            self.port, self.peering_port = free_port(), free_port()
            ports.write_text(f"{self.port} {self.peering_port}")
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"typesense://{self.api_key}@{self.address}"

    @property
    def complete(self) -> bool:
        return (self.root / "complete").exists()

    def collections(self) -> dict[str, int]:
        """Each collection's number of documents, as the node says now."""
        answer = httpx.get(
            f"http://{self.address}/collections",
            headers={"X-TYPESENSE-API-KEY": self.api_key},
            timeout=30,
        )
        answer.raise_for_status()
        return {each["name"]: int(each["num_documents"]) for each in answer.json()}

    def mark_complete(self) -> None:
        """Note the import done, after asking the node for a snapshot: without one (Typesense
        takes one an hour), a restart replays every write in its log, about as slow as the
        import; the copy it makes for a backup is not kept."""
        copy = self.root / "snapshot-copy"
        httpx.post(
            f"http://{self.address}/operations/snapshot",
            params={"snapshot_path": str(copy)},
            headers={"X-TYPESENSE-API-KEY": self.api_key},
            timeout=1800,
        ).raise_for_status()
        shutil.rmtree(copy, ignore_errors=True)
        (self.root / "complete").write_text(json.dumps(self.collections()))

    def record_progress(self) -> None:
        (self.root / "progress").write_text(json.dumps(self.collections()))

    def resumed_at(self, collection: str, batch: int) -> int:
        """The row an import stopped halfway takes up from (0 for a new one): the start of the
        batch it was writing."""
        progress = self.root / "progress"
        if not progress.exists():
            return 0
        written: int = json.loads(progress.read_text()).get(collection, 0)
        return written // batch * batch

    def wait_loaded(self, within: float = 1800) -> None:
        """Until every collection holds as many documents as when its import finished (or as
        its import had written, when stopped halfway)."""
        done = self.root / ("complete" if self.complete else "progress")
        if not done.exists():
            return
        expected = json.loads(done.read_text())
        deadline = time.monotonic() + within
        while any((held := self.collections()).get(n, 0) < c for n, c in expected.items()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Typesense loaded {held} of {expected} from {self.root}")
            time.sleep(1)

    def stop(self) -> None:
        self.halt()


@contextmanager
def cached_node(rows: list[dict[str, Any]], scale: int) -> Iterator[CachedNode]:
    """The node for these rows: its data from an earlier run if that import finished; else an
    empty directory (any half-done one removed) for this run to import into."""
    root = cache_root() / key(rows, scale)
    root.parent.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{root.name}.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"another run uses {root}: wait for it to end") from None
        node = CachedNode(root)
        node.start(within=600)
        try:
            if node.complete or (root / "progress").exists():
                started = time.perf_counter()
                node.wait_loaded()
                print(f"Typesense: the documents of a run before loaded from {root} in "
                      f"{time.perf_counter() - started:.0f} s")  # fmt: skip
            yield node
        finally:
            node.stop()
