"""The backend registry: a retriever's `backend.type` names a kind, its model parses it."""

from __future__ import annotations

from typing import Any

import pytest

from app.adapters.backends import Backends, Page, Query
from app.errors import BadGateway
from app.schemas.retrievers import LocalBackendConfig


class Answering:
    async def search(self, query: Query) -> Page:
        return Page(documents=[], total=0)

    async def document(self, namespace: str, backend: Any, document_id: str) -> None:
        return None

    async def check(self, namespace: str, backend: Any) -> None:
        return None


def test_a_stored_backend_is_parsed_by_its_kind() -> None:
    backends = Backends()
    backends.register("local", LocalBackendConfig, Answering())
    config = backends.parse({"type": "local", "collection": "docs", "search_fields": ["title"]})
    assert isinstance(config, LocalBackendConfig)
    assert config.search_fields == ["title"]
    assert list(backends) == ["local"]


def test_an_unknown_kind_is_a_bad_gateway_not_a_crash() -> None:
    with pytest.raises(BadGateway):
        Backends().parse({"type": "elastic"})


def test_a_kind_is_registered_once() -> None:
    backends = Backends()
    backends.register("local", LocalBackendConfig, Answering())
    with pytest.raises(ValueError, match="twice"):
        backends.register("local", LocalBackendConfig, Answering())
