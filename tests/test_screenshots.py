"""A test run changes no tracked file: the browser tests save their screenshots in a folder
git ignores, and scripts/screenshots copies the pictures the README and docs/ show from there
into docs/screenshots."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import SCREENSHOTS

ROOT = Path(__file__).parents[1]
SAVED = re.compile(r"""\.screenshot\(\s*path=str\(SCREENSHOTS / "([\w-]+\.png)"\)""")


def _test_modules() -> list[Path]:
    return sorted((ROOT / "tests").rglob("test_*.py"))


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_screenshots_go_to_a_folder_git_ignores() -> None:
    assert ROOT / "docs" not in SCREENSHOTS.parents
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(SCREENSHOTS / "desktop.png")], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, f"{SCREENSHOTS} is not in .gitignore"


def test_every_screenshot_a_test_takes_is_saved_there() -> None:
    for module in _test_modules():
        text = module.read_text()
        calls = len(re.findall(r"\.screenshot\(", text))
        assert len(SAVED.findall(text)) == calls, f"{module.name} saves a screenshot elsewhere"


def _shown() -> set[str]:
    """The pictures the README and the pages under docs/ show."""
    pages = [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]
    return {
        name
        for page in pages
        for name in re.findall(r"\]\((?:docs/)?screenshots/([\w-]+\.png)\)", page.read_text())
    }


def test_every_picture_the_docs_show_is_one_a_browser_test_takes() -> None:
    shown = _shown()
    taken = {name for module in _test_modules() for name in SAVED.findall(module.read_text())}
    assert shown
    assert shown <= taken, f"scripts/screenshots could not refresh {sorted(shown - taken)}"
