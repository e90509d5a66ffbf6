"""Searches on the event loop that are the same as one already on its way to Typesense take its
answer (`typesense/inflight.py`), but never across a write made through this server."""

from __future__ import annotations

import asyncio

import pytest

from app.adapters.engine import Search, SearchResult
from app.adapters.engine.typesense import TypesenseEngine

pytestmark = pytest.mark.typesense

LAMP = Search(fields=["title"], text="lamp")


def _ids(found: SearchResult | None) -> list[str]:
    assert found is not None  # (answered on the loop)
    return sorted(hit.document_id for hit in found.hits)


def test_a_search_after_a_write_finds_it_while_the_same_search_is_in_flight(
    typesense_engine: TypesenseEngine,
) -> None:
    engine = typesense_engine
    engine.upsert("ns", "c", [{"document_id": "a", "title": "Desk lamp"}])
    assert engine.search("ns", "c", LAMP).total == 1  # (the schema and the word known)

    async def searches() -> tuple[list[str], list[list[str]], list[str]]:
        before = asyncio.create_task(engine.search_on_loop("ns", "c", LAMP))
        await asyncio.sleep(0)  # (its request on its way)
        alike = await asyncio.gather(*(engine.search_on_loop("ns", "c", LAMP) for _ in range(5)))
        pending = asyncio.create_task(engine.search_on_loop("ns", "c", LAMP))
        await asyncio.sleep(0)
        # Written while that search is still in flight (the loop held by the write).
        engine.upsert("ns", "c", [{"document_id": "b", "title": "Floor lamp"}])
        # (the schema read again, as the next search through the server does in a thread)
        assert engine.search("ns", "c", Search(fields=["title"], text="desk")).total == 1
        after = await engine.search_on_loop("ns", "c", LAMP)
        await pending
        return _ids(await before), [_ids(found) for found in alike], _ids(after)

    first, alike, after = asyncio.run(searches())
    assert first == ["a"]
    assert alike == [["a"]] * 5
    assert after == ["a", "b"]
