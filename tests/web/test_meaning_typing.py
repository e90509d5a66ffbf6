"""Someone typing a need into the sample catalog's search box in words that no product holds
(app/sample/catalog.jsonl, searched as the demo searches it, by words and by meaning with the
built-in embedder, offline), a letter at a time through the typeahead and the execute, without
a browser: every letter is answered and results never vanish, and the words typed out find
the products that need describes, by meaning, first."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from app.paths import SAMPLE_CATALOG
from app.services.demo import DEMO_DISPLAY_CONFIG, DEMO_EMBEDDED_FIELDS
from app.services.importing import import_file
from app.settings import Settings
from app.web.app import create_app
from tests.helpers import NAMESPACE, OWNER_KEY, local_backend, owner_headers, publish_backend

CATALOG: dict[str, dict[str, Any]] = {
    document["document_id"]: document
    for document in map(json.loads, SAMPLE_CATALOG.read_text().splitlines())
}
SEARCH_FIELDS = ["title", "description", "brand", "category", "tags"]  # the demo's
# A need in other words, and the kind of product (its second tag) that answers it.
NEEDS = {
    "coffee maker": "espresso-machine",
    "camping shelter": "tent",
    "footwear": "hiking-boots",
    "cutlery": "chef-knife",
    "flashlight": "headlamp",
    "workout": "kettlebell",
}
FIRST = 5  # the first results, those a shopper sees without scrolling
EXECUTE = "/v1/public/retrievers/shop/execute"
TYPEAHEAD = "/v1/public/retrievers/shop/typeahead"
PAGE = "/r/shop"
EMBEDDED_WITHIN_SECONDS = 60


def _words(document: dict[str, Any]) -> set[str]:
    values = [document.get(name) for name in SEARCH_FIELDS]
    text = " ".join(" ".join(v) if isinstance(v, list) else str(v) for v in values if v)
    return set(re.findall(r"[a-z0-9]+", text.lower()))


VOCABULARY = set().union(*map(_words, CATALOG.values()))


def kind(document_id: str) -> str:
    tag: str = CATALOG[document_id]["tags"][1]
    return tag


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The sample catalog embedded by the built-in embedder, and the demo's page over it
    ("shop"), with no rate limit."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("meaning-typing"),
        public_url="https://search.example.test",
        api_keys=[f"{NAMESPACE}:{OWNER_KEY}"],
    )
    app = create_app(settings)
    import_file(app.state.services.engine, NAMESPACE, "products", SAMPLE_CATALOG)
    with TestClient(app, raise_server_exceptions=False) as client:
        embedded = client.put(
            "/v1/collections/products/embedding",
            headers=owner_headers(),
            json={"fields": DEMO_EMBEDDED_FIELDS},
        )
        assert embedded.status_code == 200, embedded.text
        deadline = time.monotonic() + EMBEDDED_WITHIN_SECONDS
        while not (info := client.get("/v1/collections/products", headers=owner_headers()).json())[
            "embedding"
        ]["ready"]:
            assert time.monotonic() < deadline, info
            time.sleep(0.1)
        backend = {**local_backend(), "search_fields": SEARCH_FIELDS}
        publish_backend(client, "shop", backend, DEMO_DISPLAY_CONFIG)
        yield client


def typed(text: str) -> Iterator[str]:
    """What the box holds as `text` is typed: its first letter, its first two, ..."""
    return (text[:length] for length in range(1, len(text) + 1))


def search(client: TestClient, text: str) -> tuple[int, list[dict[str, Any]]]:
    answer = client.post(EXECUTE, json={"inputs": {"query": text}})
    assert answer.status_code == 200, (text, answer.text)
    found = answer.json()
    return found["pagination"]["total"], found["documents"]


def test_no_product_holds_the_words_of_these_needs() -> None:
    # (What the tests below rely on, checked first: were the sample to change, this says so.)
    for need, wanted in NEEDS.items():
        assert not set(need.split()) & VOCABULARY, need
        assert any(kind(document_id) == wanted for document_id in CATALOG), wanted


@pytest.mark.parametrize("need", list(NEEDS))
def test_a_need_typed_in_other_words_finds_what_it_describes(client: TestClient, need: str) -> None:
    for text in typed(need):
        suggested = client.get(TYPEAHEAD, params={"q": text})
        assert suggested.status_code == 200, (text, suggested.text)
        assert suggested.json()["query"] == text.strip()
        total, documents = search(client, text)
        assert total > 0, f"nothing for {text!r} on the way to {need!r}"
        assert documents, text
        # The results the page's script puts in place as the letter is typed.
        partial = client.get(PAGE, params={"query": text}, headers={"x-partial": "results"})
        assert partial.status_code == 200, (text, partial.text[:300])
        assert 'class="card"' in partial.text, text
    total, documents = search(client, need)
    first = documents[:FIRST]
    assert [kind(d["document_id"]) for d in first] == [NEEDS[need]] * FIRST, [
        d["title"] for d in first
    ]
    # Found by meaning: no word of the need is in them, so nothing is marked.
    assert all(d.get("matched_by_meaning") is True for d in first)
    assert not any(d.get("highlights") for d in first)


def test_the_page_shows_what_the_need_describes_first(client: TestClient) -> None:
    page = client.get(PAGE, params={"query": "coffee maker"})
    assert page.status_code == 200
    cards = re.findall(r'data-document-id="([^"]+)"', page.text)
    assert [kind(document_id) for document_id in cards[:3]] == ["espresso-machine"] * 3
