"""Many rows into one table in one statement, straight to the driver, in the SQL that SQLite
and PostgreSQL share. The search log's writer runs these for every batch, and compiling
SQLAlchemy's parameters row by row cost more than the statements themselves."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa


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
    the row there as `<table>.<column>` and the new one as `excluded.<column>`."""
    columns = [column.name for column in table.columns]
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 - our own names
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    if updates:
        assignments = ", ".join(f"{name} = {expression}" for name, expression in updates.items())
        statement += f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}"
    rows = list(values)
    if rows:
        conn.exec_driver_sql(statement, rows)
