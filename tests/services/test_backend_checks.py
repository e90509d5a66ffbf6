"""What a retriever's backend must agree with, checked before it is stored or published: here,
what the server's engine carries (`SearchEngine.lacks`)."""

from __future__ import annotations

import pytest

from app.adapters.engine.protocol import MEANING
from app.errors import InvalidInput
from app.services.backend_checks import check_engine_carries
from tests.helpers import local_backend

LACKING = {MEANING: "the Example engine"}


@pytest.mark.parametrize(
    ("backend", "field"),
    [
        ({**local_backend(), "mode": "semantic"}, "backend.mode"),
        ({**local_backend(), "semantic_ratio_bounds": [0.2, 0.8]}, "backend.semantic_ratio_bounds"),
    ],
)
def test_a_backend_that_needs_what_the_engine_lacks_is_refused_by_name(
    backend: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        check_engine_carries(backend, LACKING)
    assert raised.value.details["errors"][0]["field"].startswith(field)
    assert "search by meaning" in raised.value.message
    assert "the Example engine" in raised.value.message


def test_what_the_engine_carries_passes() -> None:
    check_engine_carries({**local_backend(), "mode": "semantic"}, {})
    check_engine_carries({**local_backend(), "mode": "hybrid"}, LACKING)  # (words, there)
    check_engine_carries({"type": "mixpeek", "mode": "semantic"}, LACKING)
