"""The page's schema.org JSON-LD (`seo.structured_data`), safe inside a `<script>` element."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from app import jsonutil
from app.schemas.display import DisplayConfig


def structured_data(display: DisplayConfig, url: str) -> dict[str, Any]:
    """What the page says of itself, with the publisher's properties over it."""
    seo = display.seo
    config = seo.structured_data if seo else None
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": config.type if config else "WebApplication",
        "name": display.title,
        "url": url,
    }
    if display.description:
        data["description"] = display.description
    if seo and seo.logo_url:
        data["logo"] = seo.logo_url
    if config and config.additional_properties:
        data.update(config.additional_properties)
    return data


def ld_json(value: Any) -> Markup:
    """JSON for a script element: `<`, `>` and `&` as \\u escapes, so that no value can close
    the element or open a comment, whatever it holds."""
    text = jsonutil.dumps(value).decode()
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(text)  # noqa: S704 - JSON with every markup character escaped above
