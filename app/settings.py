"""One settings object, read from `RETRIEVER_PAGES_*` environment variables (and `.env`)."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.schemas.roles import parse_key_entry
from app.typesense_address import TypesenseAddress

ENV_PREFIX = "RETRIEVER_PAGES_"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
DATABASE_FILE = "retriever-pages.db"
MIN_SECRET_KEY_LENGTH = 32
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
# Unless told otherwise, one client address may hold 1/this of MAX_CONNECTIONS: enough for many
# browsers behind one NAT, while it takes ten addresses at least to fill the server.
CLIENT_SHARE_OF_CONNECTIONS = 10
# A host name or address, with an optional port; or an address with a /prefix.
UPSTREAM_ALLOW_ENTRY = re.compile(
    r"(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?|[0-9A-Fa-f:.]+/\d{1,3}"
)

# typesense://KEY@HOST:PORT[,HOST:PORT...] (typesenses:// for TLS): a Typesense cluster's nodes.

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
ANY_OR_LOOPBACK = frozenset({"0.0.0.0", "127.0.0.1", "::", "::1", "localhost"})  # noqa: S104


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it."""


class Settings(BaseSettings):
    """Everything an operator can set. Each field is one row of the settings table in
    docs/operations.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        default=Path("./data"),
        description="Directory for the SQLite store, the generated secret key and imported data.",
    )
    database_url: str | None = Field(
        default=None,
        description="`sqlite:///path` or `postgresql://user:pass@host/db`. "
        "Default: a SQLite file in the data directory.",
    )
    engine_url: str | None = Field(
        default=None,
        description="Where collections live, when not beside the store: "
        "`typesense://API_KEY@HOST:PORT[,HOST:PORT...]` names a Typesense cluster "
        "(`typesenses://` for TLS). Default: the embedded engine with a SQLite store, "
        "PostgreSQL with a PostgreSQL store.",
    )
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated owner keys. `KEY` works in every namespace; "
        "`NAMESPACE:KEY` only in that namespace; `@viewer`, `@editor` or `@owner` after either "
        "sets its role (owner when none).",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs cookies and encrypts stored secrets (32+ characters). "
        "Generated into the data directory on first start if unset.",
    )
    public_url: str = Field(
        default="http://localhost:8000",
        description="The server's public base URL, used for `public_url` and canonical links. "
        "Unset, it is the address served: `http://localhost:PORT` (`serve` and `demo` "
        "`--port`, 8000 by default), or `--host` when that names one address.",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="`memory://` (one process) or `redis://host:port/db` (shared by every "
        "process and machine).",
    )
    rate_limit_on_failure: Literal["fallback", "refuse"] = Field(
        default="fallback",
        description="When Redis is down: `fallback` counts in each process's memory, "
        "`refuse` answers 503.",
    )
    trusted_proxies: Annotated[list[Network], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated IPs or CIDR ranges of proxies whose `X-Forwarded-For` "
        "is believed.",
    )
    upstream_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated hosts, host:port pairs or CIDR networks that upstreams may "
        "reach although they are internal (loopback, private, link-local); none by default.",
    )
    unlock_cookie_max_age_seconds: int = Field(
        default=86_400,
        ge=60,
        le=30 * 86_400,
        description="How long the password form's cookie keeps a retriever unlocked.",
    )
    console_session_max_age_seconds: int = Field(
        default=12 * 3600,
        ge=300,
        le=30 * 86_400,
        description="How long a console session lasts after signing in with an owner key.",
    )
    max_body_bytes: int = Field(
        default=DEFAULT_MAX_BODY_BYTES,
        ge=1024,
        description="Largest request body accepted, in bytes; larger ones get 413 unread.",
    )
    upstream_timeout_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="How long a Mixpeek upstream may take to answer before the query gets 504.",
    )
    store_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="With PostgreSQL: how long one statement (or a free connection) may take "
        "before the request gets 503; a store that hangs then costs a request this long, "
        "not for ever.",
    )
    max_header_bytes: int = Field(
        default=32 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Largest request line and headers accepted, in bytes; more gets 431 "
        "(414 when the request line alone is longer).",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="How long a connection may take to send a request's headers; then 408.",
    )
    body_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Grace for a request body; after it the body must keep coming at "
        "MIN_BODY_BYTES_PER_SECOND on average, or the connection is closed.",
    )
    min_body_bytes_per_second: int = Field(
        default=1024,
        ge=1,
        description="The slowest average rate a request body may arrive at, past the grace.",
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        le=1_000_000,
        description="Open connections per server process; one more gets 503 and is closed.",
    )
    max_connections_per_client: int | None = Field(
        default=None,
        ge=1,
        le=1_000_000,
        description="Open connections per client address (an IPv6 /64) per server process; "
        "one more gets 429 and is closed. Behind a trusted proxy: requests in progress per "
        "forwarded address. Default: a tenth of MAX_CONNECTIONS.",
    )
    keep_alive_seconds: int = Field(
        default=5,
        ge=1,
        le=300,
        description="How long an idle keep-alive connection stays open.",
    )
    query_cache_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        le=16 * 1024**3,
        description="Memory for answers of retrievers that turn the query cache on, in bytes "
        "of JSON; the oldest answers go first (0: no query cache).",
    )
    search_log_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="How long the search log keeps a search for the insights; older ones are "
        "deleted once an hour.",
    )
    search_log_buffer: int = Field(
        default=10_000,
        ge=100,
        le=1_000_000,
        description="Searches each worker holds in memory between writes to the search log "
        "(once a second); past it a search is left out of the log and counted in "
        "searches_dropped_total, never kept waiting.",
    )
    suggest_after_sessions: int = Field(
        default=5,
        ge=1,
        le=1_000_000,
        description="A past query is suggested as people type only once this many distinct "
        "visitors (addresses, an IPv6 /64 each, a day each) searched it, and its searches "
        "found something.",
    )
    max_published_per_namespace: int = Field(
        default=100,
        ge=1,
        le=1_000_000,
        description="Published retrievers per namespace; one more publish is a 409 "
        "(GET /v1/retrievers/publish/stats says how many are left).",
    )
    single_tab_pages: bool = Field(
        default=True,
        description="Each published retriever is also a single-tab page at /p/{public_name} "
        "(as Mixpeek's publishing makes one), until a page of that slug is created.",
    )
    metrics_token: str | None = Field(
        default=None,
        min_length=16,
        description="When set, GET /metrics needs 'Authorization: Bearer <this token>'; "
        "unset, /metrics is open (keep it off the public network).",
    )
    access_log: bool = Field(
        default=False,
        description="Log one line a request (method, path, status, time, client network); "
        "off by default, it costs throughput.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`text` lines, or `json`: one object a line (time, level, logger, "
        "request_id, message).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="Log level of the server."
    )

    @field_validator("api_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_keys(cls, keys: list[str]) -> list[str]:
        for key in keys:
            entry = parse_key_entry(key)
            if len(entry.key) < 16:
                raise ValueError("each owner key must be at least 16 characters long")
            if key.split("@")[0].startswith(":"):
                raise ValueError("a namespaced key is written NAMESPACE:KEY")
        return keys

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("upstream_allow", mode="before")
    @classmethod
    def _split_allow(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("upstream_allow")
    @classmethod
    def _check_allow(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            if not UPSTREAM_ALLOW_ENTRY.fullmatch(entry):
                raise ValueError(
                    f"{entry[:60]!r} is not a host, host:port or CIDR network "
                    "(such as api.internal, localhost:8080 or 10.0.0.0/8)"
                )
        return entries

    @field_validator("rate_limit_storage")
    @classmethod
    def _check_rate_limit_storage(cls, value: str) -> str:
        if not value.startswith(("memory://", "redis://", "rediss://")):
            raise ValueError("must be memory:// or a redis:// URL")
        return value

    @field_validator("secret_key")
    @classmethod
    def _check_secret_key(cls, value: str | None) -> str | None:
        if value is not None and len(value) < MIN_SECRET_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_SECRET_KEY_LENGTH} characters long")
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("data_dir")
    @classmethod
    def _check_data_dir(cls, value: Path) -> Path:
        if value.exists() and not value.is_dir():
            raise ValueError(f"{value} is a file, not a directory")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite:", "postgresql")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("engine_url")
    @classmethod
    def _check_engine_url(cls, value: str | None) -> str | None:
        if value:
            TypesenseAddress.parse(value)  # (raises ValueError, which names what is wrong)
        return value or None

    @cached_property
    def typesense(self) -> TypesenseAddress | None:
        """The Typesense cluster that `engine_url` names, if it names one."""
        return TypesenseAddress.parse(self.engine_url) if self.engine_url else None

    def served_at(self, host: str, port: int) -> Settings:
        """These settings for a server listening on host:port: a public URL that was not set
        follows the address actually served, so links never name a port nobody listens on."""
        if "public_url" in self.model_fields_set:
            return self
        return self.model_copy(update={"public_url": local_url(host, port)})

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / DATABASE_FILE}"

    @cached_property
    def effective_max_connections_per_client(self) -> int:
        share = self.max_connections_per_client
        if share is None:
            share = max(1, self.max_connections // CLIENT_SHARE_OF_CONNECTIONS)
        return min(share, self.max_connections)

    @cached_property
    def effective_secret_key(self) -> str:
        """The configured key, or one generated once into the data directory and reused."""
        if self.secret_key:
            return self.secret_key
        return _load_or_create_secret_key(self.data_dir / SECRET_KEY_FILE)


def local_url(host: str, port: int) -> str:
    """`http://host:port` for a listening address; one that is every address (0.0.0.0, ::)
    or loopback is reached on this machine as localhost."""
    if host in ANY_OR_LOOPBACK:
        host = "localhost"
    elif ":" in host:
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{port}"


def _load_or_create_secret_key(path: Path) -> str:
    if path.exists():
        key = path.read_text().strip()
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise SettingsError(f"{path} holds a secret key shorter than {MIN_SECRET_KEY_LENGTH}")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # O_EXCL: if two workers start at once, exactly one key wins and both read it back.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load_or_create_secret_key(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; a bad value raises SettingsError naming it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ENV_PREFIX + "_".join(str(part) for part in error["loc"][:1]).upper()
            problems.append(f"{name}: {error['msg']}")
        raise SettingsError("bad setting: " + "; ".join(problems)) from None
