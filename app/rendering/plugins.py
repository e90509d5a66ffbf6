"""A field drawn by a renderer plugin: a sandboxed frame beside the field's plain text.

The frame is `sandbox="allow-scripts"` and never `allow-same-origin`, so its document has an
opaque origin: it cannot read the page's cookies, storage or DOM, navigate the page, or
submit forms. The page's script (`static/plugins.js`) posts it the message kept on the
wrapper (the value, the parameters and, with `read_document`, the card's other exposed
fields) and shows it once it reports a height; until then, and without JavaScript, the
field's text is what shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from app import jsonutil
from app.schemas.plugins import entry_origin

MAX_HEIGHT = 600  # px, for a frame that sizes itself


@dataclass(frozen=True)
class PluginFrame:
    """One plugin as a page frames it: a version's body, its permissions and parameters."""

    tag: str
    name: str
    src: str  # this server's /plugins/frame/... for a blob, the entry point for a URL plugin
    permissions: tuple[str, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)
    height: int | None = None  # fixed by the field's format_options, else what the frame says

    @property
    def sandbox(self) -> str:
        if "open_links" in self.permissions:
            # Links open in a new, unsandboxed tab; the page itself still cannot be navigated.
            return "allow-scripts allow-popups allow-popups-to-escape-sandbox"
        return "allow-scripts"

    @property
    def is_blob(self) -> bool:
        """Framed from this server's own /plugins/frame/... document."""
        return self.src.startswith("/")

    @property
    def origin(self) -> str | None:
        """The entry point's origin, rebuilt from its parsed scheme, host and port, for the
        page's `frame-src`; None for a blob, or a URL that is not a plain https entry point."""
        return None if self.is_blob else entry_origin(self.src)


def plugin_field(
    frame: PluginFrame,
    label: str,
    value: Any,
    text: Markup,
    document: dict[str, Any],
    exposed: list[str],
    field_name: str,
) -> Markup:
    """The wrapper, the field's text and the frame, with the message the frame will get."""
    message: dict[str, Any] = {
        "field": field_name,
        "value": value,
        "parameters": frame.parameters,
    }
    if "read_document" in frame.permissions:
        message["document"] = {
            name: document[name] for name in exposed if name != field_name and name in document
        }
        message["document_id"] = document.get("document_id")
    return Markup(
        '<div class="plugin" data-plugin="{tag}" data-message="{message}" data-height="{height}">'
        '<div class="plugin-text">{text}</div>'
        '<iframe class="plugin-frame" src="{src}" sandbox="{sandbox}" title="{title}" '
        'loading="lazy" referrerpolicy="no-referrer" height="0" tabindex="-1"></iframe>'
        "</div>"
    ).format(
        tag=frame.tag,
        message=jsonutil.dumps(message).decode(),
        height=frame.height or 0,
        text=text,
        src=frame.src,
        sandbox=frame.sandbox,
        title=f"{label}, drawn by the {frame.name} plugin",
    )


def frame_sources(frames: list[PluginFrame]) -> list[str]:
    """What a page's CSP `frame-src` must allow for these frames: never anything but
    `'self'` and origins, so that no stored URL can add to or end the directive."""
    sources = {"'self'"} if any(f.is_blob for f in frames) else set()
    sources.update(origin for f in frames if (origin := f.origin))
    return sorted(sources) or ["'none'"]
