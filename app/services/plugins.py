"""Renderer plugins in a namespace (seeds 003 and 004): create, list, read, replace, update,
delete, and their immutable versions.

A plugin whose `minimum_role_required` is above the caller's role does not exist for that
caller (404). Every change to the body (blob or entry-point URL) is a new version; the
`meta.version` counter moves on every change, for optimistic concurrency.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from app import crypto, urls
from app.adapters.clock import Clock, stamp
from app.adapters.store import Store, UniqueViolation
from app.adapters.store import plugins as queries
from app.adapters.store.records import PluginRecord, PluginVersionRecord
from app.errors import Conflict, NotFound, invalid
from app.rendering.plugins import PluginFrame
from app.schemas.display import DisplayConfig, FieldFormatOptions
from app.schemas.plugins import (
    PLUGIN_ID_PREFIX,
    CreatePluginRequest,
    PluginFields,
    PluginList,
    PluginMeta,
    PluginResponse,
    PluginVersion,
    PluginVersionList,
    ReplacePluginRequest,
    entry_origin,
)
from app.schemas.roles import Role
from app.services.keys import Owner

DEFAULT_VERSION = "1.0.0"
# What a request may set on a plugin (its tag is set once, by a create).
_STORED = (
    "name",
    "description",
    "blob",
    "url",
    "is_draft",
    "minimum_role_required",
    "version",
    "icon_tag",
    "parameters",
    "permissions",
)


class Plugins:
    def __init__(self, store: Store, clock: Clock, changed: Callable[[], None]) -> None:
        self.store = store
        self.clock = clock
        # Told when a plugin changes, so that pages showing it pick up the change at once.
        self.changed = changed

    def create(self, owner: Owner, request: CreatePluginRequest) -> PluginResponse:
        now = stamp(self.clock())
        record = new_plugin(owner.namespace, now, tag=request.tag, **_sent(request))
        try:
            with self.store.write() as tx:
                if queries.tag_taken(tx.conn, owner.namespace, request.tag):
                    raise _tag_taken(request.tag)
                add_plugin(tx.conn, record)
        except UniqueViolation:
            raise _tag_taken(request.tag) from None
        return plugin_response(record)

    def list(self, owner: Owner, page: int, page_size: int, include_drafts: bool) -> PluginList:
        roles = [role.value for role in Role if owner.role.allows(role)]
        with self.store.read() as tx:
            records, total = queries.listing(
                tx.conn, owner.namespace, include_drafts, roles, page_size, page * page_size
            )
        return PluginList(
            page=page,
            page_size=page_size,
            total=total,
            total_pages=math.ceil(total / page_size),
            plugins=[plugin_response(record) for record in records],
        )

    def get(self, owner: Owner, tag: str, include_blob: bool = False) -> PluginResponse:
        with self.store.read() as tx:
            record = visible_plugin(tx.conn, owner, tag)
        return plugin_response(record, include_blob=include_blob)

    def update(
        self, owner: Owner, tag: str, fields: PluginFields, expected_version: int | None = None
    ) -> PluginResponse:
        """Change the fields sent; the others stay as they are (PATCH, DatoCMS's update)."""
        return self._change(owner, tag, fields, expected_version, replace=False)

    def replace(self, owner: Owner, tag: str, request: ReplacePluginRequest) -> PluginResponse:
        """Cortex's replace: the fields sent, and every other one back to what a new plugin
        has, so that a replace without `permissions` takes them away."""
        return self._change(owner, tag, request, None, replace=True)

    def _change(
        self,
        owner: Owner,
        tag: str,
        fields: PluginFields,
        expected_version: int | None,
        *,
        replace: bool,
    ) -> PluginResponse:
        """A new blob or URL is a new version: the one sent, or the next patch version.
        Either way `meta.version` moves on."""
        with self.store.write() as tx:
            record = visible_plugin(tx.conn, owner, tag)
            if expected_version is not None and expected_version != record.meta_version:
                raise Conflict(
                    f"The plugin is at meta.version {record.meta_version}, not "
                    f"{expected_version}: read it again and resend the change.",
                    details={"current_version": record.meta_version},
                )
            sent = _sent(fields)
            changes = {**(plugin_defaults() if replace else {}), **sent, "version": record.version}
            if "blob" in sent or "url" in sent:  # a body replaces the other kind of body
                changes["blob"], changes["url"] = sent.get("blob"), sent.get("url")
            changed = record.replace(**changes)
            new_body = (changed.blob, changed.url) != (record.blob, record.url)
            if new_body:
                changed = changed.replace(version=fields.version or _next_patch(record.version))
                if queries.version_exists(tx.conn, record.plugin_id, changed.version):
                    raise Conflict(
                        f"Version {changed.version} of this plugin exists already; versions "
                        "are immutable: send another version."
                    )
            elif fields.version is not None and fields.version != record.version:
                # No new body: go back (or forth) to a version that exists, body and all.
                earlier = {v.version: v for v in queries.versions(tx.conn, record.plugin_id)}
                if fields.version not in earlier:
                    raise NotFound(f"This plugin has no version {fields.version}.")
                chosen = earlier[fields.version]
                changed = changed.replace(version=chosen.version, blob=chosen.blob, url=chosen.url)
            changed = changed.replace(
                meta_version=record.meta_version + 1, updated_at=stamp(self.clock())
            )
            queries.update(tx.conn, changed)
            if new_body:
                queries.add_version(tx.conn, _current_version(changed))
        self.changed()
        return plugin_response(changed)

    def delete(self, owner: Owner, tag: str) -> None:
        with self.store.write() as tx:
            plugin = visible_plugin(tx.conn, owner, tag)
            users = [
                record.public_name
                for record in tx.list_published(owner.namespace, 10_000, 0)[0]
                if _uses(record.display_config, plugin.tag)
            ]
            if users:
                raise Conflict(
                    f"The plugin {plugin.tag!r} is used by published retrievers "
                    f"{', '.join(repr(u) for u in users)}; change their field_config first.",
                    details={"used_by": users},
                )
            queries.delete(tx.conn, plugin.plugin_id)

    def frame(self, plugin_id: str, version: str) -> tuple[str, Sequence[str]]:
        """The HTML and permissions of a version a page may frame: a blob of a plugin that is
        not a draft. (An entry-point plugin is framed from its own URL.)"""
        with self.store.read() as tx:
            found = queries.public_version(tx.conn, plugin_id, version)
        if found is None or found[0] is None:
            raise NotFound(f"No plugin frame {plugin_id}/{version}.")
        return found[0], found[1]

    def versions(self, owner: Owner, tag: str) -> PluginVersionList:
        with self.store.read() as tx:
            plugin = visible_plugin(tx.conn, owner, tag)
            versions = queries.versions(tx.conn, plugin.plugin_id)
        return PluginVersionList(
            plugin_id=plugin.plugin_id,
            versions=[
                PluginVersion(
                    version=v.version, url=v.url, created_at=datetime.fromisoformat(v.created_at)
                )
                for v in versions
            ],
        )


def plugin_response(record: PluginRecord, *, include_blob: bool = False) -> PluginResponse:
    return PluginResponse(
        plugin_id=record.plugin_id,
        tag=record.tag,
        name=record.name,
        description=record.description,
        url=record.url,
        blob=record.blob if include_blob else None,
        is_draft=record.is_draft,
        minimum_role_required=Role(record.minimum_role_required),
        version=record.version,
        icon_tag=record.icon_tag,
        parameters=record.parameters,
        permissions=record.permissions,
        created_at=datetime.fromisoformat(record.created_at),
        last_updated=datetime.fromisoformat(record.updated_at),
        meta=PluginMeta(version=record.meta_version),
    )


def visible_plugin(conn: Any, owner: Owner, tag: str) -> PluginRecord:
    record = queries.get(conn, owner.namespace, tag)
    if record is None or not owner.role.allows(Role(record.minimum_role_required)):
        raise NotFound(f"No plugin {tag!r} in this namespace.")
    return record


def plugin_defaults() -> dict[str, Any]:
    """What a plugin holds where a create, or a replace, does not say (a fresh copy)."""
    return {
        "description": None,
        "blob": None,
        "url": None,
        "is_draft": False,
        "minimum_role_required": Role.VIEWER.value,
        "icon_tag": None,
        "parameters": {},
        "permissions": [],
    }


def new_plugin(namespace: str, now: str, **fields: Any) -> PluginRecord:
    """A new plugin: the fields given, over the defaults every new plugin has."""
    return PluginRecord(
        **{
            "plugin_id": crypto.new_id(PLUGIN_ID_PREFIX),
            "namespace": namespace,
            **plugin_defaults(),
            "version": DEFAULT_VERSION,
            "meta_version": 1,
            "created_at": now,
            "updated_at": now,
            **fields,
        }
    )


def _sent(fields: PluginFields) -> dict[str, Any]:
    """The fields a request sent (not null), as a plugin's row holds them."""
    return fields.model_dump(mode="json", include=set(_STORED), exclude_none=True)


def add_plugin(conn: Any, record: PluginRecord) -> None:
    """Store a new plugin with its first version, in the caller's transaction."""
    queries.insert(conn, record)
    queries.add_version(conn, _current_version(record))


def _current_version(record: PluginRecord) -> PluginVersionRecord:
    """The version its body is now, dated by the change that made it."""
    return PluginVersionRecord(
        plugin_id=record.plugin_id,
        version=record.version,
        blob=record.blob,
        url=record.url,
        created_at=record.updated_at,
    )


def _next_patch(version: str) -> str:
    major, minor, patch = version.split(".")
    return f"{major}.{minor}.{int(patch) + 1}"


def _uses(display_config: dict[str, Any], tag: str) -> bool:
    for config in (display_config.get("field_config") or {}).values():
        options = config.get("format_options") or {}
        if config.get("format") == "plugin" and options.get("plugin") == tag:
            return True
    return False


def _tag_taken(tag: str) -> Conflict:
    return Conflict(f"A plugin tagged {tag!r} exists already in this namespace.")


def _plugin_fields(display: DisplayConfig) -> dict[str, FieldFormatOptions]:
    return {
        name: config.format_options
        for name, config in (display.field_config or {}).items()
        if config.format == "plugin" and config.format_options is not None
    }


def check_plugin_fields(conn: Any, namespace: str, display: DisplayConfig, where: str) -> None:
    """A 422 naming the first `plugin` field whose plugin is not one the page can show: a
    plugin of this namespace, not a draft, at a version it has."""
    wanted = _plugin_fields(display)
    found = queries.by_tags(conn, namespace, sorted({o.plugin or "" for o in wanted.values()}))
    for name, options in wanted.items():
        location = f"{where}.field_config.{name}.format_options"
        plugin = found.get(options.plugin or "")
        if plugin is None:
            raise invalid(
                f"{location}.plugin",
                "a plugin of this namespace",
                f"{location}.plugin: there is no plugin {options.plugin!r} in this namespace.",
            )
        if plugin.is_draft:
            raise invalid(
                f"{location}.plugin",
                "a plugin that is not a draft",
                f"{location}.plugin: the plugin {options.plugin!r} is a draft; a page cannot "
                "show a draft.",
            )
        if options.version and not queries.version_exists(conn, plugin.plugin_id, options.version):
            raise invalid(
                f"{location}.version",
                "a version of the plugin",
                f"{location}.version: the plugin {options.plugin!r} has no version "
                f"{options.version}.",
            )


def plugin_frames(conn: Any, namespace: str, display: DisplayConfig) -> dict[str, PluginFrame]:
    """Each `plugin` field's frame; a field whose plugin has since become a draft (or gone)
    has none, and shows as text."""
    wanted = _plugin_fields(display)
    if not wanted:
        return {}
    found = queries.by_tags(conn, namespace, sorted({o.plugin or "" for o in wanted.values()}))
    frames = {}
    for name, options in wanted.items():
        plugin = found.get(options.plugin or "")
        if plugin is None or plugin.is_draft:
            continue
        version = options.version or plugin.version
        body: PluginRecord | PluginVersionRecord | None = (
            plugin
            if version == plugin.version
            else queries.version(conn, plugin.plugin_id, version)
        )
        if body is None or (body.url is not None and entry_origin(body.url) is None):
            # Gone, or an entry point stored before URLs were checked as they are now: text.
            continue
        frames[name] = PluginFrame(
            tag=plugin.tag,
            name=plugin.name,
            src=body.url or urls.plugin_frame(plugin.plugin_id, version),
            permissions=tuple(plugin.permissions),
            parameters={**plugin.parameters, **(options.parameters or {})},
            height=options.height,
        )
    return frames
