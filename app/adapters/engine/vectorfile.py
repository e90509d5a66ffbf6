"""A collection's vectors on disk: one file, written whole beside the old one and renamed over
it, so that a crash mid-save leaves the old file (or none), never half of one. (The half-written
file such a crash leaves beside it goes at the next save; saves are the engine's one writer's.)

The file is the graph as usearch writes it, then the rows (each key, then each vector), then a
trailer of fixed size: what it holds, the graph's length, and a CRC-32 of everything before
the CRC. Reading checks the trailer, the length and the CRC before usearch parses anything, so
a truncated or damaged file is refused with `VectorFileError` (the engine then builds the index
again from its documents) instead of being read as a graph whose links point anywhere.
"""

from __future__ import annotations

import contextlib
import io
import os
import struct
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from usearch.index import Index

MAGIC = b"RPVECT\x00\x01"
# magic, dimensions, bytes per stored number, vectors, version, graph bytes, CRC-32
TRAILER = struct.Struct("<8sIIQQQI")
READ_BYTES = 8 * 1024 * 1024
ROW_TYPES = {2: np.float16, 4: np.float32}


class VectorFileError(Exception):
    """A vector file that cannot be read as written: missing, truncated, damaged or of another
    shape. The index has to be built again from the documents."""


class Saved(NamedTuple):
    graph: Index
    keys: npt.NDArray[np.uint64]
    matrix: npt.NDArray[np.floating]
    version: int


def write(
    path: Path,
    graph: Index,
    keys: npt.NDArray[np.uint64],
    matrix: npt.NDArray[np.floating],
    version: int,
) -> None:
    """Save to a new file beside `path`, synced to the disk, then renamed over it."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        graph.save(os.fspath(temporary))
        with temporary.open("r+b") as handle:
            crc, graph_bytes = _crc(handle, None)
            handle.seek(0, os.SEEK_END)
            for part in (np.ascontiguousarray(keys), np.ascontiguousarray(matrix)):
                data = part.reshape(-1).view(np.uint8).data
                handle.write(data)
                crc = zlib.crc32(data, crc)
            dimensions = matrix.shape[1]
            fields = (MAGIC, dimensions, matrix.itemsize, len(keys), version, graph_bytes)
            head = TRAILER.pack(*fields, 0)[:-4]
            handle.write(head)
            handle.write(struct.pack("<I", zlib.crc32(head, crc)))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)
    for left in path.parent.glob(f".{path.name}.*.tmp"):  # (a process that died mid-save)
        left.unlink(missing_ok=True)


def read(path: Path, dimensions: int, new_graph: Callable[[Any], Index]) -> Saved:
    """The graph (loaded into `new_graph(its number type)`), rows and version saved at `path`,
    checked; `VectorFileError` if they cannot be."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise VectorFileError(f"no vector file at {path}") from None
    if size < TRAILER.size:
        raise VectorFileError(f"the vector file {path} is truncated ({size} bytes)")
    with path.open("rb") as handle:
        handle.seek(size - TRAILER.size)
        trailer = handle.read(TRAILER.size)
        magic, dims, itemsize, count, version, graph_bytes, expected = TRAILER.unpack(trailer)
        if magic != MAGIC:
            raise VectorFileError(f"{path} is not a vector file of this version (or is truncated)")
        if dims != dimensions:
            raise VectorFileError(f"{path} holds {dims}-dimension vectors, not {dimensions}")
        if itemsize not in ROW_TYPES:
            raise VectorFileError(f"the vector file {path} is damaged (number size {itemsize})")
        body = graph_bytes + count * 8 + count * dims * itemsize
        if body + TRAILER.size != size:
            raise VectorFileError(f"the vector file {path} is truncated or damaged (its size)")
        handle.seek(0)
        crc, _ = _crc(handle, body)
        if zlib.crc32(trailer[:-4], crc) != expected:
            raise VectorFileError(f"the vector file {path} is damaged (its checksum)")
    keys = np.fromfile(path, np.uint64, count, offset=graph_bytes)
    matrix = np.fromfile(path, ROW_TYPES[itemsize], count * dims, offset=graph_bytes + count * 8)
    graph = _graph(path, dims, count, new_graph)
    return Saved(graph, keys, matrix.reshape(count, dims), version)


def _graph(path: Path, dimensions: int, count: int, new_graph: Callable[[Any], Index]) -> Index:
    try:
        meta = Index.metadata(os.fspath(path))
        if not meta or meta["dimensions"] != dimensions or meta["count_present"] != count:
            raise VectorFileError(f"the graph in {path} does not match its rows")
        graph = new_graph(meta["kind_scalar"])
        graph.load(os.fspath(path))
    except (RuntimeError, ValueError, KeyError) as error:
        raise VectorFileError(f"the graph in {path} cannot be read: {error}") from error
    if len(graph) != count:
        raise VectorFileError(f"the graph in {path} does not match its rows")
    return graph


def _crc(handle: io.BufferedIOBase, length: int | None) -> tuple[int, int]:
    """CRC-32 of the next `length` bytes of `handle` (all of them, with None), and how many."""
    buffer = bytearray(READ_BYTES)
    view = memoryview(buffer)
    crc = total = 0
    while length is None or total < length:
        wanted = READ_BYTES if length is None else min(READ_BYTES, length - total)
        got = handle.readinto(view[:wanted])
        if not got:
            break
        crc = zlib.crc32(view[:got], crc)
        total += got
    return crc, total


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable (a crash after it must not bring back the old name)."""
    with contextlib.suppress(OSError):  # (some file systems cannot sync a directory)
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
