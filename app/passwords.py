"""Password access: the signed unlock cookie, and the throttle on wrong guesses.

The cookie names the retriever and a fingerprint of its current password, signed and
time-stamped with itsdangerous: changing the password (or the retriever being published
anew) makes every earlier cookie worthless.
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app.clock import Clock
from app.crypto import derive_key
from app.ratelimit import Decision, RateLimiter, Window

COOKIE_PREFIX = "rp_unlock_"
MAX_FAILED_ATTEMPTS = 5
FAILED_ATTEMPTS_WINDOW_SECONDS = 15 * 60


class UnlockCookies:
    def __init__(self, secret_key: str, clock: Clock, max_age: int) -> None:
        self.max_age = max_age
        self._fingerprint_key = derive_key(secret_key, b"password-fingerprint-v1")

        class _ClockedSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock().timestamp())

        self._serializer = URLSafeTimedSerializer(
            derive_key(secret_key, b"unlock-cookie-v1"), salt="unlock", signer=_ClockedSigner
        )

    @staticmethod
    def name(public_name: str) -> str:
        return COOKIE_PREFIX + public_name.replace("-", "_")

    def _fingerprint(self, public_id: str, password: str) -> str:
        message = f"{public_id}\x00{password}".encode()
        return hmac.new(self._fingerprint_key, message, hashlib.sha256).hexdigest()[:32]

    def issue(self, public_id: str, password: str) -> str:
        return self._serializer.dumps({"r": public_id, "p": self._fingerprint(public_id, password)})

    def valid(self, cookie: str, public_id: str, password: str) -> bool:
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except (SignatureExpired, BadSignature):
            return False
        if not isinstance(data, dict) or data.get("r") != public_id:
            return False
        expected = self._fingerprint(public_id, password)
        return hmac.compare_digest(str(data.get("p", "")), expected)


class FailedAttempts:
    """Wrong passwords per client address and retriever; a handful, then 429 for a while."""

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def _window(self, public_id: str, client_ip: str) -> Window:
        return Window(
            "password-attempts",
            MAX_FAILED_ATTEMPTS,
            FAILED_ATTEMPTS_WINDOW_SECONDS,
            f"{public_id}:{client_ip}",
        )

    async def blocked(self, public_id: str, client_ip: str) -> Decision | None:
        """The refusal when this address has used up its attempts, else None."""
        window = self._window(public_id, client_ip)
        count = await self.limiter.peek(window)
        if count >= MAX_FAILED_ATTEMPTS:
            return self.limiter.refusal(window)
        return None

    async def record_failure(self, public_id: str, client_ip: str) -> None:
        await self.limiter.hit([self._window(public_id, client_ip)])
