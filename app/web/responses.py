"""JSON answers: orjson-rendered, and the one shape of every API error."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import JSONResponse as _StarletteJSONResponse

from app import jsonutil


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return jsonutil.dumps(content)


_JSON_TYPE = (b"content-type", b"application/json")


class JSONAnswer(JSONResponse):
    """A 200 JSON answer made in one step: the same status, headers (in the same order) and
    body as `JSONResponse(content, headers=headers)`, without Starlette's general case
    (a media type to pick, a charset to add, the headers searched for a length and a type).
    `headers` must hold neither Content-Length nor Content-Type. For the public execute."""

    def __init__(self, content: Any, headers: Mapping[str, str]) -> None:
        self.status_code = 200
        self.background = None
        try:
            # Plain first: the option for non-string keys takes a slower path for every
            # dictionary, and an answer's keys are strings (the same bytes either way).
            body = orjson.dumps(content)
        except orjson.JSONEncodeError:
            body = jsonutil.dumps(content)
        self.body = body
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
        raw.append(_JSON_TYPE)
        self.raw_headers = raw


def respond(
    model: BaseModel, status_code: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(model.model_dump(mode="json"), status_code=status_code, headers=headers)


def error_body(status: int, type_: str, message: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "success": False,
        "status": status,
        "error": {"message": message, "type": type_, "details": details},
    }


def error_response(
    status: int,
    type_: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(status, type_, message, details or {}), status_code=status, headers=headers
    )


# A cell a spreadsheet would run as a formula (=, +, -, @, or a tab or return first) is
# written with a leading apostrophe: the queries in a report are what strangers typed.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_text(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV under a header of `columns`; nested values as JSON."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(value) for key, value in row.items()})
    return out.getvalue()


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value
