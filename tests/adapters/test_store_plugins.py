"""The store's plugin and marketplace queries hand back typed records, on SQLite and on a real
PostgreSQL server."""

from __future__ import annotations

import pytest

from app.adapters.store import Store, plugins
from app.adapters.store import marketplace as listings
from app.adapters.store.records import (
    InstallRecord,
    ListingRecord,
    PluginRecord,
    PluginVersionRecord,
)

NOW = "2026-01-01T00:00:00.000000+00:00"
PLUGIN = PluginRecord(
    plugin_id="plg_1",
    namespace="acme",
    tag="stars",
    name="Stars",
    description=None,
    blob="<p>*</p>",
    url=None,
    is_draft=False,
    minimum_role_required="viewer",
    version="1.0.0",
    icon_tag=None,
    parameters={"max": 5},
    permissions=["clipboard-write"],
    meta_version=1,
    created_at=NOW,
    updated_at=NOW,
)
LISTING = ListingRecord(
    public_id="ppub_1",
    plugin_id="plg_1",
    namespace="acme",
    public_name="stars",
    version="1.0.0",
    trust_tier="community",
    description="Ratings as stars",
    icon=None,
    readme_markdown=None,
    tags=["ratings"],
    category="display",
    model_dependencies=[],
    sample_values=[],
    is_active=True,
    install_count=0,
    created_at=NOW,
    updated_at=NOW,
)


@pytest.fixture
def store(database_url: str) -> Store:
    store = Store(database_url)
    store.migrate()
    with store.write() as tx:
        plugins.insert(tx.conn, PLUGIN)
        plugins.add_version(tx.conn, PluginVersionRecord("plg_1", "1.0.0", PLUGIN.blob, None, NOW))
        listings.insert(tx.conn, LISTING)
    return store


def test_a_plugin_and_its_versions_come_back_as_stored(store: Store) -> None:
    with store.read() as tx:
        assert plugins.get(tx.conn, "acme", "stars") == PLUGIN
        assert plugins.by_tags(tx.conn, "acme", ["stars"]) == {"stars": PLUGIN}
        assert plugins.version(tx.conn, "plg_1", "1.0.0") == PluginVersionRecord(
            "plg_1", "1.0.0", "<p>*</p>", None, NOW
        )
        assert plugins.public_version(tx.conn, "plg_1", "1.0.0") == (
            "<p>*</p>",
            ["clipboard-write"],
        )
    store.close()


def test_a_listing_comes_back_with_its_plugin_beside_it(store: Store) -> None:
    with store.read() as tx:
        listed = listings.public(tx.conn, "stars")
    assert listed is not None
    assert (listed.public_id, listed.tags) == ("ppub_1", ["ratings"])
    assert (listed.name, listed.tag, listed.permissions, listed.parameters) == (
        "Stars",
        "stars",
        ["clipboard-write"],
        {"max": 5},
    )
    store.close()


def test_writing_a_listing_back_keeps_an_install_counted_meanwhile(store: Store) -> None:
    with store.read() as tx:
        listed = listings.of_plugin(tx.conn, "plg_1")
    assert listed is not None
    with store.write() as tx:
        listings.add_install(tx.conn, InstallRecord("ppub_1", "other", "plg_2", NOW))
    with store.write() as tx:  # the listing as read before the install, changed
        listings.update(tx.conn, listed.replace(description="Five stars"))
    with store.read() as tx:
        after = listings.of_plugin(tx.conn, "plg_1")
    assert after is not None
    assert (after.description, after.install_count) == ("Five stars", 1)
    store.close()
