"""The store, on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.adapters.store import RetrieverRecord, Store, UniqueViolation
from app.adapters.store.migrations import LATEST, MIGRATIONS
from app.errors import StoreUnavailable


def _retriever(retriever_id: str = "ret_1", name: str = "products") -> RetrieverRecord:
    return RetrieverRecord(
        retriever_id=retriever_id,
        namespace="acme",
        retriever_name=name,
        description=None,
        input_schema={"query": {"type": "string"}},
        backend={"type": "local", "collection": "c", "search_fields": ["title"]},
        display_config=None,
        created_at="2026-01-01T00:00:00.000000+00:00",
        updated_at="2026-01-01T00:00:00.000000+00:00",
    )


def test_migrate_is_idempotent_and_records_the_version(database_url: str) -> None:
    store = Store(database_url)
    assert store.migrate() == LATEST
    assert store.migrate() == LATEST
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).scalar_one() == LATEST
    store.close()


def test_keys_from_before_roles_become_owners(database_url: str) -> None:
    store = Store(database_url)
    with store.engine.begin() as conn:  # a store as release 2 left it, with one key
        conn.exec_driver_sql("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO schema_version (version) VALUES (0)")
        for migration in MIGRATIONS[:2]:
            migration(conn)
        conn.exec_driver_sql("UPDATE schema_version SET version = 2")
        conn.exec_driver_sql(
            "INSERT INTO owner_keys (key_hash, namespace, label, created_at) "
            "VALUES ('h1', 'acme', NULL, '2026-01-01')"
        )
    assert store.migrate() == LATEST
    with store.read() as tx:
        assert tx.owner_key("h1") == ("acme", "owner")
    store.close()


def test_a_second_store_on_the_same_database_sees_the_data(database_url: str) -> None:
    first = Store(database_url)
    first.migrate()
    with first.write() as tx:
        tx.insert_retriever(_retriever())
    second = Store(database_url)
    second.migrate()
    with second.read() as tx:
        record = tx.get_retriever("acme", "ret_1")
    assert record == _retriever()
    first.close()
    second.close()


def test_json_columns_round_trip_exactly(database_url: str) -> None:
    store = Store(database_url)
    store.migrate()
    record = _retriever().replace(
        display_config={"title": "Ünïcode ✓ <b>", "nested": {"list": [1, 2.5, None, True]}}
    )
    with store.write() as tx:
        tx.insert_retriever(record)
    with store.read() as tx:
        assert tx.get_retriever("acme", "ret_1") == record
    store.close()


def test_a_failed_write_transaction_leaves_nothing(database_url: str) -> None:
    store = Store(database_url)
    store.migrate()

    def half_done() -> None:
        with store.write() as tx:
            tx.insert_retriever(_retriever())
            raise RuntimeError("validation failed half way")

    with pytest.raises(RuntimeError):
        half_done()
    with store.read() as tx:
        assert tx.get_retriever("acme", "ret_1") is None
    store.close()


def test_unique_names_are_enforced_by_the_database(database_url: str) -> None:
    store = Store(database_url)
    store.migrate()
    with store.write() as tx:
        tx.insert_retriever(_retriever("ret_1"))
    with pytest.raises(UniqueViolation), store.write() as tx:
        tx.insert_retriever(_retriever("ret_2"))
    with store.read() as tx:
        records, total = tx.list_retrievers("acme", 10, 0)
    assert total == 1
    assert [r.retriever_id for r in records] == ["ret_1"]
    store.close()


def test_namespaces_do_not_see_each_other(database_url: str) -> None:
    store = Store(database_url)
    store.migrate()
    with store.write() as tx:
        tx.insert_retriever(_retriever())
    with store.read() as tx:
        assert tx.get_retriever("globex", "ret_1") is None
        assert tx.list_retrievers("globex", 10, 0) == ([], 0)
    store.close()


def test_an_unreachable_database_is_a_clear_error() -> None:
    store = Store("postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(StoreUnavailable, match="not answering"):
        store.ping()
    store.close()


def test_a_store_from_a_newer_release_is_refused(database_url: str) -> None:
    store = Store(database_url)
    store.migrate()
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE schema_version SET version = :v"), {"v": LATEST + 1})
    with pytest.raises(RuntimeError, match="newer than this release"):
        store.migrate()
    store.close()
