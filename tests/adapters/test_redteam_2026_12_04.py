"""Searches on their way to Typesense at the same moment share an answer only when they are the
same search of the same collection (`typesense/inflight.py`): two organizations' collections of
one name, two filters, two page sizes, two sets of fields searched or marked never do."""

from __future__ import annotations

import asyncio

import pytest

from app.adapters.engine import Search, SearchResult
from app.adapters.engine.typesense import TypesenseEngine

pytestmark = pytest.mark.typesense

LAMPS = [
    {
        "document_id": f"d{n}",
        "title": f"Desk lamp {n}",
        "note": "lamp",
        "shop": "north" if n % 2 else "south",
    }
    for n in range(6)
]
SEARCHES = {
    "acme": ("acme", Search(fields=["title"], text="lamp", highlight=["title"])),
    "globex": ("globex", Search(fields=["title"], text="lamp", highlight=["title"])),
    "north": ("acme", Search(fields=["title"], text="lamp", filters={"shop": "north"})),
    "two": ("acme", Search(fields=["title"], text="lamp", limit=2)),
    "next": ("acme", Search(fields=["title"], text="lamp", limit=2, offset=2)),
    "note": ("acme", Search(fields=["note"], text="lamp", highlight=["note"])),
}


def _seen(found: SearchResult | None) -> tuple[int, list[str], list[list[str]]]:
    assert found is not None  # (answered on the loop)
    return (
        found.total,
        [hit.document_id for hit in found.hits],
        [sorted(hit.highlights) for hit in found.hits],
    )


def test_searches_in_flight_together_each_get_their_own_answer(
    typesense_engine: TypesenseEngine,
) -> None:
    engine = typesense_engine
    engine.upsert("acme", "c", LAMPS)
    # Another organization's collection of the same name: one lamp, its own.
    engine.upsert("globex", "c", [{"document_id": "g1", "title": "Globex lamp", "shop": "x"}])
    for namespace, search in SEARCHES.values():  # (each schema and word known)
        engine.search(namespace, "c", search)

    async def alone() -> dict[str, tuple[int, list[str], list[list[str]]]]:
        return {
            name: _seen(await engine.search_on_loop(namespace, "c", search))
            for name, (namespace, search) in SEARCHES.items()
        }

    async def together() -> list[dict[str, tuple[int, list[str], list[list[str]]]]]:
        rounds = []
        for _ in range(3):
            names = list(SEARCHES) * 3
            found = await asyncio.gather(
                *(engine.search_on_loop(SEARCHES[n][0], "c", SEARCHES[n][1]) for n in names)
            )
            seen: dict[str, tuple[int, list[str], list[list[str]]]] = {}
            for name, each in zip(names, found, strict=True):
                assert seen.setdefault(name, _seen(each)) == _seen(each), name
            rounds.append(seen)
        return rounds

    expected = asyncio.run(alone())
    assert expected["globex"][:2] == (1, ["g1"])
    assert expected["north"][0] == 3
    assert len(expected["two"][1]) == 2
    assert not set(expected["two"][1]) & set(expected["next"][1])
    assert expected["note"][2][0] == ["note"]
    for seen in asyncio.run(together()):
        assert seen == expected
