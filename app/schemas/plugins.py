"""Renderer plugins (seeds 003 and 004): an HTML blob or an https entry point that a result card
shows in a sandboxed frame. Cortex's camelCase names are accepted beside the snake_case ones."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from app import jsonutil
from app.schemas.base import Model, StrictModel, matching
from app.schemas.roles import Role

MAX_BLOB_BYTES = 256 * 1024
MAX_PARAMETERS_BYTES = 16 * 1024
PLUGIN_ID_PREFIX = "plg_"
TAG = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]")
SEMVER = re.compile(r"(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ORIGIN = re.compile(rf"https://(?P<host>{_LABEL}(?:\.{_LABEL})*)(?::(?P<port>\d{{1,5}}))?")
# After the origin, a path, query and fragment in the characters a URL needs: never a space,
# quote, comma, semicolon or backslash, which could end a CSP source or an HTML attribute.
_URL_REST = re.compile(r"(?:[/?#][A-Za-z0-9\-._~!$&()*+=:@/%?#]*)?")
MAX_PORT = 65535
PERMISSIONS_RULE = "read_document, open_links or network:<https origin>"
ENTRY_URL_RULE = (
    "an https:// URL with a host name, an optional port and a path, without credentials, "
    "spaces, quotes, commas or semicolons"
)

Tag = Annotated[
    str,
    StringConstraints(min_length=3, max_length=50),
    matching(TAG, "3 to 50 lowercase letters, digits and hyphens, not starting or ending with -"),
]
Version = Annotated[str, matching(SEMVER, "a version such as 1.0.0")]


def origin_of(value: str) -> str | None:
    """`https://host[:port]` of an https origin, or None if `value` is not exactly one."""
    match = ORIGIN.fullmatch(value)
    return _origin(match) if match else None


def entry_origin(url: str) -> str | None:
    """The origin of a plugin's entry point, rebuilt from its parts (what a page's CSP
    `frame-src` names), or None if `url` is not an entry point this server accepts."""
    match = ORIGIN.match(url)
    if match is None or not _URL_REST.fullmatch(url, match.end()):
        return None
    return _origin(match)


def _origin(match: re.Match[str]) -> str | None:
    port = match["port"]
    if port is not None and not 1 <= int(port) <= MAX_PORT:
        return None
    return f"https://{match['host'].lower()}" + (f":{int(port)}" if port else "")


def _entry_url(url: str) -> str:
    if entry_origin(url) is None:
        raise ValueError(f"{url[:80]!r} is not allowed; expected {ENTRY_URL_RULE}")
    return url


EntryUrl = Annotated[str, StringConstraints(max_length=2048), AfterValidator(_entry_url)]


def _parameters_bytes(parameters: dict[str, Any]) -> dict[str, Any]:
    if len(jsonutil.dumps(parameters)) > MAX_PARAMETERS_BYTES:
        raise ValueError(f"parameters are over {MAX_PARAMETERS_BYTES} bytes of JSON")
    return parameters


# A plugin's settings: the plugin's own, and a field's over them (`format_options.parameters`).
Parameters = Annotated[dict[str, Any], AfterValidator(_parameters_bytes)]
Blob = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BLOB_BYTES)]


def _permission(value: str) -> str:
    if value in ("read_document", "open_links"):
        return value
    if value.startswith("network:") and origin_of(value.removeprefix("network:")):
        return value
    raise ValueError(f"{value[:80]!r} is not a permission; permissions are {PERMISSIONS_RULE}")


class PluginFields(StrictModel):
    """What a plugin holds besides its tag; every field optional (a partial update)."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    description: Annotated[str, StringConstraints(max_length=1000)] | None = None
    blob: Blob | None = None
    url: EntryUrl | None = None
    is_draft: bool | None = Field(
        default=None, validation_alias=AliasChoices("is_draft", "isDraft")
    )
    minimum_role_required: Role | None = Field(
        default=None,
        validation_alias=AliasChoices("minimum_role_required", "minimumRoleRequired"),
    )
    version: Version | None = None
    icon_tag: Annotated[str, StringConstraints(max_length=50)] | None = Field(
        default=None, validation_alias=AliasChoices("icon_tag", "iconTag")
    )
    parameters: Parameters | None = None
    permissions: list[str] | None = Field(default=None, max_length=20)

    @field_validator("blob")
    @classmethod
    def _blob_bytes(cls, blob: str | None) -> str | None:
        if blob is not None and len(blob.encode()) > MAX_BLOB_BYTES:
            raise ValueError(f"the blob is over {MAX_BLOB_BYTES} bytes")
        return blob

    @field_validator("permissions")
    @classmethod
    def _known_permissions(cls, permissions: list[str] | None) -> list[str] | None:
        return None if permissions is None else [_permission(p) for p in permissions]

    @model_validator(mode="after")
    def _one_body(self) -> PluginFields:
        if self.blob is not None and self.url is not None:
            raise ValueError(
                "send either blob (an HTML document) or url (an entry point), not both"
            )
        return self


class CreatePluginRequest(PluginFields):
    tag: Tag
    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _a_body(self) -> CreatePluginRequest:
        if self.blob is None and self.url is None:
            raise ValueError("send blob (an HTML document) or url (an https entry point)")
        return self


class ReplacePluginRequest(PluginFields):
    """Cortex's replace: name, a body and the draft flag and role are required."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    is_draft: bool = Field(validation_alias=AliasChoices("is_draft", "isDraft"))
    minimum_role_required: Role = Field(
        validation_alias=AliasChoices("minimum_role_required", "minimumRoleRequired")
    )

    @model_validator(mode="after")
    def _a_body(self) -> ReplacePluginRequest:
        if self.blob is None and self.url is None:
            raise ValueError("send blob (an HTML document) or url (an https entry point)")
        return self


class PluginMeta(Model):
    version: int


class PluginResponse(Model):
    plugin_id: str
    tag: str
    name: str
    description: str | None
    url: str | None
    blob: str | None = None
    is_draft: bool
    minimum_role_required: Role
    version: str
    icon_tag: str | None
    parameters: dict[str, Any]
    permissions: list[str]
    created_at: datetime
    last_updated: datetime
    meta: PluginMeta


class PluginList(Model):
    page: int
    page_size: int
    total: int
    total_pages: int
    plugins: list[PluginResponse]


class PluginVersion(Model):
    version: str
    url: str | None
    created_at: datetime


class PluginVersionList(Model):
    plugin_id: str
    versions: list[PluginVersion]
