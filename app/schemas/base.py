"""The base model and the constrained string types that keep config values safe to render.

Values that reach CSS (colours, lengths, font families, ratios) are validated against a
closed grammar here, so that no template ever has to escape a theme value.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
CSS_LENGTH = re.compile(r"0|\d{1,4}(?:\.\d{1,3})?(?:px|rem|em|%|vh|vw)")
FONT_NAME = r"[A-Za-z0-9_\- ]{1,60}"
FONT_FAMILY = re.compile(
    rf"(?:{FONT_NAME}|\"{FONT_NAME}\"|'{FONT_NAME}')(?:\s*,\s*(?:{FONT_NAME}|\"{FONT_NAME}\"|'{FONT_NAME}'))*"
)
ASPECT_RATIO = re.compile(
    r"auto|\d{1,4}(?:\.\d{1,3})?\s*/\s*\d{1,4}(?:\.\d{1,3})?|\d{1,4}(?:\.\d{1,3})?"
)
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,99}")
# The names that appear in paths and headers, each defined once (the OpenAPI document and
# the command line use these too).
PUBLIC_NAME = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]")
PUBLIC_NAME_RULE = (
    "3 to 50 lowercase letters, digits and hyphens, starting and ending with a letter or digit"
)
COLLECTION_NAME = re.compile(r"[a-z0-9][a-z0-9_\-]{0,62}")
COLLECTION_NAME_RULE = (
    "1 to 63 lowercase letters, digits, '_' and '-', starting with a letter or digit"
)
NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")
NAMESPACE_RULE = "1 to 200 letters, digits, '_', '.' or '-', starting with a letter or digit"
DATE_PATTERN = re.compile(r"[A-Za-z0-9 ,.:/\-]{1,40}")
IMAGE_DATA_URI = re.compile(
    r"data:image/(?:png|jpeg|gif|webp|svg\+xml|x-icon|vnd\.microsoft\.icon);base64,[A-Za-z0-9+/=\s]+"
)
BASE64 = re.compile(r"[A-Za-z0-9+/=\s]+")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


class Model(BaseModel):
    """Strict like the SDK's models (no "3" for 3); unknown keys are ignored."""

    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True)


class StrictModel(Model):
    """For bodies no SDK sends extra keys in (this server's own calls): an unknown key is a
    422 that names it, never quietly dropped."""

    model_config = ConfigDict(extra="forbid")


class OpenModel(Model):
    """For the models where the SDK sends `additional_properties` flattened: keep them."""

    model_config = ConfigDict(extra="allow")


def matching(pattern: re.Pattern[str], allowed: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value[:60]!r} is not allowed; expected {allowed}")
        return value

    return AfterValidator(check)


def _check_link(value: str) -> str:
    if _CONTROL.search(value.strip()) or not value.startswith(("https://", "http://", "/")):
        raise ValueError("must be an http(s) URL or a path starting with /")
    if value.startswith("//"):
        raise ValueError("must be an http(s) URL or a path starting with /, not //host")
    if "\\" in value:  # browsers read a backslash as "/": a path could lead to another site
        raise ValueError("must not contain a backslash")
    return value.strip()


def _check_image_url(value: str) -> str:
    if value.startswith("data:"):
        if not IMAGE_DATA_URI.fullmatch(value):
            raise ValueError("a data URI must be a base64 image (png, jpeg, gif, webp, svg, ico)")
        return value
    return _check_link(value)


def _check_icon(value: str) -> str:
    if value.startswith("data:"):
        return _check_image_url(value)
    if not BASE64.fullmatch(value):
        raise ValueError("must be a base64 image or a data:image/...;base64, URI")
    return value


HexColour = Annotated[str, matching(HEX_COLOUR, "a hex colour such as #007AFF")]
CssLength = Annotated[str, matching(CSS_LENGTH, "a CSS length such as 16px, 1rem or 50%")]
FontFamily = Annotated[
    str,
    StringConstraints(max_length=300),
    matching(FONT_FAMILY, "font names of letters, digits, spaces and hyphens, comma-separated"),
]
AspectRatio = Annotated[str, matching(ASPECT_RATIO, "a ratio such as 16/9, 1 or auto")]
FieldName = Annotated[
    str, matching(FIELD_NAME, "a field name of letters, digits, _ . and -, up to 100 characters")
]
PublicName = Annotated[
    str, StringConstraints(min_length=3, max_length=50), matching(PUBLIC_NAME, PUBLIC_NAME_RULE)
]
CollectionName = Annotated[str, matching(COLLECTION_NAME, COLLECTION_NAME_RULE)]
DatePattern = Annotated[
    str, matching(DATE_PATTERN, "'iso', 'relative' or a pattern such as 'MMM DD, YYYY'")
]
LinkUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_check_link)]
ImageUrl = Annotated[str, StringConstraints(max_length=300_000), AfterValidator(_check_image_url)]
IconBase64 = Annotated[str, StringConstraints(max_length=300_000), AfterValidator(_check_icon)]
ShortText = Annotated[str, StringConstraints(max_length=200)]
Text = Annotated[str, StringConstraints(max_length=2000)]
