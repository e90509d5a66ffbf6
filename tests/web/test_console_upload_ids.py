"""An upload's id column, over HTTP: named on the form, a second upload replaces the
documents it names instead of adding copies; rows without a usable id told by number; an id
column the file lacks, or a name no column can have, refused beside its field (the browser's
side: test_console_upload_ids_browser.py)."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.web.test_console_editor import console
from tests.web.test_console_newcomer import upload

__all__ = ["console"]  # the fixture, shared

BOOKS = "isbn,title\n0441013597,Dune\n0141439580,Emma\n"


def _count(client: TestClient, name: str = "books") -> int:
    page = client.get("/console/collections").text
    found = re.search(
        rf'>{name}</a></th>\s*<td class="num" data-label="Documents">([\d,]+)</td>', page
    )
    assert found, page
    return int(found[1].replace(",", ""))


def _report(client: TestClient, posted: object) -> str:
    location = posted.headers["location"]  # type: ignore[attr-defined]
    return client.get(location).text


def test_an_id_column_makes_a_second_upload_replace(console: TestClient) -> None:
    form = console.get("/console/collections").text
    assert 'id="upload-id" name="id_field"' in form
    assert "Upload the file again with it and its documents are replaced" in form
    first = upload(console, "books.csv", BOOKS.encode(), id_field="isbn")
    assert first.status_code == 303
    report = _report(console, first)
    assert "Imported 2 documents into books" in report
    assert "no id" not in report
    again = upload(
        console, "books.csv", BOOKS.replace("Dune", "Dune Messiah").encode(), id_field="isbn"
    )
    assert again.status_code == 303
    assert _count(console) == 2  # replaced, not added
    documents = console.get("/console/collections/books").text
    assert "Dune Messiah" in documents
    assert "0441013597" in documents  # the id as written, its zero kept


def test_without_an_id_column_the_report_says_copies_are_added(console: TestClient) -> None:
    posted = upload(console, "books.csv", BOOKS.encode())
    report = _report(console, posted)
    assert (
        "2 documents have no id: uploading this file again adds them again. To replace them "
        "instead, upload it with its <strong>Id column</strong> named"
    ) in report


def test_rows_without_a_usable_id_are_told_by_row(console: TestClient) -> None:
    body = "isbn,title\n0441013597,Dune\n,Nameless\n0441013597,Dune again\n"
    report = _report(console, upload(console, "books.csv", body.encode(), id_field="isbn"))
    assert "Imported 1 document into books" in report
    assert "<strong>Row 3</strong>: no isbn: the id column is empty" in report
    assert "<strong>Row 4</strong>: isbn &#39;0441013597&#39; is on row 2 already" in report
    jsonl = b'{"sku": "a1", "title": "Lamp"}\n{"title": "Kettle"}\n'
    report = _report(console, upload(console, "lamps.jsonl", jsonl, id_field="sku"))
    assert "<strong>Row 2</strong>: no sku: the id column is empty" in report


def test_an_id_column_the_file_lacks_is_refused_beside_its_field(console: TestClient) -> None:
    refused = upload(console, "books.csv", BOOKS.encode(), id_field="sku")
    assert refused.status_code == 422
    error = re.search(r'<p class="field-error" id="id-error">([^<]*)</p>', refused.text)
    assert error
    assert error[1] == (
        "The id column &#39;sku&#39; is not in the header (its columns: isbn, title)"
    )
    assert 'name="id_field" maxlength="400" list="field-names" autocomplete="off" ' in refused.text
    assert 'value="sku" aria-describedby="id-help id-error" aria-invalid="true"' in refused.text
    long = upload(console, "books.csv", BOOKS.encode(), id_field="x" * 300)
    assert long.status_code == 422
    assert "up to 200 characters" in long.text
    assert ">books</a>" not in console.get("/console/collections").text  # nothing went in
