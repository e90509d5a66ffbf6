"""The plugin marketplace (seed 000): publish a plugin for every namespace, browse the
listings, install one (a copy of the listed version in the installer's namespace).

A listing shows the plugin's version at the time it was published or last changed; a draft
plugin, or a listing that is not active, is not in the marketplace. Only an operator key (a
configured key bound to no namespace, with the owner role) may call a listing verified or
official.
"""

from __future__ import annotations

import base64
import math
from datetime import datetime
from typing import Any

from app import crypto, urls
from app.adapters.clock import Clock, stamp
from app.adapters.store import Store, UniqueViolation
from app.adapters.store import marketplace as queries
from app.adapters.store import plugins as plugin_queries
from app.adapters.store.records import (
    InstallRecord,
    ListedPluginRecord,
    ListingRecord,
    PluginRecord,
)
from app.errors import Conflict, Forbidden, NotFound
from app.rendering.plugins import PluginFrame
from app.schemas.marketplace import (
    CAPABILITIES,
    Category,
    InstallPluginRequest,
    ListingFields,
    ModelDependency,
    PublishedPlugin,
    PublishedPluginList,
    PublishPluginRequest,
)
from app.schemas.plugins import PluginResponse
from app.services.keys import Owner
from app.services.plugins import add_plugin, new_plugin, plugin_response, visible_plugin

PUBLIC_ID_PREFIX = "ppub_"
_CHANGEABLE = (
    "description",
    "readme_markdown",
    "tags",
    "category",
    "is_active",
    "trust_tier",
    "sample_values",
)


class Marketplace:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def publish(self, owner: Owner, tag: str, request: PublishPluginRequest) -> PublishedPlugin:
        _check_tier(owner, request)
        now = stamp(self.clock())
        try:
            with self.store.write() as tx:
                plugin = _publishable(tx.conn, owner, tag)
                if queries.of_plugin(tx.conn, plugin.plugin_id) is not None:
                    raise Conflict(
                        f"The plugin {plugin.tag!r} is published already; change its listing "
                        "with PATCH, or unpublish it with DELETE first."
                    )
                if queries.name_taken(tx.conn, request.public_name):
                    raise _name_taken(request.public_name)
                queries.insert(
                    tx.conn,
                    ListingRecord(
                        public_id=crypto.new_id(PUBLIC_ID_PREFIX),
                        plugin_id=plugin.plugin_id,
                        namespace=owner.namespace,
                        public_name=request.public_name,
                        version=plugin.version,
                        trust_tier=request.trust_tier or "community",
                        description=request.description or plugin.description,
                        icon=request.icon_base64,
                        readme_markdown=request.readme_markdown,
                        tags=request.tags or [],
                        category=request.category,
                        model_dependencies=_dependencies(request.model_dependencies),
                        sample_values=request.sample_values or [],
                        is_active=True if request.is_active is None else request.is_active,
                        install_count=0,
                        created_at=now,
                        updated_at=now,
                    ),
                )
                listed = queries.of_plugin(tx.conn, plugin.plugin_id)
        except UniqueViolation:
            raise _name_taken(request.public_name) from None
        assert listed is not None
        return published_plugin(listed)

    def update(self, owner: Owner, tag: str, fields: ListingFields) -> PublishedPlugin:
        """Change the fields sent; the listing moves to the plugin's current version."""
        _check_tier(owner, fields)
        with self.store.write() as tx:
            plugin = _publishable(tx.conn, owner, tag)
            listed = _listing(tx.conn, plugin)
            changes: dict[str, Any] = {
                name: getattr(fields, name)
                for name in _CHANGEABLE
                if getattr(fields, name) is not None
            }
            if fields.icon_base64 is not None:
                changes["icon"] = fields.icon_base64
            if fields.model_dependencies is not None:
                changes["model_dependencies"] = _dependencies(fields.model_dependencies)
            changes["version"] = plugin.version
            changes["updated_at"] = stamp(self.clock())
            queries.update(tx.conn, listed.replace(**changes))
            changed = queries.of_plugin(tx.conn, plugin.plugin_id)
        assert changed is not None
        return published_plugin(changed)

    def get(self, owner: Owner, tag: str) -> PublishedPlugin:
        with self.store.read() as tx:
            return published_plugin(_listing(tx.conn, visible_plugin(tx.conn, owner, tag)))

    def unpublish(self, owner: Owner, tag: str) -> None:
        with self.store.write() as tx:
            listed = _listing(tx.conn, visible_plugin(tx.conn, owner, tag))
            queries.delete(tx.conn, listed.public_id)

    def search(
        self,
        words: str | None,
        category: str | None,
        tag: str | None,
        page: int,
        page_size: int,
    ) -> PublishedPluginList:
        with self.store.read() as tx:
            hits, total = queries.search(tx.conn, words, category, tag, page_size, page * page_size)
            categories = queries.categories(tx.conn)
        return PublishedPluginList(
            page=page,
            page_size=page_size,
            total=total,
            total_pages=math.ceil(total / page_size),
            plugins=[published_plugin(listed) for listed in hits],
            categories=[Category(name=name, count=count) for name, count in categories],
        )

    def public(self, public_name: str) -> PublishedPlugin:
        with self.store.read() as tx:
            return published_plugin(_public(tx.conn, public_name))

    def preview(self, public_name: str) -> tuple[PublishedPlugin, PluginFrame]:
        """A listing, and the frame that previews its listed version."""
        with self.store.read() as tx:
            listed = _public(tx.conn, public_name)
            body = plugin_queries.version(tx.conn, listed.plugin_id, listed.version)
        assert body is not None
        frame = PluginFrame(
            tag=listed.tag,
            name=listed.name,
            src=body.url or urls.plugin_frame(listed.plugin_id, listed.version),
            permissions=tuple(listed.permissions),
            parameters=listed.parameters,
        )
        return published_plugin(listed), frame

    def icon(self, public_name: str) -> tuple[str, bytes]:
        """The icon's media type and bytes."""
        with self.store.read() as tx:
            listed = _public(tx.conn, public_name)
        if not listed.icon:
            raise NotFound(f"The plugin {public_name!r} has no icon.")
        head, _, data = listed.icon.partition(";base64,")
        return head.removeprefix("data:"), base64.b64decode(data)

    def install(self, owner: Owner, request: InstallPluginRequest) -> PluginResponse:
        """Copy the listed version into the caller's namespace, and count the install."""
        now = stamp(self.clock())
        try:
            with self.store.write() as tx:
                listing = _public(tx.conn, request.public_name)
                if queries.installed(tx.conn, listing.public_id, owner.namespace):
                    raise Conflict(
                        f"The plugin {request.public_name!r} is installed in this namespace "
                        "already."
                    )
                tag = request.tag or listing.tag
                if plugin_queries.tag_taken(tx.conn, owner.namespace, tag):
                    raise Conflict(
                        f"A plugin tagged {tag!r} exists already in this namespace; send "
                        "another tag to install this one under."
                    )
                body = plugin_queries.version(tx.conn, listing.plugin_id, listing.version)
                assert body is not None  # versions are never deleted while the plugin lives
                copy = new_plugin(
                    owner.namespace,
                    now,
                    tag=tag,
                    name=listing.name,
                    description=listing.description,
                    blob=body.blob,
                    url=body.url,
                    version=listing.version,
                    parameters=listing.parameters,
                    permissions=listing.permissions,
                )
                add_plugin(tx.conn, copy)
                queries.add_install(
                    tx.conn,
                    InstallRecord(
                        public_id=listing.public_id,
                        namespace=owner.namespace,
                        plugin_id=copy.plugin_id,
                        created_at=now,
                    ),
                )
        except UniqueViolation:
            raise Conflict(
                f"The plugin {request.public_name!r} is installed in this namespace already."
            ) from None
        return plugin_response(copy)


