"""Organization secrets: written, replaced and deleted, never read back."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from app.schemas.base import Model

SecretName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.\-]+$")
]
# No control characters: a value may be sent as a header (an upstream key), where CR or LF
# would end the header. Tabs and spaces are fine.
SecretValue = Annotated[
    str,
    StringConstraints(min_length=1, max_length=10_000, pattern=r"^[^\x00-\x08\x0a-\x1f\x7f]+$"),
]


class CreateSecretRequest(Model):
    secret_name: SecretName
    secret_value: SecretValue


class UpdateSecretRequest(Model):
    secret_value: SecretValue


class SecretResponse(Model):
    secret_name: str
    created: bool | None = None
    updated: bool | None = None
    deleted: bool | None = None


class SecretsListResponse(Model):
    secrets: list[str]
    count: int
