"""The `retriever-pages` command: serve, demo, and the operator's tools, one module a family
(`serving.py`, `keys.py`, `collections.py`), each adding its commands to one parser."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.cli import collections, keys, serving
from app.errors import AppError
from app.settings import Settings, SettingsError, load_settings


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
    for family in (serving, keys, collections):
        family.add(commands.add_parser)
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
