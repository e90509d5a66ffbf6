"""Streaming import of JSONL and CSV files into the embedded engine.

Rows that cannot be read are reported (line and reason) and skipped; the rest go in, in
batches, so a file of any size imports in constant memory. A CSV cell holds a list either as
a JSON array (`["a", "b"]`) or, in a column named as a list field, as items between a
separator (`a|b`).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import orjson

from app.adapters.engine import SearchEngine

BATCH_SIZE = 10_000
MAX_REPORTED_ERRORS = 20
Format = Literal["jsonl", "csv", "json"]
Progress = Callable[[int, int, int], None]  # (rows read, bytes read, total bytes)

DEFAULT_SEPARATOR = "|"  # a list field's items in one cell: a comma would be the CSV's own

_INTEGER = re.compile(r"-?\d{1,18}")
_DECIMAL = re.compile(r"-?\d+\.\d+")


MAX_ID_FIELD_CHARS = 200


class ImportOptionsError(ValueError):
    """The import was asked for something the file cannot give; the message says what, and
    `option` which of the import's options (`list_fields`, `separator`, `id_field`) it is."""

    def __init__(self, message: str, option: str = "file") -> None:
        super().__init__(message)
        self.option = option


def check_id_field(name: str | None) -> str | None:
    """The id column (CSV) or key (JSON, JSONL) as given, trimmed; None when none is."""
    if name is None or not name.strip():
        return None
    name = name.strip()
    if len(name) > MAX_ID_FIELD_CHARS or any(ord(c) < 32 for c in name):
        raise ImportOptionsError(
            f"the id column must be a column's name: up to {MAX_ID_FIELD_CHARS} characters, "
            "none a control character",
            "id_field",
        )
    return name


@dataclass
class ImportReport:
    imported: int = 0
    skipped: int = 0
    without_id: int = 0  # rows given a new id: importing them again adds them again
    errors: list[tuple[int, str]] = field(default_factory=list)

    def skip(self, line: int, reason: str) -> None:
        self.skipped += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, reason))


class _CountingReader(io.RawIOBase):
    """Counts the bytes a text reader pulls, so progress can be shown for any format."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.count += len(data)
        return len(data)


def detect_format(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise ValueError(f"cannot tell the format of {path.name}: use .jsonl or .csv, or --format")


def import_file(
    engine: SearchEngine,
    namespace: str,
    collection: str,
    path: Path,
    *,
    fmt: Format | None = None,
    progress: Progress | None = None,
    list_fields: Collection[str] = (),
    separator: str | None = None,
    id_field: str | None = None,
) -> ImportReport:
    """Import `path` into the collection. `list_fields` (CSV only) names the columns whose
    cells are lists of items between `separator`s (`|` unless told); `id_field`, the column
    or key whose value is each document's id (see `import_stream`)."""
    fmt = fmt or detect_format(path)
    with path.open("rb") as raw:
        return import_stream(
            engine,
            namespace,
            collection,
            raw,
            fmt,
            total_bytes=path.stat().st_size,
            progress=progress,
            list_fields=list_fields,
            separator=separator,
            id_field=id_field,
        )


def import_stream(
    engine: SearchEngine,
    namespace: str,
    collection: str,
    raw: IO[bytes],
    fmt: Format,
    *,
    total_bytes: int = 0,
    progress: Progress | None = None,
    list_fields: Collection[str] = (),
    separator: str | None = None,
    id_field: str | None = None,
) -> ImportReport:
    """Import a file already open (an upload, say) in the format given. A `json` file is
    one array of documents (or `{"documents": [...]}`), read whole: its rows are numbered
    from 1 by their place in the array. With `id_field`, each row's value of that column
    (or key) is its `document_id`, so that importing the file again replaces its documents:
    a row without one, with an empty one or with one an earlier row had is reported and
    skipped (the ids seen are kept in memory to tell)."""
    if list_fields and fmt != "csv":
        raise ImportOptionsError(
            "--list-field is for CSV files: JSONL holds lists as they are", "list_fields"
        )
    if separator is not None and not list_fields:
        raise ImportOptionsError(
            "--separator goes with --list-field, the columns it splits", "separator"
        )
    separator = DEFAULT_SEPARATOR if separator is None else separator
    if not separator.strip():
        raise ImportOptionsError(
            "--separator must be a character or more that is not a space", "separator"
        )
    id_field = check_id_field(id_field)
    seen: dict[str, int] = {}
    report = ImportReport()
    batch: list[dict[str, Any]] = []
    counter = _CountingReader(raw)
    buffered = io.BufferedReader(counter)
    rows: Iterator[tuple[int, dict[str, Any] | str]]
    if fmt == "jsonl":
        rows = _jsonl_rows(buffered)
    elif fmt == "json":
        rows = _json_rows(buffered.read())
    else:
        text = io.TextIOWrapper(buffered, encoding="utf-8", newline="")
        rows = _csv_rows(text, frozenset(list_fields), separator, id_field)
    for line, row in rows:
        if isinstance(row, dict) and id_field is not None:
            row = _identified(row, id_field, line, seen)
        if isinstance(row, str):
            report.skip(line, row)
            continue
        if row.get("document_id") in (None, ""):
            report.without_id += 1
        batch.append(row)
        if len(batch) >= BATCH_SIZE:
            report.imported += _flush(engine, namespace, collection, batch)
            if progress:
                progress(report.imported + report.skipped, counter.count, total_bytes)
    report.imported += _flush(engine, namespace, collection, batch)
    if progress:
        progress(report.imported + report.skipped, total_bytes, total_bytes)
    return report


