"""JSON answers: orjson-rendered, and the one shape of every API error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel
from starlette.responses import JSONResponse as _StarletteJSONResponse

from app import jsonutil


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return jsonutil.dumps(content)


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
