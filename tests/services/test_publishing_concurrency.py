"""Concurrent owner writes, on SQLite and on PostgreSQL: nothing lost, names stay unique."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.errors import Conflict
from app.schemas.publishing import PublishRetrieverRequest, UpdatePublishedRetrieverRequest
from app.schemas.retrievers import CreateRetrieverRequest
from app.services.wiring import Services, build_services
from app.settings import Settings
from tests.helpers import display_config, local_backend

NS = "acme"


@pytest.fixture
def ctx(database_url: str, tmp_path: Path) -> Iterator[Services]:
    context = build_services(
        Settings(data_dir=tmp_path, database_url=database_url, secret_key="k" * 40)
    )
    context.store.migrate()
    yield context
    context.store.close()


def _retriever(ctx: Services, name: str) -> str:
    request = CreateRetrieverRequest.model_validate(
        {"retriever_name": name, "backend": local_backend()}, strict=False
    )
    return ctx.retrievers.create(NS, request).retriever_id


def _publish(ctx: Services, retriever_id: str, public_name: str) -> str:
    request = PublishRetrieverRequest.model_validate(
        {"public_name": public_name, "display_config": display_config()}, strict=False
    )
    return ctx.publishing.publish(NS, retriever_id, request).public_name


def test_concurrent_patches_of_different_fields_lose_no_update(ctx: Services) -> None:
    rid = _retriever(ctx, "r")
    _publish(ctx, rid, "patched")
    rounds = 15
    changes = {
        "tags": lambda n: {"tags": [f"t{n}"]},
        "category": lambda n: {"category": f"c{n}"},
        "description": lambda n: {"description": f"d{n}"},
        "display_name": lambda n: {"display_name": f"n{n}"},
        "rate_limit_config": lambda n: {"rate_limit_config": {"requests_per_minute": n + 1}},
        "rate_limit_config2": lambda n: {"rate_limit_config": {"max_results_per_query": n + 1}},
    }

    def writer(field: str) -> None:
        for n in range(rounds):
            body = UpdatePublishedRetrieverRequest.model_validate(changes[field](n), strict=False)
            ctx.publishing.update_published(NS, rid, body)

    with ThreadPoolExecutor(max_workers=len(changes)) as pool:
        list(pool.map(writer, changes))
    final = ctx.publishing.get_published(NS, rid)
    last = rounds - 1
    assert final.tags == [f"t{last}"]
    assert final.category == f"c{last}"
    assert final.description == f"d{last}"
    assert final.display_name == f"n{last}"
    assert final.rate_limit_config["requests_per_minute"] == rounds
    assert final.rate_limit_config["max_results_per_query"] == rounds
    with ctx.store.read() as tx:
        record = tx.get_published(NS, rid)
    assert record is not None
    assert record.version == 1 + rounds * len(changes)  # every write counted, none overwritten


def test_concurrent_publishes_of_one_name_give_one_success(ctx: Services) -> None:
    retrievers = [_retriever(ctx, f"r{n}") for n in range(8)]

    def attempt(retriever_id: str) -> str:
        try:
            return _publish(ctx, retriever_id, "contested")
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=len(retrievers)) as pool:
        outcomes = list(pool.map(attempt, retrievers))
    assert outcomes.count("contested") == 1
    assert outcomes.count("conflict") == len(retrievers) - 1
    with ctx.store.read() as tx:
        assert tx.list_published(NS, 100, 0)[1] == 1
