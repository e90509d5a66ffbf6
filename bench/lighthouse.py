"""Lighthouse's four scores for the demo's pages and the console's, as a phone (Lighthouse's
default: a mid-range phone on a throttled network) and as a desktop, in Debian's Chromium. Run
by `scripts/lighthouse`, which installs Lighthouse from the npm registry. The console's pages
past its sign-in are audited signed in with the demo's owner key (the session's cookie sent
with every request).

    python -m bench.lighthouse [--lighthouse PATH]
"""

from __future__ import annotations

import argparse
import html
import json
import re
import subprocess
import tempfile
from pathlib import Path

import httpx

from app import urls
from app.services.demo import DEMO_NAMESPACE, seed_demo
from app.settings import Settings
from app.web.app import create_app
from bench.pages import TABS_SLUG, make_three_tabs
from tests.servers import LiveServer, free_port

LIGHTHOUSE = Path(".bench/lighthouse/node_modules/.bin/lighthouse")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
PAGES = {
    "search page, 20 results": "/r/product-search?query=a",
    "filters picked": "/r/product-search?query=lamp&f.brand=Lumen&sort=price",
    "detail page": "/r/product-search/d/p0001",
    "directory": "/",
    "console: sign in": "/console/sign-in",
}
# A page of three tabs over the demo's catalog (bench/pages.py makes it): its All tab, a tab.
TAB_PAGES = {
    "page of tabs: All": f"/p/{TABS_SLUG}?tab=all&query=lamp",
    "page of tabs: a tab": f"/p/{TABS_SLUG}?tab=names&query=lamp",
}
SIGNED_IN = {
    "console: retrievers": "/console/retrievers",
    "console: collections": "/console/collections",
}


def audit(
    lighthouse: Path, url: str, desktop: bool, cookie: str | None = None
) -> dict[str, object]:
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
    if cookie:
        command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
    report: dict[str, object] = json.loads(done.stdout)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lighthouse", type=Path, default=LIGHTHOUSE)
    parser.add_argument("--only", default="", help="only the pages whose name has this text")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        settings = Settings(data_dir=Path(tmp), public_url=f"http://127.0.0.1:{port}")
        demo = seed_demo(settings)
        with LiveServer(create_app(settings), port=port) as server:
            cookie = sign_in(server.url, demo.owner_key)
            owner = {"Authorization": f"Bearer {demo.owner_key}", "X-Namespace": DEMO_NAMESPACE}
            with httpx.Client(base_url=server.url) as client:
                make_three_tabs(client, owner, demo.public_name)
            pages = [(name, path, None) for name, path in {**PAGES, **TAB_PAGES}.items()]
            pages += [(name, path, cookie) for name, path in SIGNED_IN.items()]
            editor = urls.console_retriever(retriever_id(server.url, demo.owner_key))
            pages.append(("console: page editor", editor, cookie))
            print(f"{'page':<26} {'device':<8} " + " ".join(f"{c[:13]:>14}" for c in CATEGORIES))
            for name, path, sent in [page for page in pages if args.only in page[0]]:
                for desktop in (False, True):
                    report = audit(args.lighthouse, server.url + path, desktop, sent)
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


def retriever_id(base: str, key: str) -> str:
    """The demo's retriever, as the owner API lists it."""
    listed = httpx.get(
        f"{base}/v1/retrievers/published",
        headers={"Authorization": f"Bearer {key}", "X-Namespace": DEMO_NAMESPACE},
    ).json()
    found: str = listed["results"][0]["retriever_id"]
    return found


def sign_in(base: str, key: str) -> str:
    """The console's session cookie (`name=value`) for an owner key."""
    with httpx.Client(base_url=base, headers={"Origin": base}) as client:
        form = client.get("/console/sign-in").text
        token = re.search(r'name="token" value="([^"]+)"', form)
        assert token is not None, "the sign-in form has no token"
        signed = client.post(
            "/console/sign-in", data={"token": html.unescape(token[1]), "key": key}
        )
        assert signed.status_code in (200, 303), signed.text
        return f"rp_console={client.cookies['rp_console']}"


if __name__ == "__main__":
    main()
