"""Fast JSON in and out (orjson), in one place."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        # orjson stops at 64-bit integers; an upstream may send bigger ones, which are still JSON.
        return json.dumps(value, ensure_ascii=False, default=str).encode()


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)
