"""Typesense stopped under a server process (a node of the test's own, started and stopped for
real): /readyz names it, every search and collection call is a whole 503 that says the search
engine is not answering (a page as a page), the command-line import says so too, the API key
appears nowhere, and once it is back everything answers with nothing lost."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.helpers import OWNER_KEY, owner_headers, publish_local
from tests.servers import TypesenseServer, server_process
from tests.web.test_console import sign_in

pytestmark = pytest.mark.typesense

LAMPS = [
    {"document_id": "a", "title": "Desk lamp", "description": "A lamp for a desk"},
    {"document_id": "b", "title": "Floor lamp", "description": "A tall lamp"},
]
UNAVAILABLE = "The search engine (Typesense) is not answering; try again shortly."


@pytest.fixture
def typesense_node() -> Iterator[TypesenseServer]:
    """A Typesense node of the test's own, to stop and start again."""
    node = TypesenseServer()
    node.start()
    try:
        yield node
    finally:
        node.stop()


def _calls(client: httpx.Client) -> dict[str, httpx.Response]:
    """What waits on the engine: a search, the page, and the collections API and console."""
    upload = {"documents": [{"document_id": "c", "title": "Kettle"}]}
    return {
        "execute": client.post(
            "/v1/public/retrievers/lamps/execute", json={"inputs": {"query": "lamp"}}
        ),
        "page": client.get("/r/lamps", params={"query": "lamp"}),
        "upload": client.post(
            "/v1/collections/products/documents", headers=owner_headers(), json=upload
        ),
        "read": client.get("/v1/collections/products", headers=owner_headers()),
        "delete": client.delete("/v1/collections/products/documents/a", headers=owner_headers()),
        "drop": client.delete("/v1/collections/spare", headers=owner_headers()),
        "console list": client.get("/console/collections"),
    }


def test_typesense_stopped_is_a_503_everywhere_named_by_readyz_then_all_is_back(
    typesense_node: TypesenseServer, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    key = typesense_node.api_key
    with (
        server_process(tmp_path / "data", log=log, RETRIEVER_PAGES_ENGINE_URL=typesense_node.url)
        as (url, _),
        httpx.Client(base_url=url, timeout=30) as client,
    ):  # fmt: skip
        added = client.post(
            "/v1/collections/products/documents", headers=owner_headers(), json={"documents": LAMPS}
        )
        assert added.status_code == 200, added.text
        spare = client.post(
            "/v1/collections/spare/documents", headers=owner_headers(), json={"documents": LAMPS}
        )
        assert spare.status_code == 200, spare.text
        publish_local(client, "lamps", ["title", "description"])
        assert client.get("/readyz").json() == {"status": "ready", "store": "ok", "engine": "ok"}
        assert sign_in(client, OWNER_KEY).status_code == 303
        typesense_node.halt()
        try:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["error"]["message"] == "Not ready: engine not answering."
            assert ready.json()["error"]["details"] == {
                "store": "ok",
                "engine": f"Typesense at {typesense_node.address} is unreachable",
            }
            assert client.get("/healthz").status_code == 200  # the process itself is fine
            for _ in range(2):  # (one keep-alive connection: a dropped one would raise)
                for name, response in _calls(client).items():
                    assert response.status_code == 503, (name, response.text[:300])
                    assert int(response.headers["retry-after"]) > 0, name
                    if response.url.path.startswith("/v1/"):
                        error = response.json()["error"]
                        assert error["type"] == "store_unavailable", (name, error)
                        assert error["message"] == UNAVAILABLE, (name, error)
                    else:  # a page that says so, not a stack trace
                        assert response.headers["content-type"].startswith("text/html"), name
                        assert "not answering" in response.text, name
                        assert "Traceback" not in response.text, name
                    assert key not in response.text, name
            imported = _import(tmp_path, typesense_node.url)
            assert imported.returncode == 1
            assert imported.stderr.strip().splitlines()[-1] == f"error: {UNAVAILABLE}"
            assert key not in imported.stderr + imported.stdout
        finally:
            typesense_node.start()
        assert client.get("/readyz").status_code == 200
        answer = client.post(
            "/v1/public/retrievers/lamps/execute", json={"inputs": {"query": "lamp"}}
        )
        assert answer.status_code == 200, answer.text
        # Nothing lost, and the refused calls changed nothing.
        assert sorted(d["document_id"] for d in answer.json()["documents"]) == ["a", "b"]
        spare_count = client.get("/v1/collections/spare", headers=owner_headers())
        assert spare_count.json()["documents"] == len(LAMPS)
    text = log.read_text()
    said = f"engine unavailable (not_answering): Typesense at {typesense_node.address}: "
    assert text.count(said) == 1, text  # once a minute, not once a request
    assert "Traceback" not in text, text
    assert key not in text


def _import(tmp_path: Path, engine_url: str) -> subprocess.CompletedProcess[str]:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"document_id": "c", "title": "Kettle"}\n')
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "import", str(rows), "--collection", "products",
         "--namespace", "shop"],
        env={**os.environ, "RETRIEVER_PAGES_DATA_DIR": str(tmp_path / "cli"),
             "RETRIEVER_PAGES_ENGINE_URL": engine_url},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
