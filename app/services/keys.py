"""Owner authentication: `Authorization: Bearer <key>` plus `X-Namespace` gives a namespace,
and the key's role says which calls it may make.

Keys come from `RETRIEVER_PAGES_API_KEYS` (a bare `KEY` works in every namespace, `NS:KEY`
only in NS, `@ROLE` after either sets its role) or from `retriever-pages keys create`, which
stores only the key's hash.
"""

from __future__ import annotations

from dataclasses import dataclass

from app import crypto
from app.adapters.clock import Clock, stamp
from app.adapters.store import Store
from app.errors import Forbidden, Unauthorized, invalid
from app.schemas.base import NAMESPACE, NAMESPACE_RULE
from app.schemas.roles import ANY_NAMESPACE, ORGANIZATION, Role, parse_key_entry

MAX_LABEL_CHARS = 200


@dataclass(frozen=True)
class _ConfiguredKey:
    namespace: str
    key_hash: str
    role: Role


@dataclass(frozen=True)
class Owner:
    """Who makes an owner call: the namespace it acts in, and its key's role."""

    namespace: str
    role: Role
    # A configured key bound to no namespace, with the owner role: the server's operator,
    # who alone may vouch for a marketplace listing (trust tiers).
    operator: bool = False


class OwnerKeys:
    def __init__(self, store: Store, configured_keys: list[str], clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._configured = []
        for text in configured_keys:
            entry = parse_key_entry(text)
            self._configured.append(
                _ConfiguredKey(entry.namespace, crypto.hash_key(entry.key), entry.role)
            )

    def create_key(self, namespace: str, label: str | None = None, role: Role = Role.OWNER) -> str:
        """A new key for `namespace`. Only its hash is stored: this is the one chance to see it."""
        check_namespace(namespace)
        if label is not None and len(label) > MAX_LABEL_CHARS:
            raise invalid("label", f"at most {MAX_LABEL_CHARS} characters")
        key = crypto.new_token(crypto.OWNER_KEY_PREFIX)
        with self.store.write() as tx:
            tx.add_owner_key(
                crypto.hash_key(key), namespace, label, stamp(self.clock()), role.value
            )
        return key

    def owner(
        self,
        authorization: str | None,
        namespace: str | None,
        *,
        header_optional: bool = False,
        needs: Role = Role.VIEWER,
    ) -> Owner:
        """The namespace the request may act in and the key's role, or the error that says
        why not: 401 for no or an unknown key, 403 for another namespace or a role below
        `needs`.

        With `header_optional` (the organization-secret calls, which the SDK sends without
        X-Namespace), a key bound to one namespace acts in that namespace, and a key of every
        namespace acts on the organization (`ORGANIZATION`).
        """
        if not authorization:
            raise Unauthorized(
                "Missing Authorization header; send 'Authorization: Bearer <owner key>'."
            )
        scheme, _, key = authorization.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            raise Unauthorized("The Authorization header must be 'Bearer <owner key>'.")
        if namespace is not None:  # sent, even empty: it must be a namespace
            check_namespace(namespace)
        found = self._key(crypto.hash_key(key))
        if found is None:
            raise Unauthorized("The owner key is not valid.")
        allowed, role = found
        operator = allowed == ANY_NAMESPACE and role is Role.OWNER
        if not role.allows(needs):
            raise Forbidden(
                f"This call needs the {needs.value} role; this key's role is {role.value}.",
                details={"needed_role": needs.value, "role": role.value},
            )
        if namespace is None:
            if header_optional:
                # A key bound to a namespace acts in it; a key of every namespace acts on the
                # organization's own secrets, as Mixpeek's SDK expects of a plain key.
                scope = ORGANIZATION if allowed == ANY_NAMESPACE else allowed
                return Owner(scope, role, operator)
            raise invalid(
                "X-Namespace",
                "required",
                "Missing X-Namespace header; send the namespace the request acts in.",
            )
        if allowed not in (ANY_NAMESPACE, namespace):
            raise Forbidden(f"This owner key is not valid for namespace {namespace!r}.")
        return Owner(namespace, role, operator)

    def grant(self, key_hash: str) -> tuple[str, Role] | None:
        """(namespace, role) of a key by its hash, configured or stored; None when no such
        key is (still) there. The namespace is `ANY_NAMESPACE` for a key of every one."""
        return self._key(key_hash)

    def configured_namespaces(self) -> list[str]:
        """The namespaces that configured keys are bound to."""
        return sorted({c.namespace for c in self._configured} - {ANY_NAMESPACE})

    def _key(self, key_hash: str) -> tuple[str, Role] | None:
        """(namespace, role) of a key, configured or stored."""
        found = None
        # Compare against every configured key, in constant time, whatever matches first.
        for configured in self._configured:
            if crypto.same(configured.key_hash, key_hash):
                found = (configured.namespace, configured.role)
        if found is not None:
            return found
        with self.store.read() as tx:
            stored = tx.owner_key(key_hash)
        return None if stored is None else (stored[0], Role(stored[1]))


def check_namespace(namespace: str) -> None:
    if not NAMESPACE.fullmatch(namespace):
        raise invalid("X-Namespace", "invalid namespace", f"X-Namespace must be {NAMESPACE_RULE}.")
