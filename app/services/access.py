"""Who may query a published retriever: its public key, its password, the unlock cookie, and
the throttle on wrong passwords.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app import crypto
from app.errors import Forbidden, PasswordRequired
from app.metrics import Metrics
from app.services.catalog import PublicRetriever
from app.services.cookies import UnlockCookies
from app.services.limits import Window, address_key
from app.services.throttle import PasswordThrottle
from app.services.vault import Vault

MAX_FAILED_ATTEMPTS = 5
FAILED_ATTEMPTS_WINDOW_SECONDS = 15 * 60


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Caller:
    """Who is asking, as far as access is concerned."""

    ip: str
    api_key: str | None = None
    password: str | None = None
    cookie: str | None = None
    # The id the client gives its visit (X-Session-ID), for the search log's counts of
    # sessions; never an address or a cookie.
    session_id: str | None = None
    # Told when the answer concerns a password-protected retriever (it depends on the
    # password or cookie sent, refusals and the password form included), so that the surface
    # keeps it out of shared caches.
    keep_private: Callable[[], None] = field(default=_nothing, compare=False, repr=False)


class Access:
    def __init__(
        self, vault: Vault, cookies: UnlockCookies, throttle: PasswordThrottle, metrics: Metrics
    ) -> None:
        self.vault = vault
        self.cookies = cookies
        self.throttle = throttle
        self.metrics = metrics

    async def check(
        self, retriever: PublicRetriever, caller: Caller, *, password: bool = True
    ) -> None:
        """The public key (when sent) and, unless told not to, the password (when set),
        before anything runs."""
        record = retriever.record
        if retriever.password_protected:
            caller.keep_private()
        if caller.api_key is not None and not crypto.same(caller.api_key, record.public_api_key):
            raise Forbidden("X-Public-API-Key is not this retriever's key.")
        if not retriever.password_protected or not password:
            return
        secret = await self._password(retriever)
        if caller.cookie and secret and self.cookies.valid(caller.cookie, record.public_id, secret):
            return
        if not caller.password:
            raise PasswordRequired(
                "This retriever is password-protected; send the password in X-Retriever-Password."
            )
        if not await self.try_password(retriever, caller, caller.password, secret):
            raise Forbidden("The password is not right.")

    async def try_password(
        self,
        retriever: PublicRetriever,
        caller: Caller,
        password: str,
        secret: str | None = None,
    ) -> bool:
        """Check a guess, refusing with 429 once this address has guessed wrong too often.

        Every guess is counted first and checked only if it is within the allowance (see
        `PasswordThrottle`, which also keeps the count through a Redis outage); a right
        password gives its count back.
        """
        if not retriever.password_protected:
            return False  # no password to guess: nothing matches, and nothing is counted
        caller.keep_private()
        window = Window(
            "password-attempts",
            MAX_FAILED_ATTEMPTS,
            FAILED_ATTEMPTS_WINDOW_SECONDS,
            f"{retriever.record.public_id}:{address_key(caller.ip)}",
        )
        guess = await self.throttle.admit(window)
        if secret is None:
            secret = await self._password(retriever)
        # Compared in constant time; a missing secret matches nothing.
        if secret is not None and crypto.same(password, secret):
            await self.throttle.right(guess)
            return True
        self.metrics.password_failures.inc()
        await self.throttle.wrong(guess)
        return False

    async def unlock_cookie(self, retriever: PublicRetriever) -> str | None:
        """A fresh unlock cookie's value for a retriever whose password was just given."""
        secret = await self._password(retriever)
        return None if secret is None else self.cookies.issue(retriever.record.public_id, secret)

    async def _password(self, retriever: PublicRetriever) -> str | None:
        name = retriever.record.password_secret_name
        if name is None:
            return None
        return await self.vault.value(retriever.record.namespace, name)
