"""The search page drawn from its kept parts (the frame, the form's gaps, the results block in
Python) is byte for byte the page the templates draw whole, nonces and execution ids aside:
the demo's form with each category chosen, the box ticked or not, hostile text in the box,
sorts, pages and filters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

import app.web.templates as drawing
from app.services.demo import seed_demo
from app.settings import Settings
from app.web.app import create_app

VARYING = re.compile(r'nonce-[\w-]+|nonce="[\w-]+"|data-execution-id="[^"]*"')
HOSTILE = "%3Cscript%3E%22'%26amp;"
QUERIES = [
    "query=a",
    "query=a&in_stock=true",
    "query=a&in_stock=on&category=Audio",
    "query=lamp&category=Kitchen&page=2",
    "category=Office",
    "category=Nope",
    "in_stock=false",
    f"query={HOSTILE}&category=Home",
    "query=a&sort=price",
    "query=a&sort=-price&page=2",
    "query=a&price.min=abc",
    "",
    "query=zzqqxx",
]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    settings = Settings(data_dir=tmp_path, public_url="http://testserver")
    seeded = seed_demo(settings)
    with TestClient(create_app(settings)) as client:
        yield client, f"/r/{seeded.public_name}"


def test_pages_from_kept_parts_are_the_pages_drawn_whole(
    demo: tuple[TestClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, page = demo
    kept = {q: VARYING.sub("V", client.get(f"{page}?{q}").text) for q in QUERIES * 2}
    monkeypatch.setattr(drawing, "FRAMED", {})
    monkeypatch.setattr(drawing, "_form", lambda retriever, context: None)
    monkeypatch.setattr(drawing, "drawable", lambda values: False)
    for query in QUERIES:
        whole = VARYING.sub("V", client.get(f"{page}?{query}").text)
        assert kept[query] == whole, query
    ticked = kept["query=a&in_stock=true"]
    assert 'name="in_stock" value="true" checked>' in ticked
    assert '<option value="Audio" selected>' in kept["query=a&in_stock=on&category=Audio"]
    assert "&lt;script&gt;" in kept[f"query={HOSTILE}&category=Home"]
