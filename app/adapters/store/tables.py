"""The store's tables, as SQLAlchemy Core objects that both SQLite and PostgreSQL run."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from app import jsonutil


class JSONText(sa.types.TypeDecorator[Any]):
    """JSON kept as text, so that both databases store and return it byte for byte alike."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else jsonutil.dumps(value).decode()

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else jsonutil.loads(value)


metadata = sa.MetaData()

schema_version = sa.Table(
    "schema_version", metadata, sa.Column("version", sa.Integer, nullable=False)
)

owner_keys = sa.Table(
    "owner_keys",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("label", sa.String(200)),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
)

retrievers = sa.Table(
    "retrievers",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("retriever_name", sa.String(100), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("input_schema", JSONText),
    sa.Column("backend", JSONText, nullable=False),
    sa.Column("display_config", JSONText),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("namespace", "retriever_name", name="uq_retrievers_name"),
)

published = sa.Table(
    "published",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("public_id", sa.String(40), nullable=False, unique=True),
    sa.Column("public_name", sa.String(50), nullable=False, unique=True),
    sa.Column("public_api_key", sa.String(80), nullable=False, unique=True),
    sa.Column("display_name", sa.String(100)),
    sa.Column("description", sa.Text),
    sa.Column("icon_base64", sa.Text),
    sa.Column("display_config", JSONText, nullable=False),
    sa.Column("rate_limit_config", JSONText, nullable=False),
    sa.Column("password_secret_name", sa.String(100)),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("tags", JSONText),
    sa.Column("category", sa.String(50)),
    sa.Column("retriever_metadata", JSONText),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

secrets = sa.Table(
    "secrets",
    metadata,
    sa.Column("namespace", sa.String(200), primary_key=True),
    sa.Column("secret_name", sa.String(100), primary_key=True),
    sa.Column("ciphertext", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("interaction_id", sa.String(40), primary_key=True),
    sa.Column("retriever_id", sa.String(40), nullable=False),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("document_id", sa.String(200), nullable=False),
    sa.Column("interaction_types", JSONText, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("execution_id", sa.String(100)),
    sa.Column("session_id", sa.String(100)),
    sa.Column("details", JSONText),
    sa.Column("created_at", sa.String(40), nullable=False),
)

# One row per public search (and per typeahead request, kept apart by `surface`): what a
# publisher's insights read. Only what was searched, never who: no address, key, password
# or cookie, and only exposed fields in `filters`, `facets` and `sort`.
search_log = sa.Table(
    "search_log",
    metadata,
    sa.Column("retriever_id", sa.String(40), nullable=False),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("surface", sa.String(20), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("query", sa.String(500)),
    sa.Column("filters", JSONText),
    sa.Column("facets", JSONText),
    sa.Column("sort", sa.String(210)),
    sa.Column("page_number", sa.Integer),
    sa.Column("page_size", sa.Integer),
    sa.Column("results", sa.Integer),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("mode", sa.String(20)),
    sa.Column("cached", sa.Boolean, nullable=False),
    sa.Column("execution_id", sa.String(40)),
    sa.Column("session_id", sa.String(100)),
    sa.Column("created_at", sa.String(40), nullable=False),
)

# Who searched a query, as the distinct sessions (or daily visitor pseudonyms) that did, and
# whether its last search by that session found anything: what learned suggestions rest on.
query_sessions = sa.Table(
    "query_sessions",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("query", sa.String(500), primary_key=True),
    sa.Column("session_id", sa.String(100), primary_key=True),
    sa.Column("found", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

# The search log's running totals (store/rollups.py).
search_hours = sa.Table(
    "search_hours",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("hour", sa.String(13), primary_key=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("searches", sa.Integer, nullable=False),
    sa.Column("no_results", sa.Integer, nullable=False),
    sa.Column("cached", sa.Integer, nullable=False),
    sa.Column("refused", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("latency_sum", sa.Float, nullable=False),
    sa.Column("cached_latency_sum", sa.Float, nullable=False),
    sa.Column("results_sum", sa.Integer, nullable=False),
    sa.Column("shown_sum", sa.Integer, nullable=False),
)


def _latencies(name: str, period: str, width: int) -> sa.Table:
    """Searches by latency bucket, and their total time, per retriever and `period`."""
    return sa.Table(
        name,
        metadata,
        sa.Column("retriever_id", sa.String(40), primary_key=True),
        sa.Column(period, sa.String(width), primary_key=True),
        sa.Column("cached", sa.Boolean, primary_key=True),
        sa.Column("bucket", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("total", sa.Float, nullable=False),
    )


latency_hours = _latencies("latency_hours", "hour", 13)
latency_days = _latencies("latency_days", "day", 10)

query_days = sa.Table(
    "query_days",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("query", sa.String(500), primary_key=True),
    sa.Column("searches", sa.Integer, nullable=False),
    sa.Column("no_results", sa.Integer, nullable=False),
    sa.Column("latency_sum", sa.Float, nullable=False),
)

filter_days = sa.Table(
    "filter_days",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("field", sa.String(200), primary_key=True),
    sa.Column("value", sa.String(210), primary_key=True),  # as JSON
    sa.Column("searches", sa.Integer, nullable=False),
)

# Clicks by the query of their search, whole past days at a time (store/clicks.py).
click_days = sa.Table(
    "click_days",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("query", sa.String(500), primary_key=True),  # "" for a search without one
    sa.Column("searches", sa.Integer, nullable=False),
    sa.Column("clicks", sa.Integer, nullable=False),
    sa.Column("position_sum", sa.Integer, nullable=False),
)

deep_click_days = sa.Table(
    "deep_click_days",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("query", sa.String(500), primary_key=True),
    sa.Column("document_id", sa.String(200), primary_key=True),
    sa.Column("clicks", sa.Integer, nullable=False),
)

# Up to where a rollup has gone (`clicks`: the first day not rolled up yet).
rollup_marks = sa.Table(
    "rollup_marks",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(40), nullable=False),
)

plugins = sa.Table(
    "plugins",
    metadata,
    sa.Column("plugin_id", sa.String(40), primary_key=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("tag", sa.String(50), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("blob", sa.Text),
    sa.Column("url", sa.String(2048)),
    sa.Column("is_draft", sa.Boolean, nullable=False),
    sa.Column("minimum_role_required", sa.String(10), nullable=False),
    sa.Column("version", sa.String(20), nullable=False),
    sa.Column("icon_tag", sa.String(50)),
    sa.Column("parameters", JSONText, nullable=False),
    sa.Column("permissions", JSONText, nullable=False),
    sa.Column("meta_version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

plugin_versions = sa.Table(
    "plugin_versions",
    metadata,
    sa.Column("plugin_id", sa.String(40), primary_key=True),
    sa.Column("version", sa.String(20), primary_key=True),
    sa.Column("blob", sa.Text),
    sa.Column("url", sa.String(2048)),
    sa.Column("created_at", sa.String(40), nullable=False),
)

plugin_listings = sa.Table(
    "plugin_listings",
    metadata,
    sa.Column("public_id", sa.String(40), primary_key=True),
    sa.Column("plugin_id", sa.String(40), nullable=False, unique=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("public_name", sa.String(50), nullable=False, unique=True),
    sa.Column("version", sa.String(20), nullable=False),
    sa.Column("trust_tier", sa.String(20), nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("icon", sa.Text),
    sa.Column("readme_markdown", sa.Text),
    sa.Column("tags", JSONText, nullable=False),
    sa.Column("category", sa.String(50)),
    sa.Column("model_dependencies", JSONText, nullable=False),
    sa.Column("sample_values", JSONText, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("install_count", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

plugin_installs = sa.Table(
    "plugin_installs",
    metadata,
    sa.Column("public_id", sa.String(40), primary_key=True),
    sa.Column("namespace", sa.String(200), primary_key=True),
    sa.Column("plugin_id", sa.String(40), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)

# Counters kept in the store, for the few counts that must outlive a Redis outage.
counts = sa.Table(
    "counts",
    metadata,
    sa.Column("counter_key", sa.String(300), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

# Each retriever's relevance rules, one JSON document a retriever (`store/relevance.py`).
relevance_rules = sa.Table(
    "relevance_rules",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("rules", JSONText, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)

page_drafts = sa.Table(
    "page_drafts",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("display_config", JSONText, nullable=False),
    sa.Column("saved_by", sa.String(200), nullable=False),
    sa.Column("saved_at", sa.String(40), nullable=False),
)

page_versions = sa.Table(
    "page_versions",
    metadata,
    sa.Column("retriever_id", sa.String(40), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("display_config", JSONText, nullable=False),
    sa.Column("published_by", sa.String(200), nullable=False),
    sa.Column("published_at", sa.String(40), nullable=False),
    sa.Column("note", sa.String(200)),
)

pages = sa.Table(
    "pages",
    metadata,
    sa.Column("page_id", sa.String(40), primary_key=True),
    sa.Column("namespace", sa.String(200), nullable=False),
    sa.Column("slug", sa.String(50), nullable=False, unique=True),
    sa.Column("config", JSONText, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
