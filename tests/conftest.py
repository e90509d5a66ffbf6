"""Shared fixtures: settings on a temporary data directory, an in-process client, a live
server on loopback, and a real PostgreSQL server started for the session."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app

OWNER_KEY = "test-owner-key-0123456789"
OTHER_KEY = "other-owner-key-0123456789"
NAMESPACE = "acme"
OTHER_NAMESPACE = "globex"
FIXTURES = Path(__file__).parent / "fixtures"
IN_CI = os.environ.get("CI") == "true"


def owner_headers(key: str = OWNER_KEY, namespace: str = NAMESPACE) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-Namespace": namespace}


def seed_update() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "seed_update.json").read_text())
    return data


def display_config(**overrides: Any) -> dict[str, Any]:
    """The seed's display config, a valid one to start every test from."""
    config = seed_update()["display_config"]
    config.update(overrides)
    return config


def browse_config(**overrides: Any) -> dict[str, Any]:
    """A display config whose one input, the query, may be left empty (browsing is a search)."""
    query = {
        "field_name": "query",
        "label": "Q",
        "required": False,
        "field_schema": {"type": "string"},
    }
    return display_config(inputs=[query], **overrides)


def protect(client: Any, retriever_id: str, password: str) -> dict[str, Any]:
    """Put a password on a published retriever (a secret named "pw"); returns the PATCH's
    answer."""
    client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "pw", "secret_value": password},
    )
    response = client.patch(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={"password_secret_name": "pw"},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def publish_over_upstream(
    client: Any, public_name: str, base_url: str, config: dict[str, Any], key: str
) -> str:
    """A retriever over a Mixpeek-compatible upstream at `base_url`, published with `config`
    and no rate limit; its key is the secret "up-key". Returns the retriever's id."""
    client.post(
        "/v1/organizations/secrets",
        headers=owner_headers(),
        json={"secret_name": "up-key", "secret_value": key},
    )
    backend = {
        "type": "mixpeek",
        "base_url": base_url,
        "retriever_id": "r",
        "namespace": "n",
        "api_key_secret_name": "up-key",
    }
    retriever_id: str = client.post(
        "/v1/retrievers",
        headers=owner_headers(),
        json={"retriever_name": public_name, "backend": backend},
    ).json()["retriever_id"]
    response = client.post(
        f"/v1/retrievers/{retriever_id}/publish",
        headers=owner_headers(),
        json={
            "public_name": public_name,
            "display_config": config,
            "rate_limit_config": {"tier": "unlimited"},
        },
    )
    assert response.status_code == 200, response.text
    return retriever_id


def local_backend(collection: str = "products") -> dict[str, Any]:
    return {"type": "local", "collection": collection, "search_fields": ["title", "description"]}


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "api_keys": [f"{NAMESPACE}:{OWNER_KEY}", f"{OTHER_NAMESPACE}:{OTHER_KEY}"],
            "public_url": "https://search.example.test",
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class LiveServer:
    """An ASGI app served by uvicorn on a loopback port, in a thread of the test process."""

    def __init__(self, app: Any, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings)) as server:
        yield server


@contextmanager
def server_process(data_dir: Path, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`retriever-pages serve` in a process of its own, on a loopback port, until the block
    ends (or the test kills it)."""
    port = free_port()
    environment = {
        **os.environ,
        "RETRIEVER_PAGES_DATA_DIR": str(data_dir),
        "RETRIEVER_PAGES_API_KEYS": f"{NAMESPACE}:{OWNER_KEY}",
        "RETRIEVER_PAGES_SECRET_KEY": "f" * 40,
        **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{url}/healthz")
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


# PostgreSQL -------------------------------------------------------------------------------


def _postgres_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresServer:
    """A throwaway PostgreSQL cluster on a loopback port."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # Not under pytest's tmp dir: that one is private to root, and the server runs as postgres.
        self.root = Path(tempfile.mkdtemp(prefix="retriever-pages-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root: run it as the 'postgres' user Debian creates.
            shutil.chown(self.root, "postgres")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "--no-sync")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.run_as, str(self.bindir / tool), *args], check=True, capture_output=True
        )

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off",
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_bindir() -> Path:
    bindir = _postgres_bin()
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
    import sqlalchemy as sa

    name = f"t{os.getpid()}_{time.monotonic_ns()}"
    admin = sa.create_engine(
        postgres_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs twice: on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


# Time and Redis --------------------------------------------------------------------------


class FakeClock:
    """An injectable clock that moves only when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        # 10 s into a minute, hour and day, so that windows do not roll over by accident.
        self.now = start or datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class RedisServer:
    """A real redis-server on a loopback port, with nothing saved to disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if IN_CI:
                pytest.fail("redis-server is not installed; scripts/test installs it")
            pytest.skip("redis-server is not installed (scripts/test installs it)")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
