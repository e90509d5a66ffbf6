"""The console's access settings of a published retriever: its rate limits, its password,
its public key and the sites that may frame it.

Each change is the owner API's own call: `Publishing.update_published` (the PATCH of
`/v1/retrievers/{id}/publish`) for limits, password and framing, and the `Vault` (the secrets
calls) for a password typed in, so every check and every error is the API's. The state shown
never holds the public key or a secret's value: only whether there is one, and its name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from app import crypto, jsonutil, urls
from app.adapters.clock import Clock, stamp
from app.adapters.store import Store
from app.errors import Conflict, InvalidInput, NotFound, from_validation_error, invalid
from app.schemas.display import DisplayConfig
from app.schemas.extensions import MAX_FRAME_ANCESTORS, check_extensions
from app.schemas.publishing import RateLimitConfig, RateLimitTier, UpdatePublishedRetrieverRequest
from app.schemas.secrets import CreateSecretRequest
from app.services.limits import TIER_LIMITS
from app.services.publishing import Publishing
from app.services.retrievers import retriever_or_404
from app.services.vault import Vault

TIERS = tuple(tier.value for tier in RateLimitTier)
# The tiers' windows as the form explains them: (per minute, per hour, per day), or None.
TIER_WINDOWS = {tier.value: TIER_LIMITS[tier] for tier in RateLimitTier}
NUMBERS = (
    "requests_per_minute",
    "requests_per_hour",
    "requests_per_day",
    "max_results_per_query",
    "max_requests_per_ip_hour",
)
MAX_NUMBER_CHARS = 12
SECRET_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,100}")  # as `CreateSecretRequest` has it
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
MAX_ORIGIN_CHARS = 200
# Where each field of the API's requests is shown on the access forms.
FORM_FIELDS = {
    **{f"rate_limit_config.{name}": name for name in NUMBERS},
    "rate_limit_config.tier": "tier",
    "rate_limit_config.enable_ip_limits": "enable_ip_limits",
    "rate_limit_config": "form",
    "password_secret_name": "secret_name",
    "secret_name": "new_secret_name",
    "secret_value": "password",
    "display_config.extensions": "frame_ancestors",
}


@dataclass(frozen=True)
class AccessState:
    """What the access page shows of a retriever: never its key, never a secret's value."""

    retriever_id: str
    retriever_name: str
    public_name: str | None  # None: not published
    active: bool
    limits: dict[str, Any]
    password_secret: str | None
    frame_ancestors: list[str]

    @property
    def published(self) -> bool:
        return self.public_name is not None


@dataclass(frozen=True)
class LimitsForm:
    """The rate-limit form, as sent (numbers as typed; '' for the tier's own)."""

    enabled: bool = True
    tier: str = "standard"
    numbers: tuple[tuple[str, str], ...] = ()
    enable_ip_limits: bool = False

    def number(self, name: str) -> str:
        return dict(self.numbers).get(name, "")

    @classmethod
    def of(cls, limits: dict[str, Any]) -> LimitsForm:
        """The form filled in with the stored limits."""
        numbers = tuple((n, "" if limits.get(n) is None else str(limits[n])) for n in NUMBERS)
        return cls(
            bool(limits.get("enabled", True)),
            str(limits.get("tier") or "standard"),
            numbers,
            bool(limits.get("enable_ip_limits")),
        )


