"""The difference between two display configs, as the console's version page shows it."""

from __future__ import annotations

from app.services.versions import Change, changes, edited


def test_each_leaf_that_differs_is_one_change_by_its_path() -> None:
    now = {"title": "Two", "theme": {"primary_color": "#C2185B"}, "inputs": [{"label": "A"}]}
    old = {"title": "One", "inputs": [{"label": "B"}, {"label": "C"}], "layout": {"columns": 2}}
    assert changes(now, old) == [
        Change("title", "changed", "Two", "One"),
        Change("theme", "removed", '{"primary_color":"#C2185B"}', None),
        Change("inputs[0].label", "changed", "A", "B"),
        Change("inputs[1]", "added", None, '{"label":"C"}'),
        Change("layout", "added", None, '{"columns":2}'),
    ]


def test_the_same_configs_have_no_change() -> None:
    config = {"title": "Same", "exposed_fields": ["a", "b"]}
    assert changes(config, dict(config)) == []


def test_a_long_value_is_cut() -> None:
    (change,) = changes({"description": "x" * 1000}, {"description": "y"})
    assert change.before is not None
    assert len(change.before) == 300
    assert change.before.endswith("…")


def test_what_the_server_fills_in_is_no_edit() -> None:
    assert edited({"title": "T", "retriever_config": {"stages": []}}) == {"title": "T"}
