"""JSON in and out: fast for the common case, and right for what orjson cannot write."""

from __future__ import annotations

import json

from app import jsonutil


def test_round_trip() -> None:
    value = {"a": [1, 2.5, None, True], "b": {"c": "ü"}}
    assert jsonutil.loads(jsonutil.dumps(value)) == value


def test_integers_beyond_64_bits_are_still_json() -> None:
    value = {"id": 2**70, "small": -(2**65)}
    assert json.loads(jsonutil.dumps(value)) == value


def test_non_string_keys_are_written_as_strings() -> None:
    assert jsonutil.loads(jsonutil.dumps({1: "one"})) == {"1": "one"}


def test_text_is_utf8_not_escaped() -> None:
    assert jsonutil.dumps({"t": "ü"}) == '{"t":"ü"}'.encode()
