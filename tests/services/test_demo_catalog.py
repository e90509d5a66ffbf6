"""The demo's sample catalog: what scripts/make-catalog writes, and what a shopper sees in it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from app.paths import SAMPLE_CATALOG, STATIC_DIR

ROOT = Path(__file__).parents[2]
COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


def _products(path: Path = SAMPLE_CATALOG) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _picture(product: dict[str, Any], static: Path = STATIC_DIR) -> str:
    return (static / product["image_url"].removeprefix("/static/")).read_text()


def test_every_product_has_a_name_of_its_own() -> None:
    titles = [product["title"] for product in _products()]
    assert len(titles) == 480
    assert len(set(titles)) == len(titles)


def test_pictures_of_a_kind_differ_by_more_than_colour() -> None:
    shapes_by_kind: dict[str, list[str]] = defaultdict(list)
    for product in _products():
        picture = _picture(product)
        kind = re.findall(r">([^<>]+)</text>", picture)[-1]
        assert product["title"].endswith(kind)
        shapes_by_kind[kind].append(COLOUR.sub("#", picture))  # its drawing, any colour
    assert len(shapes_by_kind) == 24
    for kind, drawings in shapes_by_kind.items():
        assert len(set(drawings)) == len(drawings), kind


def test_the_committed_catalog_is_what_the_script_writes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make-catalog"), str(tmp_path)],
        check=True,
        timeout=60,
    )
    written = tmp_path / SAMPLE_CATALOG.relative_to(ROOT)
    assert written.read_text() == SAMPLE_CATALOG.read_text()
    pictures = tmp_path / "static" / "demo" / "products"
    committed = STATIC_DIR / "demo" / "products"
    assert sorted(p.name for p in pictures.iterdir()) == sorted(p.name for p in committed.iterdir())
    for product in _products(written):
        assert _picture(product, tmp_path / "static") == _picture(product)
