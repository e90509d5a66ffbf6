"""The execute's answer made in one step: the same bytes a caller gets from `JSONResponse`."""

from __future__ import annotations

from typing import Any

import pytest

from app.web.responses import JSONAnswer, JSONResponse

HEADERS = {"RateLimit-Policy": '"minute";q=10;w=60', "RateLimit": '"minute";r=9;t=42'}


@pytest.mark.parametrize(
    "content",
    [
        {"documents": [{"document_id": "d1", "score": 0.5, "title": "<Lamp> \u00e9 \u2603"}]},
        {"documents": [{"document_id": "b", "price": 2**70}]},  # past orjson's 64 bits
        {"facets": {1: "a key that is not a string"}},
        {},
    ],
)
@pytest.mark.parametrize("headers", [HEADERS, {}])
def test_status_headers_and_body_are_the_json_responses(
    content: dict[Any, Any], headers: dict[str, str]
) -> None:
    fast, plain = JSONAnswer(content, headers), JSONResponse(content, headers=headers)
    assert fast.status_code == plain.status_code == 200
    assert fast.raw_headers == plain.raw_headers
    assert fast.body == plain.body
    assert fast.background is None
