"""Importing JSONL and CSV files, good and broken, by the library and by the command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.adapters.engine import Engine, Search
from app.services.importing import ImportOptionsError, check_id_field, import_file


def test_jsonl_with_broken_lines_imports_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(
        b'{"document_id": "1", "title": "First"}\n'
        b"{not json}\n"
        b"\xff\xfe broken bytes\n"
        b"[1, 2]\n"
        b"\n"
        b'{"document_id": 7, "title": "Numeric id"}\n'
        b'{"document_id": {"x": 1}}\n'
        b'{"title": "No id"}'
    )
    engine = Engine(tmp_path / "engine.db")
    report = import_file(engine, "ns", "items", path)
    assert report.imported == 3
    assert report.skipped == 4
    assert [line for line, _ in report.errors] == [2, 3, 4, 7]
    assert "not JSON" in report.errors[0][1]
    assert report.errors[1][1] == "not UTF-8"
    assert report.errors[2][1] == "not a JSON object"
    assert "document_id" in report.errors[3][1]
    assert engine.count("ns", "items") == 3


def test_csv_types_and_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text(
        "document_id,title,price,in_stock,code\n"
        '1,"Quoted, title",12.50,true,007x\n'
        "2,Second,3,false,\n"
        "3,too,many,cells,here,really\n"
        "4,Fourth,,,\n"
    )
    engine = Engine(tmp_path / "engine.db")
    report = import_file(engine, "ns", "items", path)
    assert (report.imported, report.skipped) == (3, 1)
    assert report.errors == [(4, "6 cells where the header has 5")]
    hits = engine.search(
        "ns", "items", Search(fields=["title"], text="", filters={}, limit=10, offset=0)
    )
    bodies = {hit.document_id: hit.body for hit in hits.hits}
    assert bodies["1"] == {
        "title": "Quoted, title",
        "price": 12.5,
        "in_stock": True,
        "code": "007x",
    }
    assert bodies["2"] == {"title": "Second", "price": 3, "in_stock": False}
    assert bodies["4"] == {"title": "Fourth"}


def test_importing_again_updates_in_place(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text('{"document_id": "1", "title": "Old"}\n')
    engine = Engine(tmp_path / "engine.db")
    import_file(engine, "ns", "items", path)
    path.write_text('{"document_id": "1", "title": "New"}\n')
    import_file(engine, "ns", "items", path)
    assert engine.count("ns", "items") == 1
    result = engine.search(
        "ns", "items", Search(fields=["title"], text="new", filters={}, limit=5, offset=0)
    )
    assert [h.document_id for h in result.hits] == ["1"]


def _import_command(
    path: Path, env: dict[str, str], *options: str
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "import",
        str(path),
        "--collection",
        "catalog",
        "--namespace",
        "shop",
        *options,
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_import_command_reports_what_it_skipped(tmp_path: Path) -> None:
    path = tmp_path / "catalog.jsonl"
    lines = [json.dumps({"document_id": str(n), "title": f"Item {n}"}) for n in range(2500)]
    lines.insert(10, "oops")
    path.write_text("\n".join(lines) + "\n")
    env = {**os.environ, "RETRIEVER_PAGES_DATA_DIR": str(tmp_path / "data")}
    result = _import_command(path, env)
    assert result.returncode == 1  # a row was skipped: said, and not a success
    assert "Imported 2,500 rows into shop/catalog" in result.stdout
    assert "line 11: not JSON" in result.stderr
    bad = _import_command(tmp_path / "missing.jsonl", env)
    assert bad.returncode == 2
    assert "no file" in bad.stderr


def test_a_csv_carries_lists_as_json_arrays_or_between_separators(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_text(
        "document_id,title,tags,sizes,note\n"
        '1,Lamp,"[""home"", ""light""]",S|M| L ,[draft]\n'
        "2,Kettle,[],40|42,\n"
        '3,Boots,"[""outdoors""]",,"[1, 2]"\n'
    )
    data = tmp_path / "data"
    env = {**os.environ, "RETRIEVER_PAGES_DATA_DIR": str(data)}
    result = _import_command(path, env, "--list-field", "sizes", "--separator", "|")
    assert result.returncode == 0, result.stderr
    assert "Imported 3 rows into shop/catalog" in result.stdout
    engine = Engine(data / "engine.db")
    hits = engine.search(
        "shop", "catalog", Search(fields=["title"], text="", filters={}, limit=9, offset=0)
    )
    bodies = {hit.document_id: hit.body for hit in hits.hits}
    assert bodies == {
        "1": {
            "title": "Lamp",
            "tags": ["home", "light"],
            "sizes": ["S", "M", "L"],
            "note": "[draft]",
        },
        "2": {"title": "Kettle", "tags": [], "sizes": [40, 42]},
        "3": {"title": "Boots", "tags": ["outdoors"], "note": [1, 2]},
    }
    # A list field is filtered on by its items, as a JSONL import's would be.
    found = engine.search(
        "shop",
        "catalog",
        Search(fields=["title"], text="", filters={"tags": "light"}, limit=9, offset=0),
    )
    assert [hit.document_id for hit in found.hits] == ["1"]


def test_list_field_options_that_do_not_fit_the_file_are_refused(tmp_path: Path) -> None:
    env = {**os.environ, "RETRIEVER_PAGES_DATA_DIR": str(tmp_path / "data")}
    csv_file = tmp_path / "catalog.csv"
    csv_file.write_text("document_id,title\n1,Lamp\n")
    jsonl_file = tmp_path / "catalog.jsonl"
    jsonl_file.write_text('{"document_id": "1", "tags": ["a"]}\n')
    for path, options, message in [
        (csv_file, ["--list-field", "tags"], "--list-field 'tags': the header has no such column"),
        (jsonl_file, ["--list-field", "tags"], "--list-field is for CSV files"),
        (csv_file, ["--separator", ";"], "--separator goes with --list-field"),
        (csv_file, ["--list-field", "title", "--separator", " "], "--separator must be"),
    ]:
        result = _import_command(path, env, *options)
        assert result.returncode == 2, result.stderr
        assert message in result.stderr
        assert "Traceback" not in result.stderr


def _bodies(engine: Engine) -> dict[str, Any]:
    found = engine.search("ns", "items", Search(fields=[], text="", filters={}, limit=50, offset=0))
    return {hit.document_id: hit.body for hit in found.hits}


def test_an_id_column_makes_a_second_import_replace_not_add(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("sku,title\n0012,Lamp\n0013,Kettle\n")
    engine = Engine(tmp_path / "engine.db")
    first = import_file(engine, "ns", "items", path, id_field="sku")
    assert (first.imported, first.without_id) == (2, 0)
    path.write_text("sku,title\n0012,Brass lamp\n0013,Kettle\n")
    import_file(engine, "ns", "items", path, id_field=" sku ")
    assert engine.count("ns", "items") == 2
    bodies = _bodies(engine)
    assert set(bodies) == {"0012", "0013"}  # as written: the zeros kept
    assert bodies["0012"]["title"] == "Brass lamp"
    # Without one, the same file adds copies, and the report counts them.
    again = import_file(engine, "ns", "items", path)
    assert again.without_id == 2
    assert engine.count("ns", "items") == 4


def test_rows_without_a_usable_id_are_reported_by_row(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    rows: list[dict[str, Any]] = [
        {"code": 7, "title": "Seven"},
        {"title": "No code"},
        {"code": "", "title": "Empty"},
        {"code": "7", "title": "Seven again"},
        {"code": 1.5, "title": "A half"},
        {"code": "  ", "title": "Blank"},
        {"code": "x" * 201, "title": "Long"},
        {"code": "b", "title": "Bee"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    engine = Engine(tmp_path / "engine.db")
    report = import_file(engine, "ns", "items", path, id_field="code")
    assert report.imported == 2
    assert report.errors == [
        (2, "no code: the id column is empty"),
        (3, "no code: the id column is empty"),
        (4, "code '7' is on row 1 already"),
        (5, "code must be a text or a whole number to be an id"),
        (6, "no code: the id column is empty"),
        (7, "code is longer than 200 characters"),
    ]
    assert set(_bodies(engine)) == {"7", "b"}


def test_an_id_column_the_file_lacks_or_a_bad_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("sku,title\n1,Lamp\n")
    engine = Engine(tmp_path / "engine.db")
    with pytest.raises(ImportOptionsError) as missing:
        import_file(engine, "ns", "items", path, id_field="isbn")
    assert missing.value.option == "id_field"
    assert str(missing.value) == (
        "the id column 'isbn' is not in the header (its columns: sku, title)"
    )
    with pytest.raises(ImportOptionsError, match="up to 200 characters"):
        import_file(engine, "ns", "items", path, id_field="a" * 201)
    assert check_id_field("  ") is None
    assert engine.count("ns", "items") == 0


def test_the_import_command_takes_an_id_field(tmp_path: Path) -> None:
    env = {**os.environ, "RETRIEVER_PAGES_DATA_DIR": str(tmp_path / "data")}
    path = tmp_path / "catalog.csv"
    path.write_text("sku,title\nA1,Lamp\nA1,Lamp again\n,Nothing\n")
    result = _import_command(path, env, "--id-field", "sku", "--allow-skipped")
    assert result.returncode == 0, result.stderr
    assert "line 3: sku 'A1' is on row 2 already" in result.stderr
    assert "line 4: no sku: the id column is empty" in result.stderr
    assert "had no document_id" not in result.stderr
    again = _import_command(path, env, "--id-field", "sku", "--allow-skipped")
    assert "(1 documents in the collection)" in again.stdout
    refused = _import_command(path, env, "--id-field", "isbn")
    assert refused.returncode == 2
    assert "error: the id column 'isbn' is not in the header" in refused.stderr