def published_plugin(listed: ListedPluginRecord) -> PublishedPlugin:
    return PublishedPlugin(
        plugin_id=listed.plugin_id,
        public_id=listed.public_id,
        public_name=listed.public_name,
        tag=listed.tag,
        version=listed.version,
        trust_tier=listed.trust_tier,
        created_at=datetime.fromisoformat(listed.created_at),
        updated_at=datetime.fromisoformat(listed.updated_at),
        display_name=listed.name,
        description=listed.description,
        capabilities=CAPABILITIES,
        tags=listed.tags,
        category=listed.category,
        install_count=listed.install_count,
        is_active=listed.is_active,
        icon_url=urls.plugin_icon(listed.public_name) if listed.icon else None,
        readme_markdown=listed.readme_markdown,
        model_dependencies=[ModelDependency(**d) for d in listed.model_dependencies],
        permissions=listed.permissions,
        sample_values=listed.sample_values,
    )


def _check_tier(owner: Owner, fields: ListingFields) -> None:
    if fields.trust_tier in ("verified", "official") and not owner.operator:
        raise Forbidden(
            f"Only an operator key may set trust_tier {fields.trust_tier!r}; "
            "a publisher's listing is 'community'.",
            details={"field": "trust_tier"},
        )


def _publishable(conn: Any, owner: Owner, tag: str) -> PluginRecord:
    plugin = visible_plugin(conn, owner, tag)
    if plugin.is_draft:
        raise Conflict(
            f"The plugin {plugin.tag!r} is a draft; a draft cannot be published. Set "
            "is_draft to false first."
        )
    return plugin


def _listing(conn: Any, plugin: PluginRecord) -> ListedPluginRecord:
    listed = queries.of_plugin(conn, plugin.plugin_id)
    if listed is None:
        raise NotFound(f"The plugin {plugin.tag!r} is not published.")
    return listed


def _public(conn: Any, public_name: str) -> ListedPluginRecord:
    listed = queries.public(conn, public_name)
    if listed is None:
        raise NotFound(f"No plugin is published as {public_name!r}.")
    return listed


def _dependencies(dependencies: list[ModelDependency] | None) -> list[dict[str, Any]]:
    return [d.model_dump(mode="json") for d in dependencies or []]


def _name_taken(public_name: str) -> Conflict:
    return Conflict(f"A plugin is published as {public_name!r} already; choose another name.")
