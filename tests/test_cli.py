"""The command line, run as an operator would."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from app.settings import Settings
from app.web.app import create_app
from tests.helpers import (
    browse_config,
    local_backend,
    owner_headers,
    publish_backend,
    publish_local,
)
from tests.servers import free_port, server_process, start_demo, wait_ready

CLI = [sys.executable, "-m", "app.cli"]


def run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "RETRIEVER_PAGES_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [*CLI, *args], env=environment, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["serve"],
        ["demo"],
        ["keys"],
        ["keys", "create"],
        ["keys", "revoke"],
        ["import"],
        ["embed"],
        ["migrate"],
    ],
)
def test_every_command_has_help(tmp_path: Path, args: list[str]) -> None:
    result = run(tmp_path, *args, "--help")
    assert result.returncode == 0
    assert "usage: retriever-pages" in result.stdout


def test_keys_create_list_and_revoke(tmp_path: Path) -> None:
    created = run(tmp_path, "keys", "create", "--namespace", "shop", "--label", "ci")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("sk_")
    assert "shown once" in created.stderr

    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        headers = {"Authorization": f"Bearer {key}", "X-Namespace": "shop"}
        assert client.get("/v1/retrievers", headers=headers).status_code == 200

    listing = run(tmp_path, "keys", "list")
    assert "shop" in listing.stdout
    assert "ci" in listing.stdout
    assert key not in listing.stdout  # only the hash's prefix is shown
    key_id = listing.stdout.split()[0]

    assert run(tmp_path, "keys", "revoke", "abc").returncode == 2
    revoked = run(tmp_path, "keys", "revoke", key_id)
    assert revoked.returncode == 0, revoked.stderr
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        headers = {"Authorization": f"Bearer {key}", "X-Namespace": "shop"}
        assert client.get("/v1/retrievers", headers=headers).status_code == 401


def test_keys_create_with_a_role(tmp_path: Path) -> None:
    created = run(tmp_path, "keys", "create", "--namespace", "shop", "--role", "viewer")
    assert created.returncode == 0, created.stderr
    assert created.stderr.startswith("Viewer key")
    key = created.stdout.strip()
    with TestClient(create_app(Settings(data_dir=tmp_path))) as client:
        headers = {"Authorization": f"Bearer {key}", "X-Namespace": "shop"}
        assert client.get("/v1/retrievers", headers=headers).status_code == 200
        refused = client.post("/v1/retrievers", headers=headers, json={})
        assert refused.status_code == 403
        assert "editor role" in refused.json()["error"]["message"]
    assert " viewer " in run(tmp_path, "keys", "list").stdout
    assert run(tmp_path, "keys", "create", "--namespace", "shop", "--role", "root").returncode == 2


def test_keys_create_refuses_a_bad_namespace(tmp_path: Path) -> None:
    result = run(tmp_path, "keys", "create", "--namespace", "bad namespace!")
    assert result.returncode == 1
    assert "X-Namespace must be" in result.stderr or "namespace" in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_a_bad_setting_stops_the_start(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", RETRIEVER_PAGES_PUBLIC_URL="not-a-url")
    assert result.returncode == 2
    assert "RETRIEVER_PAGES_PUBLIC_URL" in result.stderr
    assert "Traceback" not in result.stderr


def _public_urls(url: str) -> tuple[str, str]:
    """A page published on the server at `url`: its `public_url` and the page's canonical link."""
    with httpx.Client(base_url=url) as client:
        retriever_id = publish_local(client, "lamps", ["title", "description"])
        published = client.get(f"/v1/retrievers/{retriever_id}/publish", headers=owner_headers())
        canonical = re.search(r'<link rel="canonical" href="([^"]+)">', client.get("/r/lamps").text)
    assert canonical is not None
    return published.json()["public_url"], canonical.group(1)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_public_urls_name_the_port_served(tmp_path: Path, workers: str) -> None:
    with server_process(tmp_path, "--workers", workers) as (url, _):
        port = url.rsplit(":", 1)[1]
        expected = f"http://localhost:{port}/r/lamps"
        assert _public_urls(url) == (expected, expected)


def test_a_public_url_that_is_set_is_kept_whatever_the_port(tmp_path: Path) -> None:
    public = "http://localhost:8000"  # the default's value, set on purpose (a proxy forwards it)
    with server_process(tmp_path, RETRIEVER_PAGES_PUBLIC_URL=public) as (url, _):
        assert _public_urls(url) == (f"{public}/r/lamps", f"{public}/r/lamps")


