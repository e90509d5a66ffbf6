"""What an upstream or a Typesense node is asked for one organization is never another's:
searches on their way to Typesense at the same moment share an answer only when they are the
same search of the same collection (`typesense/inflight.py`): two organizations' collections of
one name, two filters, two page sizes, two sets of fields searched or marked never do; two
organizations' calls to one Mixpeek-compatible upstream each carry their own key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from app.adapters.cache import RefreshingCache
from app.adapters.engine import Search, SearchResult
from app.adapters.engine.typesense import TypesenseEngine
from app.errors import BadGateway
from app.settings import Settings
from app.web.app import create_app
from tests.adapters.test_cache import Clock, Source
from tests.adapters.test_mixpeek import Upstream
from tests.helpers import (
    NAMESPACE,
    OTHER_KEY,
    OTHER_NAMESPACE,
    OWNER_KEY,
    display_config,
    owner_headers,
)
from tests.servers import LiveServer

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


@pytest.mark.typesense
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


def test_two_organizations_calls_to_one_upstream_each_carry_their_own_key(
    make_settings: Callable[..., Settings],
) -> None:
    """Acme and Globex point retrievers at the same upstream (one connection pool, one host)
    with keys of their own, in turn: each call carries its organization's key and namespace,
    and none carries the cookie the upstream set on the one before."""
    state = Upstream(mode="cookie")
    with (
        LiveServer(state.app()) as server,
        TestClient(create_app(make_settings()), raise_server_exceptions=False) as client,
    ):
        for name, (key, namespace) in {
            "acme-up": (OWNER_KEY, NAMESPACE),
            "globex-up": (OTHER_KEY, OTHER_NAMESPACE),
        }.items():
            owner = owner_headers(key, namespace)
            secret = {"secret_name": "up-key", "secret_value": f"key-of-{namespace}"}
            assert client.post("/v1/organizations/secrets", headers=owner, json=secret).is_success
            backend = {
                "type": "mixpeek",
                "base_url": server.url,
                "retriever_id": "shared",
                "namespace": f"ns-{namespace}",
                "api_key_secret_name": "up-key",
            }
            made = client.post(
                "/v1/retrievers", headers=owner, json={"retriever_name": name, "backend": backend}
            )
            config = display_config(exposed_fields=["title"], field_config={}, components={})
            published = client.post(
                f"/v1/retrievers/{made.json()['retriever_id']}/publish",
                headers=owner,
                json={"public_name": name, "display_config": config},
            )
            assert published.status_code == 200, published.text
        for _ in range(3):
            for name in ("acme-up", "globex-up"):
                answer = client.post(
                    f"/v1/public/retrievers/{name}/execute", json={"inputs": {"query": "lamp"}}
                )
                assert answer.status_code == 200, answer.text
    seen = [(r["authorization"], r["namespace"], r["cookie"]) for r in state.requests]
    acme = ("Bearer key-of-acme", "ns-acme", None)
    globex = ("Bearer key-of-globex", "ns-globex", None)
    assert seen == [acme, globex] * 3


def test_a_value_nobody_asked_for_since_long_before_is_loaded_again_not_served() -> None:
    """A page quiet for an hour, changed meanwhile through another process (a password
    added): its next request, and those that come while it is read again, get the new value;
    one just past its time gets the old at once (the reload in the background); a reload that
    fails leaves the old served."""

    async def run() -> None:
        source, clock = Source(), Clock()
        cache = RefreshingCache(source.load, 1.0, 100, now=clock)
        assert await cache.get("a") == "a:v1"
        source.value = "v2"
        clock.now += 3600
        source.gate = asyncio.Event()
        waiting = [asyncio.create_task(cache.get("a")) for _ in range(3)]
        await asyncio.sleep(0.01)
        assert not any(task.done() for task in waiting)
        source.gate.set()
        assert await asyncio.gather(*waiting) == ["a:v2"] * 3
        assert source.calls == 2
        source.value, source.gate = "v3", asyncio.Event()
        clock.now += 1.5  # just past its time: the old value at once
        assert await cache.get("a") == "a:v2"
        source.gate.set()
        await asyncio.sleep(0.01)
        assert await cache.get("a") == "a:v3"
        source.error = BadGateway("down")
        clock.now += 3600
        assert await cache.get("a") == "a:v3"  # waited for the reload, which failed
        assert await cache.get("a") == "a:v3"

    asyncio.run(run())
