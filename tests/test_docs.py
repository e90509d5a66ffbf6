"""The README and the pages under docs/ stay true to the checkout: every link leads to a file
(and a heading) that is there, every path they name exists, and the architecture's layout of
the code names only files and folders that exist; the README's search runs as written."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.servers import free_port, start_demo, wait_ready

ROOT = Path(__file__).parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# A path in backticks under one of the checkout's own folders: `app/web/openapi.py`.
NAMED_PATH = re.compile(r"`((?:app|tests|scripts|bench|examples|static|templates|docs)/[\w./-]*)`")
CODE_BLOCK = re.compile(r"^```.*?^```", re.M | re.S)
# In the layout's tree, a line that starts this far in only goes on with the line before it.
DESCRIPTION_COLUMN = 19


def _anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces to dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = CODE_BLOCK.sub("", page.read_text())
    return {_anchor(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}


def _prose(page: Path) -> str:
    return CODE_BLOCK.sub("", page.read_text())


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_leads_to_a_file_and_heading_that_are_there(page: Path) -> None:
    links = [link for link in LINK.findall(_prose(page)) if not re.match(r"\w+:", link)]
    assert links, f"{page.name} links nowhere"
    for link in links:
        target, _, anchor = link.partition("#")
        path = (page.parent / target).resolve() if target else page
        assert path.exists(), f"{page.name} links to {link}, which is not there"
        if anchor and path.suffix == ".md":
            assert anchor in _anchors(path), f"{page.name} links to {link}: no such heading"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_path_a_page_names_exists(page: Path) -> None:
    for named in NAMED_PATH.findall(page.read_text()):
        assert (ROOT / named).exists(), f"{page.name} names {named}, which is not there"


def _layout_paths(tree: str) -> list[str]:
    """The paths a layout tree names: two spaces of indent a level, names before the
    description, several on a line separated by commas (`...` stands for the rest)."""
    parents: list[str] = []
    paths = []
    for line in tree.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip() or indent >= DESCRIPTION_COLUMN:
            continue
        level = indent // 2
        del parents[level:]
        names = re.split(r"\s{2,}", line.strip())[0]
        for name in names.split(", "):
            if name != "...":
                paths.append("".join(parents) + name)
        if names.endswith("/"):
            parents.append(names)
    return paths


def test_the_architecture_layout_names_only_what_exists() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    tree = text.split("## Layout", 1)[1].split("```", 2)[1]
    paths = _layout_paths(tree)
    assert "app/web/views/" in paths
    assert "app/adapters/" in paths
    missing = [path for path in paths if not (ROOT / path).exists()]
    assert not missing, f"docs/architecture.md's layout names {missing}, which are not there"


def test_every_module_a_layer_lists_is_in_that_layer() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    layers = re.findall(r"^- \*\*\w+\*\* \(`(app/\w+/)`\):(.*?)(?=^- |^$)", text, re.M | re.S)
    assert len(layers) == 4
    for folder, listed in layers:
        modules = re.findall(r"`(\w+\.py|\w+/)`", listed)
        assert modules
        missing = [name for name in modules if not any((ROOT / folder).rglob(name.rstrip("/")))]
        assert not missing, f"docs/architecture.md lists {missing} in {folder}: not there"


def test_the_layout_reader_finds_a_missing_file() -> None:
    assert _layout_paths("app/\n  engine.py          the engine\n  web/\n    a.py, b.py  x\n") == [
        "app/",
        "app/engine.py",
        "app/web/",
        "app/web/a.py",
        "app/web/b.py",
    ]


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readme_search_runs_against_the_demo_as_written(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    [example] = [
        block
        for block in re.findall(r"^```sh\n(.*?)^```", readme, re.M | re.S)
        if block.startswith("curl ")
    ]
    port = free_port()
    process, _ = start_demo(tmp_path, port)
    try:
        wait_ready(f"http://localhost:{port}")
        command = example.replace("localhost:8000", f"localhost:{port}")
        ran = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, timeout=60, check=True
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    answer = json.loads(ran.stdout)
    documents = answer["documents"]
    assert 0 < len(documents) <= 5  # the first five
    assert all(document["price"] < 100 for document in documents)  # under $100
    assert all("lamp" in json.dumps(document).lower() for document in documents)
