"""Static files, and their fingerprinted URLs: `/static/app.3f9c2b1a0d.css` is `app.css` as it
is now, served with a year-long immutable cache, while the plain `/static/app.css` is cached
for an hour. A page always names the fingerprinted URL, so a new release is fetched at once
and an unchanged file is never asked for again."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.paths import STATIC_DIR

IMMUTABLE = "public, max-age=31536000, immutable"
PLAIN = "public, max-age=3600"
_FINGERPRINTED = re.compile(r"(?P<stem>.+)\.(?P<digest>[0-9a-f]{10})(?P<suffix>\.[A-Za-z0-9]+)")
_digests: dict[str, str | None] = {}


def digest(name: str, directory: Path = STATIC_DIR) -> str | None:
    """The first ten hex digits of the file's SHA-256 (read once: files ship with a release)."""
    if name not in _digests:
        path = directory / name
        inside = path.resolve().is_relative_to(directory.resolve())
        _digests[name] = (
            hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            if inside and path.is_file()
            else None
        )
    return _digests[name]


def asset_url(name: str) -> str:
    """`/static/<name>` with its fingerprint before the suffix."""
    found = digest(name)
    if found is None:
        return f"/static/{name}"
    stem, dot, suffix = name.rpartition(".")
    return f"/static/{stem}.{found}{dot}{suffix}"


class Static(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        match = _FINGERPRINTED.fullmatch(path)
        if match is not None:
            name = match["stem"] + match["suffix"]
            if digest(name) == match["digest"]:
                response = await super().get_response(name, scope)
                if response.status_code == 200:
                    response.headers["Cache-Control"] = IMMUTABLE
                return response
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers.setdefault("Cache-Control", PLAIN)
        return response
