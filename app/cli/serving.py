"""Serving: `serve` and `demo`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from app.settings import ENV_PREFIX, Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from app import logs
    from app.adapters.store import Store
    from app.web.app import create_app
    from app.web.server import ConnectionLimits, GuardedProtocol

    logs.configure(settings.log_level, settings.log_format)
    settings = settings.served_at(host, port)
    if workers > 1:
        # Each worker reads its settings from the environment: hand it the URL served.
        os.environ[f"{ENV_PREFIX}PUBLIC_URL"] = settings.public_url

    GuardedProtocol.configured = ConnectionLimits.of(settings)  # workers read their own
    # Migrate once here, before the workers start, so they do not race to do it.
    Store(settings.effective_database_url).migrate()
    # One worker runs these very settings; several re-read them from the environment.
    target: object = create_app(settings) if workers == 1 else "app.web.app:create_app"
    uvicorn.run(
        target,  # type: ignore[arg-type]
        factory=workers > 1,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(settings),
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How `serve` runs uvicorn, whatever the address and the workers."""
    from app.web.server import PROTOCOL

    return {
        "log_level": settings.log_level,
        "access_log": False,  # the app's own access log has the request id and no full address
        "log_config": None,  # logging is the app's (app/logs.py)
        "proxy_headers": False,  # the app decides whom to trust (TRUSTED_PROXIES)
        "http": PROTOCOL,  # uvicorn's httptools with limits on headers, bodies and connections
        "timeout_keep_alive": settings.keep_alive_seconds,
    }


def port(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1 to 65535")
    return port


def port_free(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, or None if it can: asked before any
    URL is printed, so that nobody is sent to a page this process will never serve."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return f"cannot listen on {host}:{port}: {error.strerror or error}"
    return None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    problem = port_free(args.host, args.port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    _serve(settings, args.host, args.port, args.workers)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app import urls
    from app.services.demo import DEMO_KEY_FILE, seed_demo

    problem = port_free(args.host, args.port)
    if problem:
        print(f"error: {problem} (choose another with --port)", file=sys.stderr)
        return 2
    settings = settings.served_at(args.host, args.port)
    public_url = settings.public_url
    seeded = seed_demo(settings)
    if seeded.imported:
        print(f"Imported {seeded.imported} sample products into {settings.data_dir}.")
    print(f"Demo retriever: {seeded.page_url}")
    print(f"Public config:  {urls.absolute(public_url, urls.public_config(seeded.public_name))}")
    print(f"Console:        {urls.absolute(public_url, urls.console())}  (sign in with the key)")
    print(f"Owner key:      {seeded.owner_key}  (namespace {seeded.namespace!r})")
    print(
        f"                kept in {settings.data_dir / DEMO_KEY_FILE} (readable by you only) "
        "so that the demo can show it again; the store keeps only its hash."
    )
    sys.stdout.flush()
    _serve(settings, args.host, args.port, 1)
    return 0


def add(command: Callable[..., argparse.ArgumentParser]) -> None:
    """`serve` and `demo`, made by `command` (the command line's `add_parser`)."""

    def add_server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
        )
        sub.add_argument(
            "--port", type=port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
        )

    serve = command("serve", help="serve with the current settings")
    add_server_options(serve)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(func=cmd_serve)

    demo = command(
        "demo", help="seed a demo retriever (once), print its URL and an owner key, and serve"
    )
    add_server_options(demo)
    demo.set_defaults(func=cmd_demo)
