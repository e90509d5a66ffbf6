"""The console's sessions: signing in with an owner key, the signed session cookie, the
namespace a session acts in, and the token each of its forms carries.

The cookie never holds a key: it holds the key's hash (what the store keys by), the chosen
namespace and a random session id, signed and time-stamped with itsdangerous. Every request
looks the hash up again, so a revoked key ends its sessions at once and a changed role
applies at once. Wrong keys are counted per address by the same throttle, with the same
allowance, as wrong page passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from app import crypto
from app.adapters.clock import Clock
from app.adapters.store import Store
from app.adapters.store.namespaces import known_namespaces
from app.errors import TooManyRequests, Unauthorized, invalid
from app.schemas.base import NAMESPACE, NAMESPACE_RULE
from app.schemas.roles import ANY_NAMESPACE, Role
from app.services.access import FAILED_ATTEMPTS_WINDOW_SECONDS, MAX_FAILED_ATTEMPTS
from app.services.keys import OwnerKeys
from app.services.limits import Window, address_key
from app.services.throttle import PasswordThrottle

MAX_NAMESPACES = 200  # offered by the switcher to a key of every namespace
SIGN_IN_FORM_MAX_AGE_SECONDS = 3600
NOTE_MAX_AGE_SECONDS = 3600
MAX_KEY_CHARS = 500


@dataclass(frozen=True)
class Seat:
    """A signed-in session: the key (by its hash), the namespace it acts in, its role now."""

    key_hash: str
    namespace: str
    role: Role
    bound_to: str  # the key's own namespace, or ANY_NAMESPACE
    session_id: str

    @property
    def every_namespace(self) -> bool:
        return self.bound_to == ANY_NAMESPACE

    def may(self, needed: Role | str) -> bool:
        """Whether the key's role is `needed` or above (templates name it as text)."""
        return self.role.allows(Role(needed))


