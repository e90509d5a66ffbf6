"""A JSON body as a model, or a 422 that names each wrong field."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from app.errors import from_validation_error, invalid

M = TypeVar("M", bound=BaseModel)


def parse_json(model: type[M], body: bytes) -> M:
    if not body.strip():
        raise invalid("body", "required", "The request body is empty; send a JSON object.")
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise from_validation_error(exc) from None
