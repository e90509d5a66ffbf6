"""The `retriever-pages` command: serve, demo, and the operator's tools."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.errors import AppError
from app.settings import ENV_PREFIX, Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from app.services.wiring import Services

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from app import logs
    from app.adapters.store import Store
    from app.web.app import create_app
    from app.web.server import PROTOCOL, ConnectionLimits, GuardedProtocol

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
        log_level=settings.log_level,
        access_log=False,  # the app's own access log has the request id and no full address
        log_config=None,  # logging is the app's (app/logs.py)
        proxy_headers=False,  # the app decides whom to trust (TRUSTED_PROXIES)
        http=PROTOCOL,  # uvicorn's httptools with limits on headers, bodies and connections
        timeout_keep_alive=settings.keep_alive_seconds,
    )


def _port(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: use 1 to 65535")
    return port


def _port_free(host: str, port: int) -> str | None:
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
    problem = _port_free(args.host, args.port)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    _serve(settings, args.host, args.port, args.workers)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app import urls
    from app.services.demo import DEMO_KEY_FILE, seed_demo

    problem = _port_free(args.host, args.port)
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
    print(f"Owner key:      {seeded.owner_key}  (namespace {seeded.namespace!r})")
    print(
        f"                kept in {settings.data_dir / DEMO_KEY_FILE} (readable by you only) "
        "so that the demo can show it again; the store keeps only its hash."
    )
    sys.stdout.flush()
    _serve(settings, args.host, args.port, 1)
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.schemas.roles import Role
    from app.services.wiring import build_services

    services = build_services(settings)
    services.store.migrate()
    key = services.keys.create_key(args.namespace, args.label, Role(args.role))
    print(key)
    print(
        f"{args.role.capitalize()} key for namespace {args.namespace!r}, stored (as its hash "
        f"only) in {settings.effective_database_url.removeprefix('sqlite:///')}. "
        "It is shown once.",
        file=sys.stderr,
    )
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.adapters.store import Store

    store = Store(settings.effective_database_url)
    store.migrate()
    with store.read() as tx:
        keys = tx.list_owner_keys()
    if not keys:
        print("No stored owner keys (keys from RETRIEVER_PAGES_API_KEYS are not listed).")
    for key in keys:
        label = key["label"] or ""
        print(
            f"{key['key_hash'][:12]}  {key['namespace']:<24} {key['role']:<6}  "
            f"{key['created_at']}  {label}"
        )
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from app.adapters.store import Store

    if len(args.key_id) < 8:
        print(
            "error: give at least 8 characters of the key id that 'keys list' shows",
            file=sys.stderr,
        )
        return 2
    store = Store(settings.effective_database_url)
    store.migrate()
    with store.write() as tx:
        removed = tx.delete_owner_key(args.key_id)
    if removed != 1:
        print(
            f"error: {removed} keys match {args.key_id!r}; nothing was revoked"
            if removed
            else f"error: no key matches {args.key_id!r}",
            file=sys.stderr,
        )
        return 1
    print(f"Revoked key {args.key_id}.")
    return 0


def _embed(services: Services, namespace: str, collection: str, show: bool) -> None:
    """Make the vectors a collection's documents lack, with progress."""
    import time

    import anyio

    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        if show:
            rate = done / max(time.monotonic() - started, 1e-6)
            print(
                f"\r{collection}: embedded {done:,} of {total:,}  {rate:,.0f} documents/s",
                end="",
                file=sys.stderr,
                flush=True,
            )

    made = anyio.run(services.embedding.fill, namespace, collection, progress)
    if show:
        print(file=sys.stderr)
    print(f"Embedded {made:,} documents in {time.monotonic() - started:.1f}s.")


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    import time
    from pathlib import Path

    import anyio

    from app.schemas.base import COLLECTION_NAME, COLLECTION_NAME_RULE
    from app.services.importing import ImportOptionsError, detect_format, import_file
    from app.services.keys import check_namespace
    from app.services.wiring import build_services

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no file at {path}", file=sys.stderr)
        return 2
    if not COLLECTION_NAME.fullmatch(args.collection):
        print(f"error: --collection must be {COLLECTION_NAME_RULE}", file=sys.stderr)
        return 2
    check_namespace(args.namespace)
    try:
        fmt = args.format or detect_format(path)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    show = sys.stderr.isatty() and not args.quiet

    def progress(rows: int, done: int, total: int) -> None:
        if show:
            rate = rows / max(time.monotonic() - started, 1e-6)
            share = 100 * done / total if total else 100
            print(
                f"\r{args.collection}: {share:5.1f}%  {rows:,} rows  {rate:,.0f} rows/s",
                end="",
                file=sys.stderr,
                flush=True,
            )

    services = build_services(settings)
    engine = services.engine
    try:
        report = import_file(
            engine,
            args.namespace,
            args.collection,
            path,
            fmt=fmt,
            progress=progress,
            list_fields=args.list_field,
            separator=args.separator,
        )
        total = engine.count(args.namespace, args.collection)
        if show:
            print(file=sys.stderr)
        elapsed = time.monotonic() - started
        print(
            f"Imported {report.imported:,} rows into {args.namespace}/{args.collection} "
            f"in {elapsed:.1f}s ({total:,} documents in the collection)."
        )
        if engine.embedding(args.namespace, args.collection) is not None:
            _embed(services, args.namespace, args.collection, show)
    except ImportOptionsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        anyio.run(services.aclose)
    if report.without_id:
        print(
            f"{report.without_id:,} rows had no document_id and were given new ids: importing "
            "this file again adds them again (give each row a document_id to update in place).",
            file=sys.stderr,
        )
    if report.skipped:
        print(f"Skipped {report.skipped:,} rows that could not be read:", file=sys.stderr)
        for line, reason in report.errors:
            print(f"  line {line}: {reason}", file=sys.stderr)
        if report.skipped > len(report.errors):
            print(f"  ... and {report.skipped - len(report.errors):,} more", file=sys.stderr)
        if not args.allow_skipped:
            print("(exit status 1: pass --allow-skipped to accept skipped rows)", file=sys.stderr)
            return 1
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app.adapters.store import Store

    version = Store(settings.effective_database_url).migrate()
    print(f"Store at schema version {version}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retriever-pages",
        description="Public search pages for retrievers. Settings come from "
        "RETRIEVER_PAGES_* environment variables (see docs/operations.md).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
        )
        sub.add_argument(
            "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
        )

    serve = commands.add_parser("serve", help="serve with the current settings")
    add_server_options(serve)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(func=cmd_serve)

    demo = commands.add_parser(
        "demo", help="seed a demo retriever (once), print its URL and an owner key, and serve"
    )
    add_server_options(demo)
    demo.set_defaults(func=cmd_demo)

    keys = commands.add_parser("keys", help="owner API keys").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    create = keys.add_parser("create", help="create an owner key for a namespace; prints it once")
    create.add_argument("--namespace", required=True, help="the namespace the key acts in")
    create.add_argument("--label", help="a note to recognise the key by in 'keys list'")
    create.add_argument(
        "--role",
        choices=["viewer", "editor", "owner"],
        default="owner",
        help="viewer reads; editor also creates, changes and publishes; owner also handles "
        "secrets and deletes (default owner)",
    )
    create.set_defaults(func=cmd_keys_create)
    listing = keys.add_parser("list", help="list stored keys (id prefix, namespace, label)")
    listing.set_defaults(func=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a stored key by the id 'keys list' shows")
    revoke.add_argument("key_id", help="the key id (at least 8 characters)")
    revoke.set_defaults(func=cmd_keys_revoke)

    importer = commands.add_parser(
        "import", help="import a JSONL or CSV file into a collection of the embedded engine"
    )
    importer.add_argument("file", help="a .jsonl (one JSON object a line) or .csv file")
    importer.add_argument("--collection", required=True, help="the collection to fill")
    importer.add_argument("--namespace", required=True, help="the namespace it belongs to")
    importer.add_argument("--format", choices=["jsonl", "csv"], help="override the file suffix")
    importer.add_argument("--quiet", action="store_true", help="no progress line")
    importer.add_argument(
        "--list-field",
        action="append",
        default=[],
        metavar="COLUMN",
        help="CSV: a column whose cells are lists of items between separators (repeatable); "
        'a cell that is a JSON array, ["a", "b"], is a list in any column',
    )
    importer.add_argument(
        "--separator",
        help="what separates a list field's items in a cell (default |)",
    )
    importer.add_argument(
        "--allow-skipped",
        action="store_true",
        help="exit 0 even when some rows could not be read (they are listed either way)",
    )
    importer.set_defaults(func=cmd_import)

    migrate = commands.add_parser("migrate", help="bring the store's schema up to date")
    migrate.set_defaults(func=cmd_migrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        return int(args.func(args, settings))
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AppError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
