"""The API walkthrough and SDK example (docs/api.md) run as written, against a real server: the
walkthrough twice (a second run keeps the page and searches it), then the SDK example with the
key the walkthrough printed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.servers import server_process

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "examples" / "walkthrough.sh"
SDK_EXAMPLE = ROOT / "examples" / "sdk.py"
KEY_LINE = re.compile(r"^Owner key for the namespace shop: (\S+)", re.M)


def test_the_api_page_shows_the_walkthrough_and_the_sdk_example_that_are_tested() -> None:
    page = (ROOT / "docs" / "api.md").read_text()
    script = SCRIPT.read_text().split("\nBASE=", 1)[1]
    assert "```sh\nBASE=" + script + "```" in page
    example = SDK_EXAMPLE.read_text().split('"""\n\n', 1)[1]
    assert "```python\n" + example + "```" in page


def _run(command: list[str], environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def _search_answer(stdout: str) -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = json.loads(re.findall(r"^\{.*\}$", stdout, re.M)[-1])[
        "documents"
    ]
    return documents


def test_the_walkthrough_and_the_sdk_example_run_as_written(tmp_path: Path) -> None:
    with server_process(tmp_path) as (url, _):
        port = url.rsplit(":", 1)[1]
        environment = {
            **os.environ,
            "PORT": port,
            "RETRIEVER_PAGES_DATA_DIR": str(tmp_path),
            "RETRIEVER_PAGES_SECRET_KEY": "f" * 40,
            "RP": f"{sys.executable} -m app.cli",
        }
        first = _run(["bash", str(SCRIPT)], environment)
        assert first.returncode == 0, first.stderr
        key_shown = KEY_LINE.search(first.stdout)
        assert key_shown is not None  # the key is shown, once, to be kept
        key = key_shown.group(1)
        assert key.startswith("sk_")
        documents = _search_answer(first.stdout)
        assert documents
        assert all(d["price"] < 100 and d["in_stock"] is True for d in documents)
        assert f"The page: http://localhost:{port}/r/shop-products" in first.stdout
        assert httpx.get(f"{url}/r/shop-products?query=lamp").status_code == 200

        # Run again: the page is there already, and is searched as it is.
        second = _run(["bash", str(SCRIPT)], environment)
        assert second.returncode == 0, second.stderr
        assert "shop-products is published already" in second.stdout
        assert _search_answer(second.stdout) == documents
        assert "Traceback" not in second.stderr

        # The SDK example, with the key the walkthrough printed: the page read, then searched.
        sdk = _run([sys.executable, str(SDK_EXAMPLE)], {**environment, "KEY": key})
        assert sdk.returncode == 0, sdk.stderr
        lines = sdk.stdout.splitlines()
        assert lines[0] == f"Shop products: http://localhost:{port}/r/shop-products (on)"
        assert lines[1].startswith("  shows title, description, price")
        total = re.fullmatch(r"(\d+) lamps under \$100, the first:", lines[2])
        assert total is not None
        assert int(total.group(1)) > 0
        assert lines[3:]
        assert all(re.fullmatch(r"  .+  \$\d+\.\d+", line) for line in lines[3:])
        assert httpx.get(f"{url}/r/shop-products").status_code == 200  # still on

        # A call that fails says what the server said, and stops: the page switched off, the
        # retriever is still there, so creating it again is refused by name.
        headers = {"Authorization": f"Bearer {key}", "X-Namespace": "shop"}
        listed = httpx.get(f"{url}/v1/retrievers/published", headers=headers).json()
        retriever_id = listed["results"][0]["retriever_id"]
        httpx.delete(f"{url}/v1/retrievers/{retriever_id}/publish", headers=headers)
        third = _run(["bash", str(SCRIPT)], environment)
        assert third.returncode != 0
        assert "A retriever named 'products' already exists in this namespace." in third.stderr
        assert "Traceback" not in third.stderr
        assert "The page:" not in third.stdout
