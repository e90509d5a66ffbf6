"""Marketplace icons: a PNG, WebP or SVG image sent as base64, checked by its bytes (not by
what it claims to be), and an SVG rebuilt from an allow-list.

An SVG is a document that can carry scripts, event handlers, external references and styles
that load other resources. The icon is served to every visitor of the marketplace, so only
plain drawing survives: the elements and attributes below, `href`s that point inside the
image, and nothing that names a URL. DTDs and entities are refused outright (defusedxml).
"""

from __future__ import annotations

import base64
import binascii
import re
import xml.etree.ElementTree as ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ICON_RULE = "a base64 PNG, WebP or SVG image (optionally as a data:image/...;base64, URI)"

_ELEMENTS = {
    "svg", "g", "path", "circle", "ellipse", "line", "polyline", "polygon", "rect", "text",
    "tspan", "defs", "linearGradient", "radialGradient", "stop", "title", "desc", "clipPath",
    "mask", "use", "symbol",
}  # fmt: skip
_ATTRIBUTES = {
    "viewBox", "width", "height", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry",
    "d", "points", "fill", "fill-opacity", "fill-rule", "clip-rule", "stroke", "stroke-width",
    "stroke-linecap", "stroke-linejoin", "stroke-opacity", "stroke-dasharray", "opacity",
    "transform", "id", "offset", "stop-color", "stop-opacity", "gradientUnits",
    "gradientTransform", "clip-path", "mask", "font-size", "font-family", "font-weight",
    "text-anchor", "dominant-baseline", "preserveAspectRatio", "version", "fx", "fy",
}  # fmt: skip
# A paint or reference value may point inside the image (url(#id)), never anywhere else.
_LOCAL_URL = re.compile(r"url\(\s*#[A-Za-z0-9_.-]+\s*\)")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
_DATA_URI = re.compile(r"data:image/(?:png|webp|svg\+xml);base64,", re.IGNORECASE)


def checked_icon(value: str) -> str:
    """The icon as a data URI of its real type, an SVG sanitised; ValueError if it is not one."""
    text = _DATA_URI.sub("", value.strip(), count=1)
    if not _BASE64.fullmatch(text):
        raise ValueError(f"must be {ICON_RULE}")
    try:
        data = base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError):
        raise ValueError(f"must be {ICON_RULE}") from None
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _uri("image/png", data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _uri("image/webp", data)
    return _uri("image/svg+xml", sanitised_svg(data))


def sanitised_svg(data: bytes) -> bytes:
    try:
        root = fromstring(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise ValueError(f"must be {ICON_RULE}; this is none of them") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise ValueError(f"must be {ICON_RULE}; this is none of them")
    ElementTree.register_namespace("", SVG_NS)
    return bytes(ElementTree.tostring(_clean(root), encoding="utf-8"))


def _clean(element: ElementTree.Element) -> ElementTree.Element:
    name = element.tag.removeprefix(f"{{{SVG_NS}}}")
    copy = ElementTree.Element(f"{{{SVG_NS}}}{name}")
    for key, value in element.attrib.items():
        if key in _ATTRIBUTES and _safe_value(value):
            copy.set(key, value)
        elif key in ("href", f"{{{XLINK_NS}}}href") and value.startswith("#"):
            copy.set("href", value)
    copy.text = element.text if name in ("text", "tspan", "title", "desc") else None
    for child in element:
        child_name = child.tag.removeprefix(f"{{{SVG_NS}}}")
        if child_name in _ELEMENTS:  # anything else (script, style, foreignObject, image) goes
            cleaned = _clean(child)
            cleaned.tail = None
            copy.append(cleaned)
    return copy


def _safe_value(value: str) -> bool:
    lowered = value.lower()
    if "url(" in lowered:
        return all(_LOCAL_URL.fullmatch(part.strip()) for part in _urls(lowered))
    return "javascript:" not in lowered and "expression(" not in lowered


def _urls(value: str) -> list[str]:
    return re.findall(r"url\([^)]*\)", value)


def _uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"
