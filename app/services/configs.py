"""The checks a display config passes before it is stored, beyond its own schema: each needs
something the schema cannot see (the renderer registry, the namespace's plugins)."""

from __future__ import annotations

from typing import Any

from app.rendering.registry import Renderers
from app.schemas.display import DisplayConfig
from app.services.inputs import check_defaults
from app.services.plugins import check_plugin_fields

WHERE = "display_config"


def check_display(renderers: Renderers, conn: Any, namespace: str, display: DisplayConfig) -> None:
    """422s naming the first field format that is not registered, input default its schema
    refuses, or plugin the page could not show."""
    renderers.check(display, WHERE)
    check_defaults(display.inputs, WHERE)
    check_plugin_fields(conn, namespace, display, WHERE)
