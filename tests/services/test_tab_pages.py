"""Pages of tabs without HTTP: the merge by reciprocal rank against hand-computed scores, the
layout of sections, a tab's search box, and a slow or failing tab isolated in the federated
search."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any, cast

import pytest

from app.errors import BadGateway
from app.schemas.display import DisplayConfig
from app.schemas.pages import SectionConfig
from app.schemas.search import Results
from app.services.access import Caller
from app.services.catalog import PublicRetriever
from app.services.tab_pages import (
    OpenPage,
    Tab,
    TabAnswer,
    TabPages,
    fuse,
    laid_out,
    stored_page,
    text_inputs,
)
from tests.helpers import browse_config


def _display(config: dict[str, Any]) -> DisplayConfig:
    return DisplayConfig.model_validate_json(json.dumps(config))


def _tab(key: str) -> Tab:
    return Tab(key, key.title(), f"ret_{key}", key)


def _over(collection: str | None, namespace: str = "acme") -> PublicRetriever:
    """A retriever as `fuse` reads it: over a collection of this server's, or an upstream."""
    backend = SimpleNamespace(type="local" if collection else "mixpeek", collection=collection)
    record = SimpleNamespace(namespace=namespace)
    return cast(PublicRetriever, SimpleNamespace(backend=backend, record=record))


def _answer(key: str, ids: list[str], collection: str | None) -> TabAnswer:
    docs = [{"document_id": i, "score": 1.0} for i in ids]
    results = Results("exe", docs, 1, len(docs), len(docs), False)
    return TabAnswer(_tab(key), results, retriever=_over(collection))


def test_the_merge_is_reciprocal_rank_fusion_as_computed_by_hand() -> None:
    # Two tabs over one collection (the same documents), and a help centre of its own.
    answers = [
        _answer("shop", ["p1", "p2", "p3"], "products"),
        _answer("deals", ["p2", "p4"], "products"),
        _answer("help", ["a1"], "articles"),
    ]
    merged = fuse(answers, k=60)
    # p2: 1/62 (shop's 2nd) + 1/61 (deals' 1st); p1 and a1: 1/61 each, tied, in the page's
    # order; p4: 1/62; p3: 1/63.
    assert [(m.document["document_id"], m.score) for m in merged] == [
        ("p2", round(1 / 62 + 1 / 61, 8)),
        ("p1", round(1 / 61, 8)),
        ("a1", round(1 / 61, 8)),
        ("p4", round(1 / 62, 8)),
        ("p3", round(1 / 63, 8)),
    ]
    p2 = merged[0]
    assert p2.tab.tab_id == "shop"  # the first tab in the page's order that found it
    assert p2.found_in == ("shop", "deals")


def test_documents_of_different_collections_never_fuse() -> None:
    answers = [
        _answer("shop", ["x1"], "products"),
        _answer("help", ["x1"], "articles"),
        _answer("partners", ["x1"], None),
    ]
    merged = fuse(answers)
    assert [m.tab.tab_id for m in merged] == ["shop", "help", "partners"]
    assert all(m.score == round(1 / 61, 8) for m in merged)


def test_a_failed_tab_adds_nothing_to_the_merge() -> None:
    failed = TabAnswer(_tab("partners"), error=BadGateway("down"))
    merged = fuse([failed, _answer("shop", ["p1"], "products")])
    assert [m.document["document_id"] for m in merged] == ["p1"]


def test_sections_are_laid_out_in_order_with_the_tabs_last_unless_placed() -> None:
    sections = [
        SectionConfig(section_id="b", type="markdown-content", order=2),
        SectionConfig(section_id="a", type="hero", order=1),
        SectionConfig(section_id="c", type="stats-bar"),
    ]
    assert [s.section_id for s in laid_out(sections)] == ["a", "b", "c", "search-tabs"]
    placed = [*sections, SectionConfig(section_id="t", type="search-tabs", order=0)]
    assert [s.section_id for s in laid_out(placed)] == ["t", "a", "b", "c"]


