"""The `retriever-pages` command: serve, demo, and the operator's tools."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.errors import AppError
from app.settings import Settings, SettingsError, load_settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    from app.main import create_app
    from app.store import Store

    # Migrate once here, before the workers start, so they do not race to do it.
    Store(settings.effective_database_url).migrate()
    # One worker runs these very settings; several re-read them from the environment.
    target: object = create_app(settings) if workers == 1 else "app.main:create_app"
    uvicorn.run(
        target,  # type: ignore[arg-type]
        factory=workers > 1,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=False,  # the app decides whom to trust (TRUSTED_PROXIES)
    )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    _serve(settings, args.host, args.port, args.workers)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from app.demo import seed_demo

    public_url = settings.public_url
    if public_url == Settings.model_fields["public_url"].default:
        # The default names port 8000; follow the port actually chosen.
        host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host  # noqa: S104
        public_url = f"http://{host}:{args.port}"
        settings = settings.model_copy(update={"public_url": public_url})
    seeded = seed_demo(settings)
    print(f"Demo retriever: {seeded.page_url}")
    print(f"Public config:  {public_url}/v1/public/retrievers/{seeded.public_name}/config")
    print(f"Owner key:      {seeded.owner_key}  (namespace {seeded.namespace!r})")
    if seeded.created:
        print("                shown once; only its hash is stored.")
    sys.stdout.flush()
    _serve(settings, args.host, args.port, 1)
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from app.context import build_context

    ctx = build_context(settings)
    ctx.store.migrate()
    key = ctx.owners.create_key(args.namespace, args.label)
    print(key)
    print(
        f"Owner key for namespace {args.namespace!r}. It is shown once: only its hash is stored.",
        file=sys.stderr,
    )
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    from app.store import Store

    store = Store(settings.effective_database_url)
    store.migrate()
    with store.read() as tx:
        keys = tx.list_owner_keys()
    if not keys:
        print("No stored owner keys (keys from RETRIEVER_PAGES_API_KEYS are not listed).")
    for key in keys:
        label = key["label"] or ""
        print(f"{key['key_hash'][:12]}  {key['namespace']:<24} {key['created_at']}  {label}")
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from app.store import Store

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


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app.store import Store

    version = Store(settings.effective_database_url).migrate()
    print(f"Store at schema version {version}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="retriever-pages",
        description="Public search pages for retrievers. Settings come from "
        "RETRIEVER_PAGES_* environment variables (see the README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_server_options(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
        )
        sub.add_argument(
            "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
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
    create.set_defaults(func=cmd_keys_create)
    listing = keys.add_parser("list", help="list stored keys (id prefix, namespace, label)")
    listing.set_defaults(func=cmd_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a stored key by the id 'keys list' shows")
    revoke.add_argument("key_id", help="the key id (at least 8 characters)")
    revoke.set_defaults(func=cmd_keys_revoke)

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
