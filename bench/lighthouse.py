"""Lighthouse's four scores for the demo's pages, as a phone (Lighthouse's default: a mid-range
phone on a throttled network) and as a desktop, in Debian's Chromium. Run by
`scripts/lighthouse`, which installs Lighthouse from the npm registry.

    python -m bench.lighthouse [--lighthouse PATH]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

from app.services.demo import seed_demo
from app.settings import Settings
from app.web.app import create_app
from tests.servers import LiveServer, free_port

LIGHTHOUSE = Path(".bench/lighthouse/node_modules/.bin/lighthouse")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = {
    "search page, 20 results": "/r/product-search?query=a",
    "filters picked": "/r/product-search?query=lamp&f.brand=Lumen&sort=price",
    "detail page": "/r/product-search/d/p0001",
    "directory": "/",
}


def audit(lighthouse: Path, url: str, desktop: bool) -> dict[str, object]:
    command = [
        str(lighthouse),
        url,
        "--chrome-path=/usr/bin/chromium",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        "--output=json",
        "--output-path=stdout",
        "--quiet",
        f"--only-categories={','.join(CATEGORIES)}",
    ]
    if desktop:
        command.append("--preset=desktop")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    report: dict[str, object] = json.loads(done.stdout)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lighthouse", type=Path, default=LIGHTHOUSE)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = Settings(data_dir=Path(tmp), public_url=f"http://127.0.0.1:{port}")
        seed_demo(settings)
        with LiveServer(create_app(settings), port=port) as server:
            print(f"{'page':<26} {'device':<8} " + " ".join(f"{c[:13]:>14}" for c in CATEGORIES))
            for name, path in PAGES.items():
                for desktop in (False, True):
                    report = audit(args.lighthouse, server.url + path, desktop)
                    categories = report["categories"]
                    assert isinstance(categories, dict)
                    scores = [round(categories[c]["score"] * 100) for c in CATEGORIES]
                    device = "desktop" if desktop else "phone"
                    print(f"{name:<26} {device:<8} " + " ".join(f"{s:>14}" for s in scores))
                    audits = report["audits"]
                    assert isinstance(audits, dict)
                    for key, found in audits.items():
                        failing = found.get("score") is not None and found["score"] < 0.9
                        if failing and found.get("scoreDisplayMode") in ("binary", "numeric"):
                            print(f"    below 90: {key}: {found.get('displayValue', '')}")


if __name__ == "__main__":
    main()
