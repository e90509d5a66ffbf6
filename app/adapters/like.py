"""Text inside a SQL LIKE pattern, as itself: the one escape every LIKE here uses."""

from __future__ import annotations

ESCAPE = "\\"


def literal(text: str) -> str:
    """`text` with LIKE's wildcards (and the escape character) escaped, for `ESCAPE '\\'`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
