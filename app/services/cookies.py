"""The signed unlock cookie a password-protected page sets once the password is given.

The cookie names the retriever and a fingerprint of its current password, signed and
time-stamped with itsdangerous: changing the password (or the retriever being published
anew) makes every earlier cookie worthless.
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app.adapters.clock import Clock
from app.crypto import derive_key

COOKIE_PREFIX = "rp_unlock_"


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
