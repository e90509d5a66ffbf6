"""What a newcomer's first CSV meets in the console, over HTTP: the upload answered at the
collection's own address (POST, redirect, GET) with its report, a CSV's lists read by a rule
the form states, each field's kind on the new-retriever form, and the editor's unsaved form
checked and previewed without saving (the browser's side: test_console_publish_path.py);
what a retriever searches, and a collection's embedding, set from their pages."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.testclient import TestClient

from tests.web.test_console import csrf, sign_in
from tests.web.test_console_editor import console, editor_url, form_of, new_retriever

__all__ = ["console"]  # the fixture, shared

CSV = (
    "document_id,title,year,price,tags,released\n"
    "1,Dune,1965,18.5,classic|space,1965-08-01\n"
    "2,Emma,1815,9,classic|romance,1815-12-23\n"
)


def upload(client: TestClient, name: str, data: bytes, **fields: str) -> Any:
    return client.post(
        "/console/collections/upload",
        data={"csrf": csrf(client), "collection": "books", **fields},
        files={"file": (name, data, "text/csv")},
        follow_redirects=False,
    )


def test_an_upload_is_answered_at_the_collections_own_address(console: TestClient) -> None:
    posted = upload(console, "books.csv", CSV.encode() + b"3,Bad\n")
    assert posted.status_code == 303
    target = posted.headers["location"]
    assert urlsplit(target).path == "/console/collections/books"
    page = console.get(target).text
    assert "Imported 2 documents into books" in page
    assert "<strong>Row 4</strong>: 2 cells where the header has 6" in page
    assert "Make a search page over books →" in page
    assert console.get("/console/collections/books").text.count("Imported") == 0  # once
    # A report is this session's own: forged, or another session's, it is not shown.
    token = parse_qs(urlsplit(target).query)["report"][0]
    forged = console.get(f"/console/collections/books?report={token[:-3]}abc").text
    assert "Imported" not in forged
    sign_in(console, "test-owner-key-0123456789")
    assert "Imported" not in console.get(target).text


def test_a_csv_column_named_as_a_list_is_split_at_bars(console: TestClient) -> None:
    form = console.get("/console/collections").text
    assert "put its items between <code>|</code>" in form
    assert upload(console, "books.csv", CSV.encode(), list_fields="tags").status_code == 303
    page = console.get("/console/retrievers/new?collection=books").text
    kinds = dict(
        re.findall(
            r'value="(\w+)"(?: checked)?> <span>\w+ <span class="sub-inline">([\w ]+)<', page
        )
    )
    assert kinds == {
        "title": "text",
        "year": "year",
        "price": "number",
        "tags": "list",
        "released": "date",
    }


def test_lists_are_for_a_csv_and_refused_beside_their_field_otherwise(
    console: TestClient,
) -> None:
    refused = upload(console, "books.jsonl", b'{"title": "Dune"}\n', list_fields="tags")
    assert refused.status_code == 422
    error = re.search(r'<p class="field-error" id="lists-error">([^<]*)</p>', refused.text)
    assert error
    assert "CSV" in error[1]
    assert 'id="upload-lists" name="list_fields" maxlength="2000"' in refused.text
    assert 'value="tags"' in refused.text  # kept as typed


def test_the_unsaved_form_is_checked_and_previewed_without_saving(console: TestClient) -> None:
    rid = new_retriever(console)
    values = form_of(console.get(editor_url(rid)).text)
    values["title"] = "Lamps, unsaved"
    checked = console.post(editor_url(rid, "preview/check"), data=values)
    assert checked.status_code == 200
    assert checked.json() == {"valid": True, "errors": {}, "labels": {}}
    preview = console.post(editor_url(rid, "preview") + "?scheme=dark", data=values)
    assert preview.status_code == 200
    assert "Lamps, unsaved" in preview.text
    assert preview.headers["x-frame-options"] == "SAMEORIGIN"
    assert "Lamps, unsaved" not in console.get(editor_url(rid, "preview")).text  # not saved

    values["theme.primary_color"] = "red; }"
    checked = console.post(editor_url(rid, "preview/check"), data=values)
    body = checked.json()
    assert body["valid"] is False
    assert "theme.primary_color" in body["errors"]
    assert body["labels"]["theme.primary_color"] == "Theme → Main colour"
    assert console.post(editor_url(rid, "preview"), data=values).status_code == 422

    values["csrf"] = "forged"
    assert console.post(editor_url(rid, "preview/check"), data=values).status_code == 403
    assert console.post(editor_url(rid, "preview"), data=values).status_code == 403


def test_what_a_retriever_searches_changes_beside_its_fields(console: TestClient) -> None:
    rid = new_retriever(console)
    page = console.get(editor_url(rid, "search")).text
    assert 'aria-current="page">Search</a>' in page
    assert re.search(r'value="title" checked> <span>title <span class="sub-inline">text', page)
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    sent = {"csrf": token[1], "search_fields": ["title", "description"], "mode": "keyword"}
    saved = console.post(editor_url(rid, "search"), data=sent, follow_redirects=False)
    assert saved.status_code == 303
    page = console.get(saved.headers["location"]).text
    assert "Saved: the next search uses these fields" in page
    assert 'value="description" checked>' in page
    assert 'value="keyword" checked>' in page
    refused = console.post(editor_url(rid, "search"), data={"csrf": token[1], "mode": "fast"})
    assert refused.status_code == 422
    assert 'id="fields-error"' in refused.text
    assert 'id="mode-error"' in refused.text
    forged = {**sent, "csrf": "forged"}
    assert console.post(editor_url(rid, "search"), data=forged).status_code == 403


def test_a_collection_computes_meaning_set_from_its_page(console: TestClient) -> None:
    page = console.get("/console/collections/products").text
    assert "Off: retrievers over it search by words only." in page
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    url = "/console/collections/products/embedding"
    refused = console.post(url, data={"csrf": token[1], "embedder": "wordllama"})
    assert refused.status_code == 422
    assert 'id="embed-fields-error"' in refused.text
    refused = console.post(url, data={"csrf": token[1], "embedder": "w2v", "embed_fields": "title"})
    assert refused.status_code == 422
    assert 'id="embedder-error"' in refused.text
    data = {"csrf": token[1], "embedder": "wordllama", "embed_fields": "title"}
    done = console.post(url, data=data, follow_redirects=False)
    assert done.status_code == 303
    page = console.get(done.headers["location"]).text
    assert "computes meaning" in page
    assert "On: title, by wordllama" in page
    stopped = console.post(url, data={"csrf": token[1], "action": "stop"})
    assert "no longer computes meaning" in stopped.text
