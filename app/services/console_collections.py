"""The console's view of a namespace's collections: each with its documents and fields, a
page of its documents (searched or not), and a file uploaded into one."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO, Any

import orjson

from app.adapters.engine import SearchEngine
from app.adapters.engine.results import Search
from app.errors import NotFound, invalid
from app.rendering.registry import names_a_year
from app.schemas.base import COLLECTION_NAME, COLLECTION_NAME_RULE
from app.services.importing import Format, ImportOptionsError, ImportReport, import_stream

MAX_COLLECTIONS = 500
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
LINK = re.compile(r"https?://\S+$")
FIELD_SAMPLE = 50  # documents read to name a collection's fields
DOCUMENTS_PAGE = 20
MAX_SEARCH_CHARS = 200
SUFFIXES: dict[str, Format] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".json": "json",
}


@dataclass(frozen=True)
class CollectionSummary:
    name: str
    documents: int
    fields: list[str]  # every field seen in its first documents, text fields first
    text_fields: list[str]
    embeds: bool = False  # whether it computes meaning (an embedding is set)
    # Each field's kind of value, in words ("number", "year", "date", "list", "text"...).
    kinds: dict[str, str] = field(default_factory=dict)
    # Each text field's mean length in the documents seen (a headline is a short one).
    lengths: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class DocumentRow:
    document_id: str
    body: dict[str, Any]


@dataclass(frozen=True)
class DocumentPage:
    rows: list[DocumentRow]
    total: int
    page: int
    size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.size < self.total


class ConsoleCollections:
    def __init__(self, engine: SearchEngine) -> None:
        self.engine = engine

    def names(self, namespace: str) -> list[str]:
        return [name for _, name in self.engine.collection_names(namespace, "", MAX_COLLECTIONS)]

    def overview(self, namespace: str) -> list[CollectionSummary]:
        return [self.summary(namespace, name) for name in self.names(namespace)]

    def summary(self, namespace: str, collection: str) -> CollectionSummary:
        text = self.engine.text_fields(namespace, collection)
        sample = self.engine.search(namespace, collection, Search(limit=FIELD_SAMPLE))
        seen: dict[str, list[Any]] = {name: [] for name in text}
        for hit in sample.hits:
            for key, value in hit.body.items():
                if key != "document_id":
                    seen.setdefault(key, []).append(value)
        return CollectionSummary(
            collection,
            self.engine.count(namespace, collection),
            list(seen),
            text,
            self.engine.embedding(namespace, collection) is not None,
            {name: kind_of(name, values) for name, values in seen.items()},
            {name: _mean_length(values) for name, values in seen.items()},
        )

    def existing(self, namespace: str, collection: str) -> CollectionSummary:
        """The collection's summary; 404 when the namespace has none of that name."""
        if collection not in self.names(namespace):
            raise NotFound(f"No collection {collection!r} in this namespace.")
        return self.summary(namespace, collection)

    def documents(
        self, namespace: str, collection: str, text: str, page: int, size: int = DOCUMENTS_PAGE
    ) -> DocumentPage:
        """A page of the collection's documents: those matching `text` over its text
        fields, best first, or all of them when `text` is empty."""
        text = text.strip()[:MAX_SEARCH_CHARS]
        fields = self.engine.text_fields(namespace, collection) if text else []
        search = Search(fields=fields, text=text, limit=size, offset=(page - 1) * size)
        found = self.engine.search(namespace, collection, search)
        rows = [DocumentRow(hit.document_id, hit.body) for hit in found.hits]
        return DocumentPage(rows, found.total, page, size)

    def upload(
        self,
        namespace: str,
        collection: str,
        filename: str,
        data: IO[bytes],
        size: int,
        list_fields: tuple[str, ...] = (),
        id_field: str | None = None,
    ) -> ImportReport:
        """Import an uploaded JSONL, CSV or JSON file, its format told by its name (a `.json`
        file holding one document a line is read as JSONL). Rows that cannot be read are
        reported by number; the rest go in. `list_fields`: a CSV's columns whose cells are
        lists, items between `|`; `id_field`, the column (or key) whose value is each
        document's id, checked as the command line's `--id-field` is."""
        check_collection_name(collection)
        fmt = SUFFIXES.get(PurePath(filename).suffix.lower())
        if fmt is None:
            raise invalid("file", "not JSONL, CSV or JSON", "Upload a .jsonl, .csv or .json file.")
        if list_fields and fmt != "csv":
            raise invalid(
                "list_fields",
                "for a CSV file only",
                "Lists are for CSV columns: a JSONL or JSON file holds its lists as they are.",
            )
        if fmt == "json" and _one_per_line(data):
            fmt = "jsonl"
        try:
            return import_stream(
                self.engine,
                namespace,
                collection,
                data,
                fmt,
                total_bytes=size,
                list_fields=list_fields,
                id_field=id_field,
            )
        except ImportOptionsError as error:
            message = str(error)[:1].upper() + str(error)[1:]
            raise invalid(error.option, message, message) from None


def _mean_length(values: list[Any]) -> float:
    texts = [len(v) for v in values if isinstance(v, str)]
    return sum(texts) / len(texts) if texts else 0.0


def kind_of(name: str, values: list[Any]) -> str:
    """The kind of value a field holds, in words, from the values seen (the empty left out):
    a whole number from 1000 to 2999 in a field named for years is a year."""
    kinds = {_kind(name, v) for v in values if v not in (None, "", [], {})}
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= {"number", "year"} and kinds:
        return "number"
    if not kinds:
        return "empty"
    # Named plainly: "1.2" and "2" in a version column are text and a number.
    return " and ".join(sorted(kinds)) + " (mixed)"


def _kind(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "yes or no"
    if isinstance(value, int) and 1000 <= value <= 2999 and names_a_year(name):
        return "year"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, str) and ISO_DATE.match(value):
        return "date"
    if isinstance(value, str) and LINK.match(value):
        return "link"
    return "text"


def _one_per_line(data: IO[bytes]) -> bool:
    """Whether a `.json` file is JSONL in fact: not one JSON value, but one on each line."""
    content = data.read()
    data.seek(0)
    if not content.strip().startswith(b"{"):
        return False
    try:
        orjson.loads(content)
    except orjson.JSONDecodeError:
        return True
    return False


def check_collection_name(collection: str) -> None:
    """`InvalidInput` for a name a collection cannot have, saying what it may be with a name
    made from the one typed ("My Books": "my-books")."""
    if not COLLECTION_NAME.fullmatch(collection):
        rule = f"A collection name is {COLLECTION_NAME_RULE}"
        example = suggested_name(collection)
        problem = f"{rule}: {example}, for example." if example else f"{rule}."
        raise invalid("collection", problem, problem)


def suggested_name(typed: str) -> str:
    """A collection name close to `typed` (lowercase, runs of other characters as `-`), or
    '' when nothing of it is left."""
    name = re.sub(r"[^a-z0-9_-]+", "-", typed.strip().lower()).strip("-_")
    return name[:63].rstrip("-_")