def _flush(
    engine: SearchEngine, namespace: str, collection: str, batch: list[dict[str, Any]]
) -> int:
    if not batch:
        return 0
    engine.upsert(namespace, collection, batch)
    count = len(batch)
    batch.clear()
    return count


def _jsonl_rows(lines: IO[bytes]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    for line, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            reason = "not UTF-8" if "utf-8" in str(error).lower() else f"not JSON ({error.msg})"
            yield line, reason
            continue
        yield line, _checked(value)


def _json_rows(data: bytes) -> Iterator[tuple[int, dict[str, Any] | str]]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        yield 1, f"the file is not JSON ({error.msg})"
        return
    if isinstance(value, dict) and isinstance(value.get("documents"), list):
        value = value["documents"]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        yield 1, "the file holds neither a list of documents nor one document"
        return
    for number, item in enumerate(value, start=1):
        yield number, _checked(item)


def _identified(
    row: dict[str, Any], id_field: str, line: int, seen: dict[str, int]
) -> dict[str, Any] | str:
    """The row with its `id_field`'s value as its `document_id`, or why it has none."""
    value = row.get(id_field)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        if value is None or value == "":
            return f"no {id_field}: the id column is empty"
        return f"{id_field} must be a text or a whole number to be an id"
    if isinstance(value, float):
        if not value.is_integer():
            return f"{id_field} must be a text or a whole number to be an id"
        value = int(value)
    document_id = str(value).strip()
    if not document_id:
        return f"no {id_field}: the id column is empty"
    if len(document_id) > MAX_ID_FIELD_CHARS:
        return f"{id_field} is longer than {MAX_ID_FIELD_CHARS} characters"
    first = seen.setdefault(document_id, line)
    if first != line:
        return f"{id_field} {document_id!r} is on row {first} already"
    row["document_id"] = document_id
    return row


def _csv_rows(
    text: IO[str], list_fields: frozenset[str], separator: str, id_field: str | None = None
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        return
    except (csv.Error, UnicodeDecodeError) as error:
        yield 1, f"the header cannot be read ({error})"
        return
    names = [name.strip() for name in header]
    missing = sorted(list_fields - set(names))
    if missing:
        raise ImportOptionsError(
            f"--list-field {missing[0]!r}: the header has no such column "
            f"(its columns: {', '.join(names)})",
            "list_fields",
        )
    if id_field is not None and id_field not in names:
        raise ImportOptionsError(
            f"the id column {id_field!r} is not in the header (its columns: {', '.join(names)})",
            "id_field",
        )
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as error:
            yield reader.line_num, f"the row cannot be read ({error})"
            return
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(names):
            yield reader.line_num, f"{len(cells)} cells where the header has {len(names)}"
            continue
        row = {
            name: _items(cell, separator)
            if name in list_fields
            else cell.strip()  # an id as written: "0012" stays "0012"
            if name == id_field
            else _cell(cell)
            for name, cell in zip(names, cells, strict=True)
            if cell != ""
        }
        yield reader.line_num, _checked(row)


def _items(cell: str, separator: str) -> list[Any]:
    """A list field's cell: a JSON array as it is, else the items between separators, each
    typed as a cell of its own."""
    array = _json_array(cell)
    if array is not None:
        return array
    return [_cell(item.strip()) for item in cell.split(separator) if item.strip()]


def _json_array(cell: str) -> list[Any] | None:
    if not (cell.startswith("[") and cell.endswith("]")):
        return None
    try:
        value = orjson.loads(cell)
    except orjson.JSONDecodeError:
        return None  # "[draft]" is text
    return value if isinstance(value, list) else None


def _cell(cell: str) -> Any:
    """CSV has only text: numbers and true/false become JSON numbers and booleans, and a JSON
    array (`["a", "b"]`) a list."""
    array = _json_array(cell)
    if array is not None:
        return array
    if _INTEGER.fullmatch(cell):
        return int(cell)
    if _DECIMAL.fullmatch(cell):
        return float(cell)
    if cell in ("true", "false"):
        return cell == "true"
    return cell


def _checked(value: Any) -> dict[str, Any] | str:
    if not isinstance(value, dict):
        return "not a JSON object"
    document_id = value.get("document_id")
    if document_id is not None:
        if isinstance(document_id, int) and not isinstance(document_id, bool):
            value["document_id"] = str(document_id)
        elif not isinstance(document_id, str) or not 1 <= len(document_id) <= 200:
            return "document_id must be a string of 1 to 200 characters"
    return value
