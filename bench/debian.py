"""A catalog of real public text that any Debian machine can build offline: its package index.

`apt-cache dumpavail` lists every package the machine knows of (about 63,000 on bookworm) with
a name, a one-line description written by people, a section, debtags, a maintainer and sizes:
real words with real frequencies ("library" is in about a fifth of them), which generated
words are not.

    python -m bench.debian catalog.jsonl      # writes one JSON object a line
"""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def records() -> Iterator[dict[str, Any]]:
    """One record a package (its newest stanza wins), as the engine and Datasette take it."""
    text = subprocess.run(
        ["apt-cache", "dumpavail"], capture_output=True, text=True, check=True
    ).stdout
    seen: dict[str, dict[str, Any]] = {}
    for stanza in text.split("\n\n"):
        fields = _fields(stanza)
        name = fields.get("Package")
        if not name or not fields.get("Description"):
            continue
        maintainer = fields.get("Maintainer", "").split("<")[0].strip()
        seen[name] = {
            "document_id": name,
            "title": name,
            "description": fields["Description"],
            "section": fields.get("Section", "unknown"),
            "priority": fields.get("Priority", "optional"),
            "maintainer": maintainer,
            "tags": [t.strip() for t in fields.get("Tag", "").split(",") if t.strip()],
            "installed_size_kb": int(fields.get("Installed-Size", "0") or 0),
            "version": fields.get("Version", ""),
            "homepage": fields.get("Homepage"),
        }
    yield from seen.values()


def _fields(stanza: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    key = None
    for line in stanza.splitlines():
        if line.startswith((" ", "\t")) and key:
            fields[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def write(path: Path) -> int:
    count = 0
    with path.open("w") as handle:
        for record in records():
            handle.write(json.dumps(record) + "\n")
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    args = parser.parse_args()
    print(f"{write(args.path):,} packages written to {args.path}")


if __name__ == "__main__":
    main()
