"""The embedded engine's vector index saved beside its words: a restart loads it and catches up
with what was written since, and a file that is damaged, truncated or out of step with SQLite is
never trusted (the index is built again from the vectors SQLite holds)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.adapters.engine import Engine
from app.adapters.engine.vectorsets import VECTOR_FILE
from tests.adapters.test_engine_meaning import (
    DOCUMENTS,
    MODEL,
    SETTINGS,
    SOFA,
    embed,
    ids,
    search,
    text_of,
)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data directory whose engine holds the catalog with vectors, closed (so saved)."""
    engine = Engine(tmp_path / "engine.db")
    engine.set_embedding("ns", "shop", SETTINGS)
    engine.upsert("ns", "shop", DOCUMENTS, list(embed([text_of(d) for d in DOCUMENTS])), MODEL)
    assert ids(search(engine, "couch", ratio=1))[0] == "p6"  # (read into memory)
    engine.close()
    return tmp_path


def vector_file(data: Path) -> Path:
    [path] = (data / "indexes").glob(f"*/{VECTOR_FILE}")
    return path


def forget_vectors_in_sqlite(data: Path) -> None:
    """Take the vectors out of SQLite behind the engine's back (their write number unchanged):
    an index loaded from its file still has them, one built again from SQLite has none."""
    with sqlite3.connect(data / "engine.db") as conn:
        conn.execute("DELETE FROM vectors")


def reopened(data: Path, **query: Any) -> list[str]:
    engine = Engine(data / "engine.db")
    try:
        return ids(search(engine, "couch", ratio=1, **query))
    finally:
        engine.close()


def test_a_restart_loads_the_saved_index_and_answers_the_same(data: Path) -> None:
    before = vector_file(data).read_bytes()
    forget_vectors_in_sqlite(data)
    assert reopened(data)[0] == "p6"  # from the file, which was trusted
    assert vector_file(data).read_bytes() == before  # nothing changed: not saved again


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _empty(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize("spoil", [_truncate, _damage, _empty])
def test_a_damaged_file_is_built_again_not_trusted(
    data: Path, spoil: Callable[[Path], None]
) -> None:
    assert reopened(data)[0] == "p6"
    spoil(vector_file(data))
    assert reopened(data)[0] == "p6"  # built again from SQLite, and saved again
    forget_vectors_in_sqlite(data)
    spoil(vector_file(data))
    assert reopened(data) == []  # built again from SQLite, which now has none


def test_a_file_behind_the_writes_is_caught_up(data: Path) -> None:
    older = data / "older"
    shutil.copy(vector_file(data), older)
    engine = Engine(data / "engine.db")
    engine.delete("ns", "shop", "p6")
    engine.close()
    shutil.copy(older, vector_file(data))
    assert "p6" not in reopened(data)
    engine = Engine(data / "engine.db")
    engine.upsert("ns", "shop", [SOFA], list(embed([text_of(SOFA)])), MODEL)
    engine.close()
    shutil.copy(older, vector_file(data))
    assert reopened(data)[0] == "p6"


def test_a_file_from_before_the_vectors_were_cleared_is_not_trusted(data: Path) -> None:
    older = data / "older"
    shutil.copy(vector_file(data), older)
    engine = Engine(data / "engine.db")
    engine.set_embedding("ns", "shop", {**SETTINGS, "model": "another"})  # (clears them)
    engine.set_embedding("ns", "shop", SETTINGS)
    engine.upsert("ns", "shop", [SOFA], list(embed([text_of(SOFA)])), MODEL)
    engine.close()
    shutil.copy(older, vector_file(data))
    assert reopened(data) == ["p6"]  # the one vector made since, not the file's six


def test_a_file_ahead_of_sqlite_is_not_trusted(data: Path) -> None:
    backup = data / "backup"
    backup.mkdir()
    for path in data.glob("engine.db*"):
        shutil.copy(path, backup / path.name)
    engine = Engine(data / "engine.db")
    engine.delete("ns", "shop", "p6")
    hose = {"document_id": "p8", "title": "Garden hose", "description": "Twenty metres."}
    engine.upsert("ns", "shop", [hose], list(embed([text_of(hose)])), MODEL)
    assert "p6" not in ids(search(engine, "couch", ratio=1))
    engine.close()  # the file now holds the hose (in the sofa's row), at a later write
    for path in backup.iterdir():
        shutil.copy(path, data / path.name)  # SQLite as it was: the sofa, no hose
    assert reopened(data)[0] == "p6"
