"""Many rows into one table in one statement, straight to the driver, in the SQL that SQLite
and PostgreSQL share. The search log's writer runs these for every batch, and compiling
SQLAlchemy's parameters row by row cost more than the statements themselves."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

# Parameters in one statement: SQLite takes 32,766 and PostgreSQL 65,535.
MAX_PARAMETERS = 30_000


def values_of(table: sa.Table) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A row (a dict by column name) as the tuple `insert` takes, in the table's order."""
    getter = operator.itemgetter(*(column.name for column in table.columns))
    return getter


def insert(
    conn: sa.Connection,
    table: sa.Table,
    values: Iterable[tuple[Any, ...]],
    *,
    keys: tuple[str, ...] = (),
    updates: dict[str, str] | None = None,
) -> None:
    """INSERT the tuples (every column, in the table's order); with `keys` and `updates`, a
    row whose keys are taken sets `column = expression` instead, where an expression reads
    the row there as `<table>.<column>` and the new one as `excluded.<column>`. No two
    tuples may share their keys.

    The rows go as few statements of many rows each, not one statement a row: a driver lets
    go of Python's lock for each statement it runs, and a writer thread that has to take it
    back from a busy event loop thousands of times a batch waits seconds for it."""
    columns = [column.name for column in table.columns]
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    one = f"({', '.join([mark] * len(columns))})"
    conflict = ""
    if updates:
        assignments = ", ".join(f"{name} = {expression}" for name, expression in updates.items())
        conflict = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}"
    rows = list(values)
    size = max(MAX_PARAMETERS // len(columns), 1)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        statement = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - our own names
            f"VALUES {', '.join([one] * len(chunk))}{conflict}"
        )
        conn.exec_driver_sql(statement, tuple(itertools.chain.from_iterable(chunk)))
