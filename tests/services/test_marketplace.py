"""Plugins and the marketplace on SQLite and on PostgreSQL: search, tiers, versions, installs
counted once each even when they race."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.errors import Conflict
from app.schemas.marketplace import InstallPluginRequest, ListingFields, PublishPluginRequest
from app.schemas.plugins import CreatePluginRequest, PluginFields
from app.schemas.roles import Role
from app.services.keys import Owner
from app.services.wiring import Services, build_services
from app.settings import Settings

PUBLISHER = Owner("acme", Role.EDITOR)
OPERATOR = Owner("acme", Role.OWNER, operator=True)


@pytest.fixture
def ctx(database_url: str, tmp_path: Path) -> Iterator[Services]:
    context = build_services(
        Settings(data_dir=tmp_path, database_url=database_url, secret_key="k" * 40)
    )
    context.store.migrate()
    yield context
    context.store.close()


def _listed(ctx: Services, tag: str, **fields: object) -> None:
    ctx.plugins.create(
        PUBLISHER,
        CreatePluginRequest.model_validate(
            {"tag": tag, "name": tag.title(), "blob": f"<p>{tag}</p>"}, strict=False
        ),
    )
    request = PublishPluginRequest.model_validate({"public_name": tag, **fields}, strict=False)
    ctx.marketplace.publish(PUBLISHER, tag, request)


def test_search_and_order(ctx: Services) -> None:
    _listed(ctx, "star-rating", tags=["stars", "five_star"], description="100% stars")
    _listed(ctx, "price-chart", tags=["charts"], category="charts")
    _listed(ctx, "sparkline", tags=["charts"], category="Charts", description="Tiny LINES")
    ctx.marketplace.update(
        OPERATOR, "sparkline", ListingFields.model_validate({"trust_tier": "official"})
    )

    def names(words: str | None = None, category: str | None = None, tag: str | None = None):
        found = ctx.marketplace.search(words, category, tag, 0, 10)
        return [p.public_name for p in found.plugins]

    assert names()[0] == "sparkline"
    assert sorted(names(category="CHARTS")) == ["price-chart", "sparkline"]
    assert names("lines") == ["sparkline"]
    assert names("100%") == ["star-rating"]  # % is a character, not a wildcard
    assert names("y_l") == []  # and so is _ ("tiny lines" would match it as a wildcard)
    assert names(tag="five_star") == ["star-rating"]
    assert names(tag="five") == []  # a whole tag, not a part of one
    assert names(tag="five%") == []


def test_a_listing_keeps_its_version_until_changed(ctx: Services) -> None:
    _listed(ctx, "star-rating")
    ctx.plugins.update(PUBLISHER, "star-rating", PluginFields(blob="<p>two</p>"))
    assert ctx.marketplace.public("star-rating").version == "1.0.0"
    ctx.marketplace.update(PUBLISHER, "star-rating", ListingFields())
    assert ctx.marketplace.public("star-rating").version == "1.0.1"


def test_racing_installs_count_once_per_namespace(ctx: Services) -> None:
    _listed(ctx, "star-rating")
    installer = Owner("globex", Role.EDITOR)
    request = InstallPluginRequest(public_name="star-rating")

    def install(_: int) -> str:
        try:
            ctx.marketplace.install(installer, request)
            return "installed"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(install, range(6)))
    assert outcomes.count("installed") == 1
    assert ctx.marketplace.public("star-rating").install_count == 1
