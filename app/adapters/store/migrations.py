"""Schema versions. Each migration runs once, in order, inside one transaction.

Migrations are plain DDL that both SQLite and PostgreSQL accept, frozen as written: a later
change to `tables.py` gets a new migration here, never an edit of an old one, so that a store
created by any earlier release upgrades and keeps its data.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from app.adapters.store.tables import schema_version


def _v1(conn: sa.Connection) -> None:
    for statement in (
        """CREATE TABLE owner_keys (
            key_hash VARCHAR(64) PRIMARY KEY,
            namespace VARCHAR(200) NOT NULL,
            label VARCHAR(200),
            created_at VARCHAR(40) NOT NULL)""",
        """CREATE TABLE retrievers (
            retriever_id VARCHAR(40) PRIMARY KEY,
            namespace VARCHAR(200) NOT NULL,
            retriever_name VARCHAR(100) NOT NULL,
            description TEXT,
            input_schema TEXT,
            backend TEXT NOT NULL,
            display_config TEXT,
            created_at VARCHAR(40) NOT NULL,
            updated_at VARCHAR(40) NOT NULL,
            CONSTRAINT uq_retrievers_name UNIQUE (namespace, retriever_name))""",
        "CREATE INDEX ix_retrievers_namespace ON retrievers (namespace, created_at)",
        """CREATE TABLE published (
            retriever_id VARCHAR(40) PRIMARY KEY
                REFERENCES retrievers (retriever_id) ON DELETE CASCADE,
            namespace VARCHAR(200) NOT NULL,
            public_id VARCHAR(40) NOT NULL UNIQUE,
            public_name VARCHAR(50) NOT NULL UNIQUE,
            public_api_key VARCHAR(80) NOT NULL UNIQUE,
            display_name VARCHAR(100),
            description TEXT,
            icon_base64 TEXT,
            display_config TEXT NOT NULL,
            rate_limit_config TEXT NOT NULL,
            password_secret_name VARCHAR(100),
            is_active BOOLEAN NOT NULL,
            tags TEXT,
            category VARCHAR(50),
            retriever_metadata TEXT,
            created_at VARCHAR(40) NOT NULL,
            updated_at VARCHAR(40) NOT NULL,
            version INTEGER NOT NULL)""",
        "CREATE INDEX ix_published_namespace ON published (namespace, created_at)",
        """CREATE TABLE secrets (
            namespace VARCHAR(200) NOT NULL,
            secret_name VARCHAR(100) NOT NULL,
            ciphertext TEXT NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            updated_at VARCHAR(40) NOT NULL,
            PRIMARY KEY (namespace, secret_name))""",
    ):
        conn.exec_driver_sql(statement)


def _v2(conn: sa.Connection) -> None:
    conn.exec_driver_sql(
        """CREATE TABLE interactions (
            interaction_id VARCHAR(40) PRIMARY KEY,
            retriever_id VARCHAR(40) NOT NULL,
            namespace VARCHAR(200) NOT NULL,
            document_id VARCHAR(200) NOT NULL,
            interaction_types TEXT NOT NULL,
            position INTEGER NOT NULL,
            execution_id VARCHAR(100),
            session_id VARCHAR(100),
            details TEXT,
            created_at VARCHAR(40) NOT NULL)"""
    )
    conn.exec_driver_sql(
        "CREATE INDEX ix_interactions_retriever ON interactions (retriever_id, created_at)"
    )


def _v3(conn: sa.Connection) -> None:
    # Keys made before roles existed could do everything: they stay owners.
    conn.exec_driver_sql(
        "ALTER TABLE owner_keys ADD COLUMN role VARCHAR(10) NOT NULL DEFAULT 'owner'"
    )


def _v4(conn: sa.Connection) -> None:
    for statement in (
        """CREATE TABLE plugins (
            plugin_id VARCHAR(40) PRIMARY KEY,
            namespace VARCHAR(200) NOT NULL,
            tag VARCHAR(50) NOT NULL,
            name VARCHAR(100) NOT NULL,
            description TEXT,
            blob TEXT,
            url VARCHAR(2048),
            is_draft BOOLEAN NOT NULL,
            minimum_role_required VARCHAR(10) NOT NULL,
            version VARCHAR(20) NOT NULL,
            icon_tag VARCHAR(50),
            parameters TEXT NOT NULL,
            permissions TEXT NOT NULL,
            meta_version INTEGER NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            updated_at VARCHAR(40) NOT NULL,
            CONSTRAINT uq_plugins_tag UNIQUE (namespace, tag))""",
        "CREATE INDEX ix_plugins_namespace ON plugins (namespace, created_at)",
        """CREATE TABLE plugin_versions (
            plugin_id VARCHAR(40) NOT NULL REFERENCES plugins (plugin_id) ON DELETE CASCADE,
            version VARCHAR(20) NOT NULL,
            blob TEXT,
            url VARCHAR(2048),
            created_at VARCHAR(40) NOT NULL,
            PRIMARY KEY (plugin_id, version))""",
    ):
        conn.exec_driver_sql(statement)


def _v5(conn: sa.Connection) -> None:
    for statement in (
        """CREATE TABLE plugin_listings (
            public_id VARCHAR(40) PRIMARY KEY,
            plugin_id VARCHAR(40) NOT NULL UNIQUE
                REFERENCES plugins (plugin_id) ON DELETE CASCADE,
            namespace VARCHAR(200) NOT NULL,
            public_name VARCHAR(50) NOT NULL UNIQUE,
            version VARCHAR(20) NOT NULL,
            trust_tier VARCHAR(20) NOT NULL,
            description TEXT,
            icon TEXT,
            readme_markdown TEXT,
            tags TEXT NOT NULL,
            category VARCHAR(50),
            model_dependencies TEXT NOT NULL,
            sample_values TEXT NOT NULL,
            is_active BOOLEAN NOT NULL,
            install_count INTEGER NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            updated_at VARCHAR(40) NOT NULL)""",
        """CREATE TABLE plugin_installs (
            public_id VARCHAR(40) NOT NULL,
            namespace VARCHAR(200) NOT NULL,
            plugin_id VARCHAR(40) NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            PRIMARY KEY (public_id, namespace))""",
    ):
        conn.exec_driver_sql(statement)


def _v6(conn: sa.Connection) -> None:
    for statement in (
        """CREATE TABLE counts (
            counter_key VARCHAR(300) PRIMARY KEY,
            value INTEGER NOT NULL,
            expires_at FLOAT NOT NULL)""",
        "CREATE INDEX ix_counts_expires_at ON counts (expires_at)",
    ):
        conn.exec_driver_sql(statement)


def _v7(conn: sa.Connection) -> None:
    for statement in (
        """CREATE TABLE search_log (
            retriever_id VARCHAR(40) NOT NULL,
            namespace VARCHAR(200) NOT NULL,
            surface VARCHAR(20) NOT NULL,
            outcome VARCHAR(20) NOT NULL,
            query VARCHAR(500),
            filters TEXT,
            facets TEXT,
            sort VARCHAR(210),
            page_number INTEGER,
            page_size INTEGER,
            results INTEGER,
            latency_ms FLOAT NOT NULL,
            mode VARCHAR(20),
            cached BOOLEAN NOT NULL,
            execution_id VARCHAR(40),
            session_id VARCHAR(100),
            created_at VARCHAR(40) NOT NULL)""",
        "CREATE INDEX ix_search_log_retriever ON search_log (retriever_id, created_at)",
        "CREATE INDEX ix_search_log_created_at ON search_log (created_at)",
        "CREATE INDEX ix_search_log_execution ON search_log (execution_id)",
        "CREATE INDEX ix_interactions_execution ON interactions (execution_id)",
        """CREATE TABLE query_sessions (
            retriever_id VARCHAR(40) NOT NULL,
            query VARCHAR(500) NOT NULL,
            session_id VARCHAR(100) NOT NULL,
            found BOOLEAN NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            PRIMARY KEY (retriever_id, query, session_id))""",
        "CREATE INDEX ix_query_sessions_created_at ON query_sessions (created_at)",
        # Counts a query's sessions within a range from the index alone.
        "CREATE INDEX ix_query_sessions_query ON query_sessions (retriever_id, query, created_at)",
        """CREATE TABLE search_hours (
            retriever_id VARCHAR(40) NOT NULL,
            hour VARCHAR(13) NOT NULL,
            namespace VARCHAR(200) NOT NULL,
            searches INTEGER NOT NULL,
            no_results INTEGER NOT NULL,
            cached INTEGER NOT NULL,
            refused INTEGER NOT NULL,
            failed INTEGER NOT NULL,
            latency_sum FLOAT NOT NULL,
            cached_latency_sum FLOAT NOT NULL,
            results_sum INTEGER NOT NULL,
            shown_sum INTEGER NOT NULL,
            PRIMARY KEY (retriever_id, hour))""",
        """CREATE TABLE latency_hours (
            retriever_id VARCHAR(40) NOT NULL,
            hour VARCHAR(13) NOT NULL,
            cached BOOLEAN NOT NULL,
            bucket INTEGER NOT NULL,
            count INTEGER NOT NULL,
            total FLOAT NOT NULL,
            PRIMARY KEY (retriever_id, hour, cached, bucket))""",
        """CREATE TABLE latency_days (
            retriever_id VARCHAR(40) NOT NULL,
            day VARCHAR(10) NOT NULL,
            cached BOOLEAN NOT NULL,
            bucket INTEGER NOT NULL,
            count INTEGER NOT NULL,
            total FLOAT NOT NULL,
            PRIMARY KEY (retriever_id, day, cached, bucket))""",
        """CREATE TABLE query_days (
            retriever_id VARCHAR(40) NOT NULL,
            day VARCHAR(10) NOT NULL,
            query VARCHAR(500) NOT NULL,
            searches INTEGER NOT NULL,
            no_results INTEGER NOT NULL,
            latency_sum FLOAT NOT NULL,
            PRIMARY KEY (retriever_id, day, query))""",
        """CREATE TABLE filter_days (
            retriever_id VARCHAR(40) NOT NULL,
            day VARCHAR(10) NOT NULL,
            field VARCHAR(200) NOT NULL,
            value VARCHAR(210) NOT NULL,
            searches INTEGER NOT NULL,
            PRIMARY KEY (retriever_id, day, field, value))""",
    ):
        conn.exec_driver_sql(statement)


def _v8(conn: sa.Connection) -> None:
    """Each retriever's relevance rules (synonyms, curations, boosts, stop words), one JSON
    document a retriever, gone with it."""
    conn.exec_driver_sql(
        """CREATE TABLE relevance_rules (
            retriever_id VARCHAR(40) PRIMARY KEY
                REFERENCES retrievers (retriever_id) ON DELETE CASCADE,
            namespace VARCHAR(200) NOT NULL,
            rules TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at VARCHAR(40) NOT NULL)"""
    )


def _v9(conn: sa.Connection) -> None:
    """Clicks rolled up by day and query (store/clicks.py), and the mark of how far."""
    for statement in (
        """CREATE TABLE click_days (
            retriever_id VARCHAR(40) NOT NULL,
            day VARCHAR(10) NOT NULL,
            query VARCHAR(500) NOT NULL,
            searches INTEGER NOT NULL,
            clicks INTEGER NOT NULL,
            position_sum INTEGER NOT NULL,
            PRIMARY KEY (retriever_id, day, query))""",
        """CREATE TABLE deep_click_days (
            retriever_id VARCHAR(40) NOT NULL,
            day VARCHAR(10) NOT NULL,
            query VARCHAR(500) NOT NULL,
            document_id VARCHAR(200) NOT NULL,
            clicks INTEGER NOT NULL,
            PRIMARY KEY (retriever_id, day, query, document_id))""",
        """CREATE TABLE rollup_marks (
            name VARCHAR(40) PRIMARY KEY,
            value VARCHAR(40) NOT NULL)""",
        # There from the start, so that two sweeps lock it in turn ("": nothing rolled yet).
        "INSERT INTO rollup_marks (name, value) VALUES ('clicks', '')",
    ):
        conn.exec_driver_sql(statement)


def _v10(conn: sa.Connection) -> None:
    """A retriever's page draft (saved in the console, not yet public) and the snapshot of
    each published version of its page, both gone with the retriever."""
    for statement in (
        """CREATE TABLE page_drafts (
            retriever_id VARCHAR(40) PRIMARY KEY
                REFERENCES retrievers (retriever_id) ON DELETE CASCADE,
            namespace VARCHAR(200) NOT NULL,
            display_config TEXT NOT NULL,
            saved_by VARCHAR(200) NOT NULL,
            saved_at VARCHAR(40) NOT NULL)""",
        """CREATE TABLE page_versions (
            retriever_id VARCHAR(40) NOT NULL
                REFERENCES retrievers (retriever_id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            namespace VARCHAR(200) NOT NULL,
            display_config TEXT NOT NULL,
            published_by VARCHAR(200) NOT NULL,
            published_at VARCHAR(40) NOT NULL,
            note VARCHAR(200),
            PRIMARY KEY (retriever_id, number))""",
    ):
        conn.exec_driver_sql(statement)


def _v11(conn: sa.Connection) -> None:
    """Pages (`/p/{slug}`): tabs over a namespace's published retrievers, with sections. The
    slug is unique on the server; the page's body (tabs, sections) is one JSON document."""
    for statement in (
        """CREATE TABLE pages (
            page_id VARCHAR(40) PRIMARY KEY,
            namespace VARCHAR(200) NOT NULL,
            slug VARCHAR(50) NOT NULL UNIQUE,
            config TEXT NOT NULL,
            is_active BOOLEAN NOT NULL,
            version INTEGER NOT NULL,
            created_at VARCHAR(40) NOT NULL,
            updated_at VARCHAR(40) NOT NULL)""",
        "CREATE INDEX ix_pages_namespace ON pages (namespace, created_at)",
    ):
        conn.exec_driver_sql(statement)


MIGRATIONS: list[Callable[[sa.Connection], None]] = [
    _v1,
    _v2,
    _v3,
    _v4,
    _v5,
    _v6,
    _v7,
    _v8,
    _v9,
    _v10,
    _v11,
]
LATEST = len(MIGRATIONS)


def stored_version(conn: sa.Connection) -> int | None:
    """The schema's version, read without writing anything (None for a new store)."""
    if not sa.inspect(conn).has_table("schema_version"):
        return None
    return int(conn.execute(sa.select(schema_version.c.version)).scalar_one())


def current_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table("schema_version"):
        conn.exec_driver_sql("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute(schema_version.insert().values(version=0))
        return 0
    version = conn.execute(sa.select(schema_version.c.version)).scalar_one()
    return int(version)


def upgrade(conn: sa.Connection) -> int:
    """Apply the pending migrations on `conn` (already in a locked transaction)."""
    version = current_version(conn)
    if version > LATEST:
        raise RuntimeError(
            f"the store is at schema version {version}, newer than this release ({LATEST})"
        )
    for number in range(version + 1, LATEST + 1):
        MIGRATIONS[number - 1](conn)
        conn.execute(schema_version.update().values(version=number))
    return LATEST
