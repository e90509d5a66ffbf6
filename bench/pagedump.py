"""Every kind of search page this server draws, dumped to one JSON file, to compare two codes
byte for byte (nonces, execution ids and signed tokens aside): the demo's page with filters
chosen, a sort, a second page, no results, a refused input, browsing, its embed, the results
fragment; a config of one input and no panel; a locked page; a page of three tabs.

    python bench/pagedump.py OUT.json [--code DIR]
    python bench/pagedump.py --compare A.json B.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

VARYING = [
    (re.compile(r"nonce-[A-Za-z0-9_-]+"), "nonce-N"),
    (re.compile(r'nonce="[A-Za-z0-9_-]+"'), 'nonce="N"'),
    (re.compile(r'data-execution-id="[^"]*"'), 'data-execution-id="E"'),
    (re.compile(r'name="token" value="[^"]*"'), 'name="token" value="T"'),
]


def normal(text: str) -> str:
    for pattern, replacement in VARYING:
        text = pattern.sub(replacement, text)
    return text


def dump(out: Path) -> None:
    from starlette.testclient import TestClient

    from app.services.demo import DEMO_COLLECTION, seed_demo
    from app.settings import Settings
    from app.web.app import create_app
    from bench.pages import QUERY_INPUT, TABS, make_three_tabs, published

    pages: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), public_url="http://testserver")
        seeded = seed_demo(settings)
        with TestClient(create_app(settings)) as client:
            owner = {"Authorization": f"Bearer {seeded.owner_key}", "X-Namespace": seeded.namespace}
            demo = f"/r/{seeded.public_name}"

            def get(url: str, label: str = "", **headers: str) -> None:
                answer = client.get(url, headers=headers)
                key = label + url + (f" {headers}" if headers else "")
                pages[key] = [answer.status_code, normal(answer.text)]

            first = client.get(f"{demo}?query=a").text
            boxes = re.findall(r'type="checkbox" name="([^"]+)" value="([^"]+)" form', first)
            sorts = re.findall(r'<option value="([^"]+)"', first.split('id="sort"')[-1])
            chosen = "&".join(f"{n}={v}" for n, v in boxes[:2])
            other = "&".join(f"{n}={v}" for n, v in boxes[-2:])
            for query in [
                "query=a",
                "query=headphones",
                "query=zzqqxx",
                "query=hedphones",
                "",
                "query=a&page=2",
                "query=a&page=99",
                f"query=a&{chosen}",
                f"query=a&{other}",
                f"{chosen}",
                *(f"query=a&sort={s}" for s in sorts[:3]),
                "query=a&price.min=10&price.max=200",
                "query=a&price.min=abc",
                "query=" + "x" * 600,
                "query=%3Cscript%3E%22'",
                "query=a&similar_to=nope",
            ] * 2:  # twice: the second time from whatever the first kept
                get(f"{demo}?{query}", "again: " if f"{demo}?{query}" in pages else "")
            get(f"{demo}?query=a&{chosen}", **{"X-Partial": "results"})
            get(f"{demo}/embed?query=a&origin=http://localhost:3000")
            get(f"{demo}/embed?query=a&origin=https://elsewhere.example")
            listing = client.get("/v1/retrievers/published", headers=owner).json()["results"]
            rid = listing[0]["retriever_id"]
            # A plain config: one input, no panel, no formats (the Debian page's shape).
            plain = {
                "title": "Plain <search>",
                "inputs": [QUERY_INPUT],
                "exposed_fields": ["title", "description", "brand", "price", "url"],
            }
            fields = ["title", "description"]
            published(client, owner, "plain", DEMO_COLLECTION, fields, plain)
            plains = ["query=a", "query=desk+lamp", "", "query=zzqqxx", "query=a&page=3"]
            for query in [*plains, "query=%3Cscript%3E%22'%26amp", "query=+"] * 2:
                get(f"/r/plain?{query}", "again: " if f"/r/plain?{query}" in pages else "")
            get("/r/plain/embed?query=a")
            make_three_tabs(client, owner, seeded.public_name)
            first_tab, last_tab = next(iter(TABS)), list(TABS)[-1]
            for query in ["tab=all&query=a", f"tab={first_tab}&query=a", f"tab={last_tab}", ""]:
                get(f"/p/bench-tabs?{query}")
            get(f"/p/bench-tabs?tab={first_tab}&query=lamp", **{"X-Partial": "results"})
            # Locked: the password form.
            client.post(
                "/v1/organizations/secrets",
                headers=owner,
                json={"secret_name": "pw", "secret_value": "hunter22"},
            )
            client.patch(
                f"/v1/retrievers/{rid}/publish", headers=owner, json={"password_secret_name": "pw"}
            ).raise_for_status()
            get(f"{demo}?query=a", "locked: ")
            get("/r/nobody-here?query=a")
    out.write_text(json.dumps(pages, indent=1, ensure_ascii=False))
    print(f"{len(pages)} pages written to {out}")


def compare(a: Path, b: Path) -> None:
    left, right = json.loads(a.read_text()), json.loads(b.read_text())
    differ = [k for k in left if left[k] != right.get(k)] + [k for k in right if k not in left]
    for key in differ:
        print(f"differs: {key}")
    print(f"{len(left)} pages, {len(differ)} differ")
    sys.exit(1 if differ else 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, nargs="?")
    parser.add_argument("--code", type=Path, help="another checkout's app")
    parser.add_argument("--compare", type=Path, nargs=2)
    args = parser.parse_args()
    if args.compare:
        compare(*args.compare)
        return
    code = (args.code or Path(__file__).parents[1]).resolve()
    sys.path[0] = str(code)  # not bench/, whose typesense.py would hide the client's package
    sys.path.insert(1, str(Path(__file__).parents[1]))  # this tree's bench.pages
    dump(args.out)


if __name__ == "__main__":
    main()