class ConsoleSessions:
    def __init__(
        self,
        keys: OwnerKeys,
        throttle: PasswordThrottle,
        store: Store,
        secret_key: str,
        clock: Clock,
        max_age: int,
    ) -> None:
        self.keys = keys
        self.throttle = throttle
        self.store = store
        self.max_age = max_age

        class _ClockedSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(clock().timestamp())

        self._cookies = URLSafeTimedSerializer(
            crypto.derive_key(secret_key, b"console-session-v1"),
            salt="console-session",
            signer=_ClockedSigner,
        )
        self._forms = URLSafeTimedSerializer(
            crypto.derive_key(secret_key, b"console-sign-in-form-v1"),
            salt="console-sign-in",
            signer=_ClockedSigner,
        )
        self._csrf_key = crypto.derive_key(secret_key, b"console-csrf-v1")
        self._notes = URLSafeTimedSerializer(
            crypto.derive_key(secret_key, b"console-note-v1"),
            salt="console-note",
            signer=_ClockedSigner,
        )

    async def sign_in(self, key: str, namespace: str, ip: str) -> Seat:
        """The session a key opens, or 401 (wrong key), 422 (no namespace for a key of every
        namespace, or one that is not a namespace), 429 (too many wrong keys from `ip`)."""
        namespace = namespace.strip()
        if namespace:
            check_namespace(namespace)
        window = Window(
            "console-sign-in",
            MAX_FAILED_ATTEMPTS,
            FAILED_ATTEMPTS_WINDOW_SECONDS,
            f"console:{address_key(ip)}",
        )
        try:
            guess = await self.throttle.admit(window)
        except TooManyRequests as refused:
            raise TooManyRequests(
                f"Too many wrong keys from this address; try again in {refused.retry_after} s.",
                window=str(refused.details.get("window", "console-sign-in")),
                retry_after=refused.retry_after,
                headers=refused.headers,
            ) from None
        key_hash = crypto.hash_key(key.strip()[:MAX_KEY_CHARS])
        found = self.keys.grant(key_hash) if key.strip() else None
        if found is None:
            await self.throttle.wrong(guess)
            raise Unauthorized("That key is not an owner key of this server.")
        await self.throttle.right(guess)
        bound_to, role = found
        if bound_to != ANY_NAMESPACE:
            namespace = bound_to  # a key bound to one namespace acts in it, whatever was typed
        elif not namespace:
            chosen = self.namespaces_for(bound_to, "")
            if not chosen:
                raise invalid("namespace", "required", "Type the namespace to work in.")
            namespace = chosen[0]
        return Seat(key_hash, namespace, role, bound_to, secrets.token_urlsafe(16))

    def cookie(self, seat: Seat) -> str:
        """The session cookie's value: the key's hash, the namespace and the session id."""
        return self._cookies.dumps({"k": seat.key_hash, "n": seat.namespace, "s": seat.session_id})

    def open(self, cookie: str | None) -> Seat | None:
        """The session a cookie holds, if it is signed by this server, not expired, and its
        key still valid for its namespace; None otherwise."""
        if not cookie:
            return None
        try:
            data = self._cookies.loads(cookie, max_age=self.max_age)
        except (BadSignature, SignatureExpired):
            return None
        if not isinstance(data, dict):
            return None
        key_hash, namespace, session_id = data.get("k"), data.get("n"), data.get("s")
        if not all(isinstance(v, str) and v for v in (key_hash, namespace, session_id)):
            return None
        assert isinstance(key_hash, str)
        assert isinstance(namespace, str)
        assert isinstance(session_id, str)
        found = self.keys.grant(key_hash)
        if found is None:
            return None
        bound_to, role = found
        if bound_to not in (ANY_NAMESPACE, namespace):
            return None
        return Seat(key_hash, namespace, role, bound_to, session_id)

    def switch(self, seat: Seat, namespace: str) -> Seat:
        """The same session in another namespace the key may use (403 for one it may not)."""
        namespace = namespace.strip()
        check_namespace(namespace)
        if seat.bound_to not in (ANY_NAMESPACE, namespace):
            raise invalid("namespace", "not this key's", "This key works in its namespace only.")
        return Seat(seat.key_hash, namespace, seat.role, seat.bound_to, seat.session_id)

    def namespaces(self, seat: Seat) -> list[str]:
        """The namespaces the switcher offers: the key's own, or for a key of every namespace
        those that hold retrievers or that keys are bound to (and the current one)."""
        return self.namespaces_for(seat.bound_to, seat.namespace)

    def namespaces_for(self, bound_to: str, current: str) -> list[str]:
        if bound_to != ANY_NAMESPACE:
            return [bound_to]
        with self.store.read() as tx:
            stored = known_namespaces(tx.conn, MAX_NAMESPACES)
        found = {*stored, *self.keys.configured_namespaces(), *([current] if current else [])}
        return sorted(found - {ANY_NAMESPACE})[:MAX_NAMESPACES]

    def csrf_token(self, seat: Seat) -> str:
        """The token every form of this session carries (bound to the session, not a page)."""
        message = f"{seat.key_hash}\x00{seat.session_id}".encode()
        return hmac.new(self._csrf_key, message, hashlib.sha256).hexdigest()

    def csrf_valid(self, seat: Seat, token: str) -> bool:
        return hmac.compare_digest(self.csrf_token(seat).encode(), token.encode())

    def seal(self, seat: Seat, note: Any) -> str:
        """`note` (what a form did, such as an upload's report) signed for this session, to
        be shown by the page a form redirects to."""
        return self._notes.dumps([seat.session_id, note])

    def unseal(self, seat: Seat, token: str) -> Any:
        """The note `seal` signed for this session in the last hour, or None."""
        try:
            session_id, note = self._notes.loads(token, max_age=NOTE_MAX_AGE_SECONDS)
        except (BadSignature, SignatureExpired, TypeError, ValueError):
            return None
        return note if session_id == seat.session_id else None

    def sign_in_token(self) -> str:
        """The sign-in form's own token (there is no session yet to bind it to)."""
        return self._forms.dumps("sign-in")

    def sign_in_token_valid(self, token: str) -> bool:
        try:
            value = self._forms.loads(token, max_age=SIGN_IN_FORM_MAX_AGE_SECONDS)
        except (BadSignature, SignatureExpired):
            return False
        return bool(value == "sign-in")


def check_namespace(namespace: str) -> None:
    if not NAMESPACE.fullmatch(namespace):
        raise invalid("namespace", "invalid namespace", f"A namespace is {NAMESPACE_RULE}.")
