"""Many rows in few statements (the search log's writes), on SQLite and PostgreSQL: more rows
than one statement may carry all go in, and an upsert adds to the rows already there."""

from __future__ import annotations

import sqlalchemy as sa

from app.adapters.store import Store, bulk
from app.adapters.store.tables import query_days

COLUMNS = len(query_days.columns)


def _totals(store: Store) -> dict[str, tuple[int, int, float]]:
    with store.read() as tx:
        rows = tx.conn.execute(sa.select(query_days).where(query_days.c.retriever_id == "ret_1"))
        return {row.query: (row.searches, row.no_results, row.latency_sum) for row in rows}


def test_rows_beyond_one_statement_all_go_in_and_add_up_on_a_second_write(
    database_url: str,
) -> None:
    store = Store(database_url)
    store.migrate()
    many = bulk.MAX_PARAMETERS // COLUMNS * 2 + 7  # three statements
    rows = [("ret_1", "2026-12-01", f"query {n}", 1, n % 2, 1.5) for n in range(many)]
    added = {name: f"query_days.{name} + excluded.{name}" for name in ("searches", "latency_sum")}
    keys = ("retriever_id", "day", "query")
    with store.write() as tx:
        bulk.insert(tx.conn, query_days, rows, keys=keys, updates=added)
    with store.write() as tx:
        bulk.insert(tx.conn, query_days, rows[:3], keys=keys, updates=added)

    totals = _totals(store)
    assert len(totals) == many
    assert totals["query 0"] == (2, 0, 3.0)  # added to
    assert totals["query 1"] == (2, 1, 3.0)  # (`no_results` not among the updates: kept)
    assert totals[f"query {many - 1}"] == (1, (many - 1) % 2, 1.5)
    store.close()


def test_nothing_to_write_runs_no_statement(database_url: str) -> None:
    store = Store(database_url)
    store.migrate()
    with store.write() as tx:
        bulk.insert(tx.conn, query_days, [])
    assert _totals(store) == {}
    store.close()
