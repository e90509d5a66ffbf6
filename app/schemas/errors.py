"""The error shape every API failure has, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from app.schemas.base import Model


class ErrorDetail(Model):
    message: str
    type: str
    details: dict[str, Any]


class ErrorResponse(Model):
    success: bool = False
    status: int
    error: ErrorDetail
