"""The marketplace's pages (a gallery, and a page per plugin with a live preview) and the
sandboxed documents that plugin frames load."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from app.rendering.plugins import plugin_field
from app.web.requests import call, int_param, services_of, text_param
from app.web.templates import render

GALLERY_PAGE_SIZE = 24
# What a listing without sample values is previewed on.
DEFAULT_SAMPLES: list[Any] = [4.5, "A sample value"]
PERMISSION_TEXT = {
    "read_document": "Reads the other fields shown on the same result card.",
    "open_links": "May open links in a new tab.",
}


async def gallery(request: Request) -> Response:
    words, category, tag = (text_param(request, name) for name in ("q", "category", "tag"))
    page = int_param(request, "page", 0, 0, 100_000)
    marketplace = services_of(request).marketplace
    listing = await call(marketplace.search, words, category, tag, page, GALLERY_PAGE_SIZE)
    return render(
        request,
        "plugins.html",
        listing=listing,
        query=words or "",
        category=category,
        tag=tag,
    )


async def plugin_page(request: Request) -> Response:
    marketplace = services_of(request).marketplace
    plugin, frame = await call(marketplace.preview, request.path_params["public_name"])
    samples = plugin.sample_values or DEFAULT_SAMPLES
    previews = [
        plugin_field(frame, "Preview", value, escape(str(value)), {}, [], "value")
        for value in samples
    ]
    permissions = [
        PERMISSION_TEXT.get(p, f"May connect to {p.removeprefix('network:')}.")
        for p in plugin.permissions
    ]
    return render(
        request,
        "plugin.html",
        frames=[frame],
        plugin=plugin,
        previews=previews,
        permissions=permissions,
    )


def frame_policy(permissions: Sequence[str]) -> str:
    """The CSP of a plugin's document. `sandbox` gives it an opaque origin even when opened
    on its own, outside the page's sandboxed frame: it can never act as this server."""
    origins = [p.removeprefix("network:") for p in permissions if p.startswith("network:")]
    connect = " ".join(origins) or "'none'"
    sandbox = "allow-scripts"
    if "open_links" in permissions:
        sandbox += " allow-popups allow-popups-to-escape-sandbox"
    return (
        f"sandbox {sandbox}; default-src 'none'; script-src 'unsafe-inline'; "
        "style-src 'unsafe-inline'; img-src data: https:; font-src data:; "
        f"connect-src {connect}; "
        "form-action 'none'; base-uri 'none'"
    )


async def plugin_icon(request: Request) -> Response:
    marketplace = services_of(request).marketplace
    media_type, data = await call(marketplace.icon, request.path_params["public_name"])
    return Response(
        data,
        media_type=media_type,
        headers={
            # An SVG opened on its own is a document: give it nothing to run or load.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "public, max-age=300",
        },
    )


async def plugin_frame(request: Request) -> Response:
    plugins = services_of(request).plugins
    params = request.path_params
    blob, permissions = await call(plugins.frame, params["plugin_id"], params["version"])
    return HTMLResponse(
        blob,
        headers={
            "Content-Security-Policy": frame_policy(permissions),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            # A version never changes, but a plugin may become a draft or go: not forever.
            "Cache-Control": "public, max-age=300",
        },
    )


routes = [
    Route("/plugins", gallery, methods=["GET"]),
    Route("/plugins/frame/{plugin_id}/{version}", plugin_frame, methods=["GET"]),
    Route("/plugins/{public_name}", plugin_page, methods=["GET"]),
    Route("/plugins/{public_name}/icon", plugin_icon, methods=["GET"]),
]
