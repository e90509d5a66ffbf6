"""Where the bundled files are: inside the package when installed from a wheel, beside it in
a checkout (an editable install)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name


STATIC_DIR = _bundled("static")
TEMPLATES_DIR = _bundled("templates")
EXAMPLES_DIR = _bundled("examples")
SAMPLE_CATALOG = PACKAGE / "sample" / "catalog.jsonl"
