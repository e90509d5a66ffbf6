"""The index of one collection: a tantivy directory whose columns are the same for every
collection (see `fields.py`), opened once per process and kept.

tantivy ranks with BM25 and block-max WAND, so the cost of a top-k query follows k and the
blocks it cannot skip, not the number of matches (docs/performance.md has the figures).
Words are split on anything not a letter or digit, lower-cased and folded to ASCII, at index
time and for a query alike (`fold`).

Readers follow the index's commits by themselves (tantivy's `OnCommit` policy watches its
`meta.json`, about twice a second), which is how every process of `serve --workers N` sees a
write; the process that wrote also reloads at once, so it reads its own writes.

An index commits before SQLite does (see `core.py`), and a commit cannot be taken back: when
the write transaction fails after it, the rows that commit touched are kept in `unsynced`
until `put_back` makes the index hold again what SQLite holds for them. A file (`PENDING`)
marks an index from before its commit until SQLite's: one that a process stopping in between
leaves is rebuilt at the next start, as is one that does not count SQLite's documents (`agrees`).

Another process reads the same index, and sees such a write's documents until the writer has
put them back: it cannot tell on its own, as nothing cheap compares an index with SQLite. It
relies on the writer, which puts back before its next write and its next read of that
collection, and, should the writer die first, on the next process to start (uvicorn starts a new
worker), whose check rebuilds the collection into a new index, which every process follows.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from app.adapters.engine.fields import MAX_FIELDS, Fields

FOLD = "fold"
LOWER = "lower"
WRITER_HEAP_BYTES = 128_000_000
# One indexing thread: on two cores a second one (competing with the Python that feeds it)
# imported the Debian catalog 8% slower, and made more segments to merge.
WRITER_THREADS = 1
PENDING = "pending"  # a file of the index's directory (tantivy minds only its own)
# Less room than the smallest commit takes (a file per column, and the meta): a full disk.
FULL_BELOW_BYTES = 1024 * 1024
_ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(100))
    .filter(tantivy.Filter.lowercase())
    .filter(tantivy.Filter.ascii_fold())
    .build()
)
# A whole value as one term, lower-cased: what case-insensitive filters compare.
_LOWER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw()).filter(tantivy.Filter.lowercase()).build()
)


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("rowid", indexed=True, fast=True)
    builder.add_text_field("has", tokenizer_name="raw", index_option="basic")
    builder.add_text_field("null", tokenizer_name="raw", index_option="basic")
    for slot in range(MAX_FIELDS):
        builder.add_text_field(f"t{slot}", tokenizer_name=FOLD, index_option="freq")
        builder.add_text_field(f"s{slot}", tokenizer_name="raw", index_option="basic", fast=True)
        builder.add_text_field(f"k{slot}", tokenizer_name=LOWER, index_option="basic")
        builder.add_float_field(f"n{slot}", indexed=True, fast=True)
        builder.add_boolean_field(f"b{slot}", indexed=True, fast=True)
        builder.add_date_field(f"d{slot}", indexed=True, fast=True)
    return builder.build()


SCHEMA = _schema()


def fold(text: str) -> list[str]:
    """The words of `text` as the index holds them."""
    words: list[str] = _ANALYZER.analyze(text)
    return words


def by_rowid(rowid: int) -> tantivy.Query:
    # A query, not a raw term: a Python int is taken as i64, and `rowid` is a u64 column.
    return tantivy.Query.term_query(SCHEMA, "rowid", rowid)


class Indexes:
    """Every collection's index under one directory, each opened once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._open: dict[str, tantivy.Index] = {}
        self._lock = threading.Lock()
        # Index name -> the rows whose documents it may hold other than as SQLite has them.
        self.unsynced: dict[str, set[int]] = {}
        self._committed = threading.local()  # this thread's transaction's commits: (name, rows)

    def get(self, name: str) -> tantivy.Index:
        index = self._open.get(name)
        if index is None:
            with self._lock:
                index = self._open.get(name) or self._load(name)
                self._open[name] = index
        return index

    def agrees(self, name: str, count: int) -> bool:
        """Whether the index is there, was not left between its commit and SQLite's, and
        holds `count` documents."""
        path = self.root / name
        if not (path / "meta.json").exists() or (path / PENDING).exists():
            return False
        return int(self.get(name).searcher().num_docs) == count

    def _load(self, name: str) -> tantivy.Index:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
        index.register_tokenizer(FOLD, _ANALYZER)
        index.register_tokenizer(LOWER, _LOWER)
        index.config_reader(reload_policy="OnCommit")
        return index

    def _made(self) -> list[tuple[str, Collection[int]]]:
        """The index commits of this thread's write transaction, with the rows they touched."""
        if not hasattr(self._committed, "made"):
            self._committed.made = []
        made: list[tuple[str, Collection[int]]] = self._committed.made
        return made

    def settled(self) -> None:
        """The write transaction committed: its indexes agree with SQLite."""
        for name, _ in self._made():
            (self.root / name / PENDING).unlink(missing_ok=True)
        self._committed.made = []

    def failed(self) -> list[str]:
        """The write transaction failed: the indexes it had committed, whose rows (those
        given to `writer`) are now unsynced."""
        made = self._made()
        self._committed.made = []
        for name, rowids in made:
            self.unsynced.setdefault(name, set()).update(rowids)
        return [name for name, _ in made]

    @contextmanager
    def writer(self, name: str, rowids: Collection[int] | None = None) -> Iterator[Any]:
        """A writer for one batch, committed at the end (rolled back on an error) and then
        let go, merges done, so that its lock is free. The caller holds the engine's write
        transaction, which every process takes first, so that lock is never contended.
        With `rowids` (read once committed: the rows the batch touched), the batch is part of
        a write transaction, which ends with `settled` or `failed`."""
        index = self.get(name)
        writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS)
        pending = self.root / name / PENDING
        try:
            yield writer
            if rowids is not None:
                pending.touch()  # (an empty file: it fits on a full disk)
            writer.commit()
            if rowids is not None:
                self._made().append((name, rowids))
        except BaseException as error:
            if rowids is not None:
                pending.unlink(missing_ok=True)  # (not committed: nothing to mend)
            full = isinstance(error, ValueError) and self._full()
            writer.rollback()
            # A failed commit leaves its files behind, and a deletion's file (named after the
            # last commit) would then refuse every later deletion: let them go at once.
            with contextlib.suppress(ValueError):  # (best effort: on a full disk it may fail)
                writer.garbage_collect_files()
            if full:
                # tantivy does not always say why ("An index writer was killed"): this is why.
                raise OSError(errno.ENOSPC, "No room left for the index", str(self.root)) from error
            raise
        finally:
            writer.wait_merging_threads()
        index.reload()

    def put_back(self, name: str, fields: Fields | None, stored: Mapping[int, Any]) -> None:
        """The index's unsynced rows made to hold what SQLite holds: each deleted, then
        added again from `stored` (rowid -> body) where SQLite has it. With no `fields`, no
        collection has this index any more (the failed write was making it): it goes."""
        if fields is None:
            self.remove(name)
        else:
            with self.writer(name) as writer:
                for rowid in self.unsynced.get(name, ()):
                    writer.delete_documents_by_query(by_rowid(rowid))
                    if rowid in stored:
                        # (a stored document teaches nothing new to the fields stored with it)
                        doc, _ = fields.document(rowid, stored[rowid])
                        writer.add_document(tantivy.Document.from_dict(doc, SCHEMA))
            (self.root / name / PENDING).unlink(missing_ok=True)
        self.unsynced.pop(name, None)

    def _full(self) -> bool:
        disk = os.statvfs(self.root)
        return disk.f_bavail * disk.f_frsize < FULL_BELOW_BYTES

    def remove(self, name: str) -> None:
        with self._lock:
            self._open.pop(name, None)
        shutil.rmtree(self.root / name, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._open.clear()
