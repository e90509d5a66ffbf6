"""Persistence: one code path over SQLite (default) and PostgreSQL.

`Store.read()` and `Store.write()` hand out a `Transaction` whose methods are the only SQL in
the project. A write transaction is atomic and serialised against other writers (SQLite:
`BEGIN IMMEDIATE`; PostgreSQL: row locks), so that a rejected change leaves nothing behind and
concurrent read-modify-writes lose no update.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc

from app.adapters import like, outages
from app.adapters.store import migrations, tables, time_limit
from app.adapters.store.records import PublishedRecord, RetrieverRecord
from app.adapters.store.tables import interactions, owner_keys, published, retrievers, secrets
from app.schemas.roles import ORGANIZATION

__all__ = ["PublishedRecord", "RetrieverRecord", "Store", "Transaction", "UniqueViolation"]

SQLITE_BUSY_TIMEOUT_SECONDS = 30
MIGRATION_LOCK_ID = 0x5245_5450  # "RETP": any constant shared by every process of the app


R = TypeVar("R", RetrieverRecord, PublishedRecord)


class UniqueViolation(Exception):
    """A write hit a unique constraint (a name taken meanwhile by another writer)."""


def _normalise_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


class Store:
    def __init__(self, url: str, time_limit_seconds: float = time_limit.DEFAULT_SECONDS) -> None:
        """`time_limit_seconds`: the longest wait on PostgreSQL (`time_limit`)."""
        self.url = _normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = self._sqlite_engine()
        else:
            self.engine = sa.create_engine(
                self.url, pool_size=10, max_overflow=10, pool_timeout=time_limit_seconds,
                connect_args=time_limit.connect_args(time_limit_seconds),
            )  # fmt: skip
            time_limit.install(self.engine, time_limit_seconds)

    def _sqlite_engine(self) -> sa.Engine:
        url = sa.make_url(self.url)
        path = url.database or ""
        if path.startswith("file:"):  # an SQLite URI filename (say, ?mode=ro): used as given
            path = ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(self.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control from the driver so that BEGIN IMMEDIATE is ours to send.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            writing = conn.get_execution_options().get("write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

        return engine

    def migrate(self) -> int:
        """Bring the schema to this release's version; safe to run from many processes.

        A store already at this version is only read, so a read-only store still starts."""
        with self._begin(write=False) as conn:
            if migrations.stored_version(conn) == migrations.LATEST:
                return migrations.LATEST
        with self._begin(write=True) as conn:
            if not self.is_sqlite:
                time_limit.unlimited(conn)
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_ID)))
            return migrations.upgrade(conn)

    @contextmanager
    def _begin(self, *, write: bool) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(write=write)
                with conn.begin():
                    yield conn
        except exc.IntegrityError as error:
            raise UniqueViolation(str(error.orig)) from None
        except Exception as error:
            failure = outages.unavailable(error)
            if failure is None:
                raise
            raise failure from None

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        with self._begin(write=False) as conn:
            yield Transaction(conn, self.is_sqlite)

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        with self._begin(write=True) as conn:
            yield Transaction(conn, self.is_sqlite)

    def ping(self) -> None:
        with self._begin(write=False) as conn:
            conn.execute(sa.text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()


class Transaction:
    """The queries, each scoped by namespace where the resource has one."""

    def __init__(self, conn: sa.Connection, is_sqlite: bool) -> None:
        self.conn = conn
        self.is_sqlite = is_sqlite

    def _locked(self, query: sa.Select[Any]) -> sa.Select[Any]:
        # SQLite's BEGIN IMMEDIATE already holds the database's write lock.
        return query if self.is_sqlite else query.with_for_update()

    def _page(
        self,
        table: sa.Table,
        record: type[R],
        namespace: str,
        limit: int,
        offset: int,
        also: sa.ColumnElement[bool] | None = None,
    ) -> tuple[list[R], int]:
        """One page of a namespace's rows (those `also` keeps), oldest first, and their total."""
        where = table.c.namespace == namespace
        if also is not None:
            where = sa.and_(where, also)
        query = (
            sa.select(table)
            .where(where)
            .order_by(table.c.created_at, table.c.retriever_id)
            .limit(limit)
            .offset(offset)
        )
        records = [record.from_row(row._mapping) for row in self.conn.execute(query)]
        total = self.conn.execute(sa.select(sa.func.count()).select_from(table).where(where))
        return records, int(total.scalar_one())

    # Owner keys ---------------------------------------------------------------------------

    def add_owner_key(
        self, key_hash: str, namespace: str, label: str | None, now: str, role: str
    ) -> None:
        self.conn.execute(
            owner_keys.insert().values(
                key_hash=key_hash, namespace=namespace, label=label, created_at=now, role=role
            )
        )

    def owner_key(self, key_hash: str) -> tuple[str, str] | None:
        """(namespace, role) of a stored key."""
        query = sa.select(owner_keys.c.namespace, owner_keys.c.role).where(
            owner_keys.c.key_hash == key_hash
        )
        row = self.conn.execute(query).one_or_none()
        return None if row is None else (str(row.namespace), str(row.role))

    def list_owner_keys(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(sa.select(owner_keys).order_by(owner_keys.c.created_at))
        return [dict(row._mapping) for row in rows]

    def delete_owner_key(self, key_hash_prefix: str) -> int:
        query = owner_keys.delete().where(owner_keys.c.key_hash.startswith(key_hash_prefix))
        return self.conn.execute(query).rowcount

    # Retrievers ---------------------------------------------------------------------------

    def insert_retriever(self, record: RetrieverRecord) -> None:
        self.conn.execute(retrievers.insert().values(**record.as_row()))

    def get_retriever(self, namespace: str, retriever_id: str) -> RetrieverRecord | None:
        query = sa.select(retrievers).where(
            retrievers.c.namespace == namespace, retrievers.c.retriever_id == retriever_id
        )
        row = self.conn.execute(query).first()
        return None if row is None else RetrieverRecord.from_row(row._mapping)

    def retriever_name_taken(self, namespace: str, name: str) -> bool:
        query = sa.select(retrievers.c.retriever_id).where(
            retrievers.c.namespace == namespace, retrievers.c.retriever_name == name
        )
        return self.conn.execute(query).first() is not None

    def list_retrievers(
        self,
        namespace: str,
        limit: int,
        offset: int,
        search: str | None = None,
        case_sensitive: bool = False,
    ) -> tuple[list[RetrieverRecord], int]:
        """A page of retrievers; `search` is a substring of the id, name or description."""
        also = None
        if search:
            pattern = f"%{like.literal(search)}%"
            columns = [
                retrievers.c.retriever_id,
                retrievers.c.retriever_name,
                retrievers.c.description,
            ]
            if case_sensitive:
                # SQLite's LIKE folds ASCII case: find the text itself (instr, or strpos).
                find = sa.func.instr if self.conn.dialect.name == "sqlite" else sa.func.strpos
                also = sa.or_(*(find(c, search) > 0 for c in columns))
            else:
                also = sa.or_(
                    *(sa.func.lower(c).like(pattern.lower(), escape=like.ESCAPE) for c in columns)
                )
        return self._page(retrievers, RetrieverRecord, namespace, limit, offset, also)

    def delete_retriever(self, namespace: str, retriever_id: str) -> bool:
        # The published row goes in the same transaction (and by ON DELETE CASCADE as well).
        self.delete_published(namespace, retriever_id)
        query = retrievers.delete().where(
            retrievers.c.namespace == namespace, retrievers.c.retriever_id == retriever_id
        )
        return self.conn.execute(query).rowcount > 0

    def retrievers_using_secret(
        self, scope: str, secret_name: str
    ) -> list[tuple[str, dict[str, Any]]]:
        """(retriever id, backend) of each retriever whose key is this secret: in its
        namespace, or, for an organization secret, in any namespace without one of its own."""
        query = sa.select(retrievers.c.retriever_id, retrievers.c.namespace, retrievers.c.backend)
        if scope != ORGANIZATION:
            query = query.where(retrievers.c.namespace == scope)
        return [
            (row.retriever_id, dict(row.backend))
            for row in self.conn.execute(query)
            if row.backend.get("api_key_secret_name") == secret_name
            and (scope != ORGANIZATION or self.secret_scope(row.namespace, secret_name) == scope)
        ]

    # Published retrievers -----------------------------------------------------------------

    def insert_published(self, record: PublishedRecord) -> None:
        self.conn.execute(published.insert().values(**record.as_row()))

    def get_published(
        self, namespace: str, retriever_id: str, *, for_update: bool = False
    ) -> PublishedRecord | None:
        query = sa.select(published).where(
            published.c.namespace == namespace, published.c.retriever_id == retriever_id
        )
        if for_update:
            query = self._locked(query)
        row = self.conn.execute(query).first()
        return None if row is None else PublishedRecord.from_row(row._mapping)

    def get_published_by_name(self, public_name: str) -> PublishedRecord | None:
        query = sa.select(published).where(published.c.public_name == public_name)
        row = self.conn.execute(query).first()
        return None if row is None else PublishedRecord.from_row(row._mapping)

    def public_name_taken(self, public_name: str) -> bool:
        """Held by a published retriever, or by a page's slug (one namespace of URLs)."""
        query = sa.select(published.c.retriever_id).where(published.c.public_name == public_name)
        page = sa.select(tables.pages.c.page_id).where(tables.pages.c.slug == public_name)
        return self.conn.execute(query.union_all(page)).first() is not None

    def update_published(self, record: PublishedRecord) -> None:
        row = record.as_row()
        query = published.update().where(published.c.retriever_id == record.retriever_id)
        self.conn.execute(query.values(**row))

    def delete_published(self, namespace: str, retriever_id: str) -> bool:
        query = published.delete().where(
            published.c.namespace == namespace, published.c.retriever_id == retriever_id
        )
        return self.conn.execute(query).rowcount > 0

    def list_published(
        self, namespace: str, limit: int, offset: int
    ) -> tuple[list[PublishedRecord], int]:
        return self._page(published, PublishedRecord, namespace, limit, offset)

    def list_active_published(self, include_inactive: bool = False) -> list[PublishedRecord]:
        query = sa.select(published)
        if not include_inactive:
            query = query.where(published.c.is_active.is_(True))
        query = query.order_by(published.c.created_at, published.c.retriever_id)
        return [PublishedRecord.from_row(r._mapping) for r in self.conn.execute(query)]

    def published_using_secret(self, scope: str, secret_name: str) -> list[str]:
        """Public names of the pages whose password is this secret (see above for scopes)."""
        query = sa.select(published.c.public_name, published.c.namespace).where(
            published.c.password_secret_name == secret_name
        )
        if scope != ORGANIZATION:
            query = query.where(published.c.namespace == scope)
        return [
            str(row.public_name)
            for row in self.conn.execute(query)
            if scope != ORGANIZATION or self.secret_scope(row.namespace, secret_name) == scope
        ]

    # Secrets ------------------------------------------------------------------------------

    def get_secret_ciphertext(self, namespace: str, name: str) -> str | None:
        query = sa.select(secrets.c.ciphertext).where(
            secrets.c.namespace == namespace, secrets.c.secret_name == name
        )
        value = self.conn.execute(query).scalar_one_or_none()
        return None if value is None else str(value)

    def secret_exists(self, namespace: str, name: str) -> bool:
        return self.get_secret_ciphertext(namespace, name) is not None

    def secret_scope(self, namespace: str, name: str) -> str | None:
        """Where a name resolves from a namespace: its own secret, else the organization's."""
        query = sa.select(secrets.c.namespace).where(
            secrets.c.secret_name == name, secrets.c.namespace.in_([namespace, ORGANIZATION])
        )
        found = {str(row) for row in self.conn.execute(query).scalars()}
        if namespace in found:
            return namespace
        return ORGANIZATION if ORGANIZATION in found else None

    def insert_secret(self, namespace: str, name: str, ciphertext: str, now: str) -> None:
        self.conn.execute(
            secrets.insert().values(
                namespace=namespace,
                secret_name=name,
                ciphertext=ciphertext,
                created_at=now,
                updated_at=now,
            )
        )

    def replace_secret(self, namespace: str, name: str, ciphertext: str, now: str) -> bool:
        query = (
            secrets.update()
            .where(secrets.c.namespace == namespace, secrets.c.secret_name == name)
            .values(ciphertext=ciphertext, updated_at=now)
        )
        return self.conn.execute(query).rowcount > 0

    def delete_secret(self, namespace: str, name: str) -> bool:
        query = secrets.delete().where(
            secrets.c.namespace == namespace, secrets.c.secret_name == name
        )
        return self.conn.execute(query).rowcount > 0

    def list_secret_names(self, namespace: str) -> list[str]:
        """The names usable from a namespace: its own and the organization's."""
        query = (
            sa.select(secrets.c.secret_name)
            .where(secrets.c.namespace.in_([namespace, ORGANIZATION]))
            .distinct()
            .order_by(secrets.c.secret_name)
        )
        return [str(name) for name in self.conn.execute(query).scalars()]

    # Interactions -------------------------------------------------------------------------

    def insert_interaction(self, row: dict[str, Any]) -> None:
        self.conn.execute(interactions.insert().values(**row))

    def list_interactions(
        self, namespace: str, retriever_id: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        where = sa.and_(
            interactions.c.namespace == namespace, interactions.c.retriever_id == retriever_id
        )
        query = (
            sa.select(interactions)
            .where(where)
            .order_by(interactions.c.created_at.desc(), interactions.c.interaction_id)
            .limit(limit)
            .offset(offset)
        )
        rows = [dict(row._mapping) for row in self.conn.execute(query)]
        total = self.conn.execute(sa.select(sa.func.count()).select_from(interactions).where(where))
        return rows, int(total.scalar_one())
