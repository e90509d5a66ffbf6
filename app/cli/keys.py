"""Owner keys: `keys create`, `keys list`, `keys revoke`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from app.settings import Settings


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


def add(command: Callable[..., argparse.ArgumentParser]) -> None:
    """`keys` and its actions, made by `command` (the command line's `add_parser`)."""
    keys = command("keys", help="owner API keys").add_subparsers(
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