def test_a_page_without_sections_gets_the_default_layout_and_ordered_tabs() -> None:
    config: dict[str, Any] = {
        "meta": {"title": "T"},
        "tabs": [
            {"tab_id": "b", "label": "B", "retriever_id": "r2", "order": 2},
            {"tab_id": "a", "label": "A", "retriever_id": "r1", "order": 1},
            {"tab_id": "c", "label": "C", "retriever_id": "r3"},
        ],
        "hero": {"headline": "Hi"},
        "stats": [{"label": "Docs", "value": "12"}],
        "custom_html": "<p>x</p>",
    }
    page = stored_page("t", "acme", config, {"r1": "one"})
    assert [t.tab_id for t in page.tabs] == ["a", "b", "c"]
    assert [t.public_name for t in page.tabs] == ["one", None, None]
    assert [s.type for s in page.sections] == ["hero", "stats-bar", "search-tabs", "iframe-embed"]


def test_the_one_search_box_goes_to_each_retrievers_text_input() -> None:
    plain = _display(browse_config())
    assert text_inputs(plain, "lamp") == {"query": "lamp"}
    assert text_inputs(plain, "") == {}
    named = browse_config()
    named["inputs"][0]["field_name"] = "q"
    assert text_inputs(_display(named), "lamp") == {"q": "lamp"}


class _SlowQuery:
    """A stand-in for the public query: the tab "slow" never answers in time, "bad" fails."""

    def __init__(self) -> None:
        retrievers = {name: self._retriever(name) for name in ("fast", "slow", "bad")}

        async def lookup(name: str) -> Any:
            return retrievers[name]

        async def check(retriever: Any, caller: Caller) -> None:
            return None

        self.catalog = SimpleNamespace(lookup=lookup)
        self.access = SimpleNamespace(check=check)

    @staticmethod
    def _retriever(name: str) -> Any:
        display = _display(browse_config())
        backend = SimpleNamespace(type="local", collection=name)
        record = SimpleNamespace(namespace="acme", retriever_id=f"ret_{name}")
        return SimpleNamespace(public_name=name, display=display, backend=backend, record=record)

    async def run(self, retriever: Any, caller: Caller, request: Any, **_: Any) -> Any:
        if retriever.public_name == "slow":
            await asyncio.sleep(5)
        if retriever.public_name == "bad":
            raise BadGateway("The upstream answered 500.")
        docs = [{"document_id": "d1", "score": 1.0}]
        return SimpleNamespace(results=Results("exe", docs, 1, 5, 1, False))


def test_a_slow_or_failing_tab_never_blanks_the_others() -> None:
    pages = TabPages(cast(Any, None), cast(Any, _SlowQuery()), lambda hit: None, timeout=0.2)
    tabs = tuple(Tab(n, n.title(), f"ret_{n}", n) for n in ("fast", "slow", "bad"))
    page = OpenPage("p", "acme", cast(Any, None), tabs, ())

    async def run() -> Any:
        started = asyncio.get_running_loop().time()
        found = await pages.federated(page, "lamp", lambda name: Caller(ip="1.2.3.4"), 5)
        return found, asyncio.get_running_loop().time() - started

    found, took = asyncio.run(run())
    fast, slow, bad = found.answers
    assert fast.results is not None
    assert [d["document_id"] for d in fast.results.documents] == ["d1"]
    assert slow.error is not None
    assert slow.error.status == 504
    assert "Slow did not answer within 0.2 s" in slow.error.message
    assert bad.error is not None
    assert bad.error.status == 502
    assert [m.tab.tab_id for m in found.merged] == ["fast"]
    assert took < 1.0  # concurrently, bounded by the timeout


@pytest.mark.parametrize("per_tab", [1, 3])
def test_each_tab_is_asked_for_per_tab_results(per_tab: int) -> None:
    asked: list[int] = []
    query = _SlowQuery()
    original = query.run

    async def run(retriever: Any, caller: Caller, request: Any, **options: Any) -> Any:
        asked.append(request.page_size)
        return await original(retriever, caller, request, **options)

    query.run = run  # type: ignore[method-assign]
    pages = TabPages(cast(Any, None), cast(Any, query), lambda hit: None)
    page = OpenPage("p", "acme", cast(Any, None), (Tab("fast", "Fast", "ret_fast", "fast"),), ())
    asyncio.run(pages.federated(page, "lamp", lambda name: Caller(ip="1.2.3.4"), per_tab))
    assert asked == [per_tab]