def _published(url: str, key: str) -> Any:
    headers = {"Authorization": f"Bearer {key}", "X-Namespace": "demo"}
    return httpx.get(f"{url}/v1/retrievers/published", headers=headers).json()


def test_the_demo_seeds_once_prints_its_url_and_key_and_serves(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://localhost:{port}"
    process, printed = start_demo(tmp_path, port)
    try:
        assert printed["Demo retriever"] == f"{base}/r/product-search"
        key = printed["Owner key"].split()[0]
        wait_ready(base)
        listing = _published(base, key)
        assert [r["public_name"] for r in listing["results"]] == ["product-search"]
        assert listing["results"][0]["public_url"] == f"{base}/r/product-search"
        config = httpx.get(printed["Public config"]).json()
        assert config["display_config"]["title"] == "Product Search"
        console = printed["Console"].split()[0]
        assert console == f"{base}/console"
        assert "Sign in" in httpx.get(console, follow_redirects=True).text
        found = httpx.post(
            f"{base}/v1/public/retrievers/product-search/execute",
            json={"inputs": {"query": "headphones", "category": "Audio"}},
        ).json()
        assert found["pagination"]["total"] > 0
        assert all(d["category"] == "Audio" for d in found["documents"])
        logo = httpx.get(f"{base}{config['display_config']['logo_url']}")
        assert logo.status_code == 200
        assert logo.headers["content-type"].startswith("image/svg")
        # The example plugin is installed and listed as official; the page draws the rating
        # as stars itself, with no frame per card.
        listed = httpx.get(f"{base}/v1/public/plugins/star-rating").json()
        assert listed["trust_tier"] == "official"
        served = httpx.get(f"{base}/plugins/star-rating").text
        assert "Star rating" in served
        page = httpx.get(f"{base}/r/product-search?query=headphones").text
        assert 'class="stars" role="img" aria-label="Rated ' in page
        assert "plugin-frame" not in page
    finally:
        process.terminate()
        process.wait(timeout=10)

    again, printed_again = start_demo(tmp_path, port)
    try:
        assert printed_again["Owner key"].split()[0] == key
        wait_ready(base)
        assert _published(base, key)["total"] == 1
    finally:
        again.terminate()
        again.wait(timeout=10)


def test_keys_create_says_where_it_stored_the_key(tmp_path: Path) -> None:
    created = run(tmp_path, "keys", "create", "--namespace", "shop")
    assert f"stored (as its hash only) in {tmp_path / 'retriever-pages.db'}" in created.stderr


@pytest.mark.parametrize("port", ["0", "70000", "-1", "http"])
def test_a_port_that_is_no_port_is_refused(tmp_path: Path, port: str) -> None:
    for command in ("serve", "demo"):
        result = run(tmp_path, command, "--port", port)
        assert result.returncode == 2
        assert "port" in result.stderr
        assert "Traceback" not in result.stderr
        assert "Demo retriever" not in result.stdout


def test_a_port_in_use_is_said_before_any_url(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for command in ("serve", "demo"):
            result = run(tmp_path / command, command, "--port", port)
            assert result.returncode == 2, result.stderr
            assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
            assert "http://" not in result.stdout  # no URL to a page nobody serves
            assert "Traceback" not in result.stderr


def test_a_data_directory_that_is_a_file_is_a_settings_error(tmp_path: Path) -> None:
    a_file = tmp_path / "data"
    a_file.write_text("not a directory")
    result = run(a_file, "keys", "create", "--namespace", "shop")
    assert result.returncode == 2
    assert "RETRIEVER_PAGES_DATA_DIR" in result.stderr
    assert "is a file" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_fails_on_skipped_rows_unless_told_and_explains_missing_ids(
    tmp_path: Path,
) -> None:
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"document_id": "a", "title": "A"}\nnot json\n{"title": "no id"}\n')
    strict = run(tmp_path, "import", str(rows), "--collection", "things", "--namespace", "shop")
    assert strict.returncode == 1
    assert "line 2" in strict.stderr
    assert "--allow-skipped" in strict.stderr
    assert "1 rows had no document_id" in strict.stderr
    lenient = run(
        tmp_path,
        "import",
        str(rows),
        "--collection",
        "things",
        "--namespace",
        "shop",
        "--allow-skipped",
    )
    assert lenient.returncode == 0, lenient.stderr
    assert "importing this file again adds them again" in lenient.stderr


ROOMS = [
    {"document_id": "sofa", "title": "Three-seat sofa", "description": "Deep, in grey linen."},
    {"document_id": "flask", "title": "Vacuum flask", "description": "Keeps coffee hot all day."},
    {"document_id": "lamp", "title": "Desk lamp", "description": "A warm light for reading."},
]


def _rooms(tmp_path: Path) -> None:
    rows = tmp_path / "rooms.jsonl"
    rows.write_text("".join(json.dumps(row) + "\n" for row in ROOMS))
    imported = run(tmp_path, "import", str(rows), "--collection", "products", "--namespace", "acme")
    assert imported.returncode == 0, imported.stderr


def test_embed_sets_a_collections_embedding_once_and_turns_it_off(tmp_path: Path) -> None:
    _rooms(tmp_path)
    embedded = run(tmp_path, "embed", "acme", "products", "--fields", "title,description")
    assert embedded.returncode == 0, embedded.stderr
    assert "title, description embedded by wordllama:" in embedded.stdout
    assert "Embedded 3 documents" in embedded.stdout
    again = run(tmp_path, "embed", "acme", "products", "--fields", "title, description")
    assert again.returncode == 0, again.stderr
    assert "Embedded 0 documents" in again.stdout  # nothing to do twice
    assert "3 of 3 documents have their vector." in again.stdout
    settings = Settings(data_dir=tmp_path, api_keys=["acme:test-owner-key-0123456789"])
    with TestClient(create_app(settings)) as client:
        config = browse_config(
            exposed_fields=["title", "description"], field_config={}, components={}
        )
        publish_backend(client, "rooms", local_backend(), config)
        answer = client.post(
            "/v1/public/retrievers/rooms/execute", json={"inputs": {"query": "couch"}}
        )
        assert answer.json()["documents"][0]["document_id"] == "sofa"  # by meaning
    off = run(tmp_path, "embed", "acme", "products", "--off")
    assert off.returncode == 0, off.stderr
    assert "acme/products stopped embedding" in off.stdout
    assert "was not embedding" in run(tmp_path, "embed", "acme", "products", "--off").stdout
    with TestClient(create_app(settings)) as client:
        info = client.get("/v1/collections/products", headers=owner_headers()).json()
        assert (info["documents"], info["embedding"]) == (3, None)


def test_embed_shows_its_progress_on_a_terminal(tmp_path: Path) -> None:
    _rooms(tmp_path)
    leader, follower = pty.openpty()
    environment = {**os.environ, "RETRIEVER_PAGES_DATA_DIR": str(tmp_path)}
    command = [*CLI, "embed", "acme", "products", "--fields", "title", "--embedder", "wordllama"]
    result = subprocess.run(
        command, env=environment, stdout=subprocess.PIPE, stderr=follower, timeout=60, check=False
    )
    os.close(follower)
    shown = b""
    try:
        while chunk := os.read(leader, 4096):
            shown += chunk
    except OSError:  # the terminal's other end is closed: all of it was read
        pass
    os.close(leader)
    assert result.returncode == 0, shown
    assert "products: embedded 3 of 3" in shown.decode()


# What `embed` refuses: the exit status (2 for the command line's own mistakes, 1 for what
# the server refuses) and the words that name the problem.
EMBED_REFUSALS = [
    (["acme", "nothing", "--fields", "title"], 1, "No collection 'nothing'"),
    (["acme", "products", "--fields", "title", "--embedder", "word2vec"], 1, "embedder.type"),
    (["acme", "products", "--fields", "title", "--embedder", "{bad"], 2, "not a JSON object"),
    (
        ["acme", "products", "--fields", "title", "--embedder", '{"type": "provided"}'],
        1,
        "embedder.field",
    ),
    (["acme", "products", "--fields", "a b"], 1, "fields[0]"),
    (["acme", "products"], 2, "--fields"),
    (["acme", "products", "--off", "--fields", "title"], 2, "--off"),
    (["acme", "Products", "--off"], 2, "COLLECTION must be"),
]


def test_embed_refuses_what_it_cannot_do_by_name(tmp_path: Path) -> None:
    _rooms(tmp_path)
    for args, status, said in EMBED_REFUSALS:
        result = run(tmp_path, "embed", *args)
        assert (result.returncode, said in result.stderr) == (status, True), (args, result.stderr)
        assert "Traceback" not in result.stderr
    kept = run(tmp_path, "embed", "acme", "products", "--off")
    assert "was not embedding" in kept.stdout  # nothing refused was kept
