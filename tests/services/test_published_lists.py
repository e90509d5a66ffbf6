"""The list-filter-page helper that the public directory and the marketplace list share,
called directly on a real store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.adapters.store import PublishedRecord, RetrieverRecord, Store
from app.services.published_lists import find_published

pytestmark = pytest.mark.anyio
NAMES = ["lamps", "chairs", "tables", "lamp-shades", "rugs"]


def _records(number: int, name: str, *, active: bool) -> tuple[RetrieverRecord, PublishedRecord]:
    created = f"2026-01-0{number + 1}T00:00:00.000000+00:00"
    retriever = RetrieverRecord(
        retriever_id=f"ret_{number}",
        namespace="acme",
        retriever_name=name,
        description=None,
        input_schema=None,
        backend={"type": "local", "collection": "c", "search_fields": ["title"]},
        display_config=None,
        created_at=created,
        updated_at=created,
    )
    published = PublishedRecord(
        retriever_id=f"ret_{number}",
        namespace="acme",
        public_id=f"pub_{number}",
        public_name=name,
        public_api_key=f"key_{number}",
        display_name=None,
        description=None,
        icon_base64=None,
        display_config={"title": name.title()},
        rate_limit_config={},
        password_secret_name=None,
        is_active=active,
        tags=None,
        category=None,
        retriever_metadata=None,
        created_at=created,
        updated_at=created,
        version=1,
    )
    return retriever, published


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """Five published retrievers, oldest first; "rugs" is switched off."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    with store.write() as tx:
        for number, name in enumerate(NAMES):
            retriever, published = _records(number, name, active=name != "rugs")
            tx.insert_retriever(retriever)
            tx.insert_published(published)
    yield store
    store.close()


def _names(records: list[PublishedRecord]) -> list[str]:
    return [record.public_name for record in records]


async def test_the_filter_runs_before_the_page_is_cut(store: Store) -> None:
    found = await find_published(store, lambda r: "lamp" in r.public_name, 1, 5)
    assert _names(found.matched) == ["lamps", "lamp-shades"]
    assert _names(found.page) == ["lamp-shades"]


async def test_a_page_past_the_end_is_empty_and_still_counts_every_match(store: Store) -> None:
    found = await find_published(store, lambda r: True, 2, 2)
    assert _names(found.page) == ["tables", "lamp-shades"]
    found = await find_published(store, lambda r: True, 10, 2)
    assert found.page == []
    assert len(found.matched) == 4


async def test_switched_off_retrievers_are_listed_only_when_asked(store: Store) -> None:
    found = await find_published(store, lambda r: True, 0, 10, include_inactive=True)
    assert _names(found.matched) == NAMES
    assert [record.is_active for record in found.matched][-1] is False
