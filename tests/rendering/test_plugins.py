"""A plugin frame's sources for the page's `frame-src`: this server, or an entry point's origin
rebuilt from its parts, never text copied from a stored URL."""

from __future__ import annotations

import pytest

from app.rendering.plugins import PluginFrame, frame_sources


def _frame(src: str) -> PluginFrame:
    return PluginFrame(tag="stars", name="Stars", src=src)


def test_an_entry_points_origin_is_its_scheme_host_and_port() -> None:
    frame = _frame("https://Plugins.Example.com:8443/stars/index.html?v=2#top")
    assert frame.origin == "https://plugins.example.com:8443"
    assert frame_sources([frame, _frame("/plugins/frame/plg_1/1.0.0")]) == [
        "'self'",
        "https://plugins.example.com:8443",
    ]


@pytest.mark.parametrize(
    "src",
    [
        "https://evil.example,script-src",
        "https://evil.example;script-src 'unsafe-inline'",
        "https://user:secret@evil.example/x",
        "https://evil.example/a b",
        "http://evil.example/x",
    ],
)
def test_a_url_that_is_no_plain_entry_point_adds_no_source(src: str) -> None:
    assert _frame(src).origin is None
    assert frame_sources([_frame(src)]) == ["'none'"]
