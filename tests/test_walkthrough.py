"""The README's API walkthrough runs as written, against a real server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.servers import server_process

ROOT = Path(__file__).parents[1]
SCRIPT = ROOT / "examples" / "walkthrough.sh"


def test_the_readme_shows_the_walkthrough_that_is_tested() -> None:
    readme = (ROOT / "README.md").read_text()
    body = SCRIPT.read_text().split("\nBASE=", 1)[1]
    assert "BASE=" + body in readme


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    with server_process(tmp_path) as (url, _):
        port = url.rsplit(":", 1)[1]
        environment = {
            **os.environ,
            "PORT": port,
            "RETRIEVER_PAGES_DATA_DIR": str(tmp_path),
            "RETRIEVER_PAGES_SECRET_KEY": "f" * 40,
            "RP": f"{sys.executable} -m app.cli",
        }
        result = subprocess.run(
            ["bash", str(SCRIPT)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        answer = json.loads(re.findall(r"^\{.*\}$", result.stdout, re.M)[-1])
        documents = answer["documents"]
        assert documents
        assert all(d["price"] < 100 and d["in_stock"] is True for d in documents)
        assert f"The page: http://localhost:{port}/r/shop-products" in result.stdout
        page = httpx.get(f"{url}/r/shop-products?query=lamp")
        assert page.status_code == 200
