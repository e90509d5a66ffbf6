"""The index of one collection: a tantivy directory whose columns are the same for every
collection (see `fields.py`), opened once per process and kept.

tantivy ranks with BM25 and block-max WAND, so the cost of a top-k query follows k and the
blocks it cannot skip, not the number of matches (the README's design notes have the figures).
Words are split on anything not a letter or digit, lower-cased and folded to ASCII, at index
time and for a query alike (`fold`).

Readers follow the index's commits by themselves (tantivy's `OnCommit` policy watches its
`meta.json`, about twice a second), which is how every process of `serve --workers N` sees a
write; the process that wrote also reloads at once, so it reads its own writes.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from app.adapters.engine.fields import MAX_FIELDS

FOLD = "fold"
LOWER = "lower"
WRITER_HEAP_BYTES = 128_000_000
# One indexing thread: on two cores a second one (competing with the Python that feeds it)
# imported the Debian catalog 8% slower, and made more segments to merge.
WRITER_THREADS = 1
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

    def get(self, name: str) -> tantivy.Index:
        index = self._open.get(name)
        if index is None:
            with self._lock:
                index = self._open.get(name) or self._load(name)
                self._open[name] = index
        return index

    def exists(self, name: str) -> bool:
        return (self.root / name / "meta.json").exists()

    def _load(self, name: str) -> tantivy.Index:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
        index.register_tokenizer(FOLD, _ANALYZER)
        index.register_tokenizer(LOWER, _LOWER)
        index.config_reader(reload_policy="OnCommit")
        return index

    @contextmanager
    def writer(self, name: str) -> Iterator[Any]:
        """A writer for one batch, committed at the end (rolled back on an error) and then
        let go, merges done, so that its lock is free. The caller holds the engine's write
        transaction, which every process takes first, so that lock is never contended."""
        index = self.get(name)
        writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS)
        try:
            yield writer
            writer.commit()
        except BaseException as error:
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
