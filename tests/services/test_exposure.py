"""The exposure gate: only exposed fields (plus id and score) leave, wherever they were."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.services.exposure import expose


def test_only_exposed_fields_are_kept() -> None:
    document = {"document_id": "d1", "score": 1.5, "title": "Lamp", "cost": 3, "secret": "x"}
    assert expose(document, ["title"]) == {"document_id": "d1", "score": 1.5, "title": "Lamp"}


def test_fields_are_found_under_payload_metadata_and_dotted_paths() -> None:
    document = {
        "id": 7,
        "payload": {"title": "Lamp", "internal": "no"},
        "metadata": {"brand": {"name": "Acme", "margin": 0.4}},
    }
    shown = expose(document, ["title", "brand.name"])
    assert shown == {"document_id": "7", "score": 0.0, "title": "Lamp", "brand.name": "Acme"}


def test_a_missing_field_is_left_out_not_invented() -> None:
    assert "price" not in expose({"document_id": "d"}, ["price"])


def test_a_score_that_is_not_a_number_is_zero() -> None:
    for score in ("9.9", None, True, [1]):
        assert expose({"document_id": "d", "score": score}, [])["score"] == 0.0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    document=st.dictionaries(st.text(max_size=6), json_values, max_size=6),
    exposed=st.lists(st.text(min_size=1, max_size=6), max_size=4),
)
def test_nothing_but_exposed_names_ever_leaves(
    document: dict[str, Any], exposed: list[str]
) -> None:
    assert set(expose(document, exposed)) <= {"document_id", "score", *exposed}