class ConsoleAccess:
    def __init__(self, store: Store, publishing: Publishing, vault: Vault, clock: Clock) -> None:
        self.store = store
        self.publishing = publishing
        self.vault = vault
        self.clock = clock

    def state(self, namespace: str, retriever_id: str) -> AccessState:
        """A retriever's access settings (404 for one not in this namespace)."""
        with self.store.read() as tx:
            retriever = retriever_or_404(tx, namespace, retriever_id)
            published = tx.get_published(namespace, retriever_id)
        if published is None:
            return AccessState(retriever_id, retriever.retriever_name, None, False, {}, None, [])
        stored = jsonutil.dumps(published.rate_limit_config)
        limits = RateLimitConfig.model_validate_json(stored).model_dump(mode="json")
        extensions = published.display_config.get("extensions") or {}
        return AccessState(
            retriever_id=retriever_id,
            retriever_name=retriever.retriever_name,
            public_name=published.public_name,
            active=published.is_active,
            limits=limits,
            password_secret=published.password_secret_name,
            frame_ancestors=list(extensions.get("frame_ancestors") or []),
        )

    def set_limits(self, namespace: str, retriever_id: str, form: LimitsForm) -> None:
        """The rate limits, merged over the stored ones as the API's PATCH merges them; a
        number left empty is the tier's own (or, for the results, the default 100)."""
        sent: dict[str, Any] = {
            "enabled": form.enabled,
            "tier": form.tier,
            "enable_ip_limits": form.enable_ip_limits,
        }
        errors = []
        for name in NUMBERS:
            typed = form.number(name).strip().replace(",", "").replace("_", "")
            if not typed:
                sent[name] = 100 if name == "max_results_per_query" else None
            elif len(typed) > MAX_NUMBER_CHARS or not typed.isdigit():
                errors.append({"field": f"rate_limit_config.{name}", "message": "a whole number"})
            else:
                sent[name] = int(typed)
        if errors:
            raise InvalidInput("Some limits are not whole numbers.", details={"errors": errors})
        self._update(namespace, retriever_id, rate_limit_config=sent)

    def use_secret(self, namespace: str, retriever_id: str, name: str) -> None:
        """The password becomes the value of the secret `name` (which must exist)."""
        if not name.strip():
            raise invalid("password_secret_name", "the name of a secret")
        self._update(namespace, retriever_id, password_secret_name=name.strip())

    def new_password(self, namespace: str, retriever_id: str, name: str, value: str) -> None:
        """The password typed, kept as the secret `name`: a new secret, or a new value for
        the secret that is the password now. (The secrets calls are the owner's.)"""
        current = self.state_or_404(namespace, retriever_id).password_secret
        if not SECRET_NAME.fullmatch(name.strip()):
            raise invalid("secret_name", "1 to 100 letters, digits, '_', '.' or '-'")
        if not value or CONTROL.search(value):
            raise invalid("secret_value", "a password of 1 to 10,000 characters, no control ones")
        try:
            request = CreateSecretRequest(secret_name=name.strip(), secret_value=value)
        except ValidationError as error:
            raise from_validation_error(error) from None
        if request.secret_name == current:
            self.vault.replace(namespace, request.secret_name, request.secret_value)
            return
        try:
            self.vault.create(namespace, request.secret_name, request.secret_value)
        except Conflict:
            # A name taken: said beside the name, not as a page of its own.
            raise invalid(
                "secret_name",
                f"a secret named {request.secret_name!r} exists already; choose it above, "
                "or another name",
            ) from None
        self._update(namespace, retriever_id, password_secret_name=request.secret_name)

    def clear_password(self, namespace: str, retriever_id: str) -> None:
        """No password (the secret itself stays)."""
        self._update(namespace, retriever_id, password_secret_name="")

    def set_origins(self, namespace: str, retriever_id: str, typed: str) -> list[str]:
        """The sites that may frame the page, one origin a line, checked as the API checks
        `extensions.frame_ancestors`; an empty list lets none."""
        origins = list(dict.fromkeys(line.strip() for line in typed.splitlines() if line.strip()))
        if len(origins) > MAX_FRAME_ANCESTORS:
            raise invalid(
                "display_config.extensions",
                f"at most {MAX_FRAME_ANCESTORS} origins, one a line ({len(origins)} sent)",
            )
        too_long = [o for o in origins if len(o) > MAX_ORIGIN_CHARS]
        if too_long:
            raise invalid("display_config.extensions", f"{too_long[0][:60]!r} is not an origin")
        try:
            check_extensions({"frame_ancestors": origins}, ())
        except ValueError as error:
            raise invalid("display_config.extensions", str(error)) from None
        with self.store.read() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            published = tx.get_published(namespace, retriever_id)
        if published is None:
            raise _not_published(retriever_id)
        config = {k: v for k, v in published.display_config.items() if k != "retriever_config"}
        extensions = {**(config.get("extensions") or {}), "frame_ancestors": origins}
        if not origins:
            del extensions["frame_ancestors"]
        config["extensions"] = extensions
        try:
            display = DisplayConfig.model_validate_json(jsonutil.dumps(config))
        except ValidationError as error:
            raise from_validation_error(error, prefix=("display_config",)) from None
        self.publishing.update_published(
            namespace, retriever_id, UpdatePublishedRetrieverRequest(display_config=display)
        )
        return origins

    def rotate_key(self, namespace: str, retriever_id: str) -> str:
        """A new public API key, returned this once; the old one stops working at once."""
        with self.store.write() as tx:
            retriever_or_404(tx, namespace, retriever_id)
            current = tx.get_published(namespace, retriever_id, for_update=True)
            if current is None:
                raise _not_published(retriever_id)
            key = crypto.new_token(crypto.PUBLIC_KEY_PREFIX)
            tx.update_published(
                current.replace(
                    public_api_key=key,
                    updated_at=stamp(self.clock()),
                    version=current.version + 1,
                )
            )
        self.publishing.changed(current.public_name)
        return key

    def state_or_404(self, namespace: str, retriever_id: str) -> AccessState:
        state = self.state(namespace, retriever_id)
        if not state.published:
            raise _not_published(retriever_id)
        return state

    def _update(self, namespace: str, retriever_id: str, **fields: Any) -> None:
        request = UpdatePublishedRetrieverRequest.model_validate(fields)
        self.publishing.update_published(namespace, retriever_id, request)


def embed_snippets(public_url: str, public_name: str) -> tuple[str, str]:
    """The two ways to embed a page, as docs/pages.md gives them: the script that frames
    and resizes it, and a plain iframe of a fixed height for a site without scripts."""
    server = public_url.rstrip("/")
    script = f'<script src="{server}/embed.js" data-retriever="{public_name}" async></script>'
    iframe = (
        f'<iframe src="{urls.absolute(server, urls.embed(public_name))}" title="Search" '
        'width="100%" height="600" style="border:0"></iframe>'
    )
    return script, iframe


def _not_published(retriever_id: str) -> NotFound:
    return NotFound(
        f"Retriever {retriever_id!r} is not published; its access settings come with its page."
    )
