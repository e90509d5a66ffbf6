"""Organization secrets: encrypted at rest, written and deleted by owners, read only here."""

from __future__ import annotations

from collections.abc import Callable

from app.clock import Clock, stamp
from app.crypto import SecretBox
from app.errors import Conflict, NotFound
from app.schemas.secrets import SecretResponse, SecretsListResponse
from app.store import Store, Transaction, UniqueViolation


class Vault:
    def __init__(
        self,
        store: Store,
        box: SecretBox,
        clock: Clock,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.box = box
        self.clock = clock
        self.changed = changed  # told when a value changes, so caches of it are dropped

    def create(self, namespace: str, name: str, value: str) -> SecretResponse:
        try:
            with self.store.write() as tx:
                if tx.secret_exists(namespace, name):
                    raise Conflict(
                        f"A secret named {name!r} already exists; "
                        f"replace it with PUT /v1/organizations/secrets/{name}."
                    )
                sealed = self.box.seal(namespace, name, value)
                tx.insert_secret(namespace, name, sealed, stamp(self.clock()))
            self.changed()  # a name cached as missing exists now
        except UniqueViolation:
            raise Conflict(f"A secret named {name!r} already exists.") from None
        return SecretResponse(secret_name=name, created=True)

    def replace(self, namespace: str, name: str, value: str) -> SecretResponse:
        with self.store.write() as tx:
            sealed = self.box.seal(namespace, name, value)
            if not tx.replace_secret(namespace, name, sealed, stamp(self.clock())):
                raise _missing(name)
        self.changed()
        return SecretResponse(secret_name=name, updated=True)

    def delete(self, namespace: str, name: str) -> SecretResponse:
        with self.store.write() as tx:
            users = [
                f"published retriever {n!r}" for n in tx.published_using_secret(namespace, name)
            ]
            users += [f"retriever {r}" for r in tx.retrievers_using_secret(namespace, name)]
            if users:
                raise Conflict(
                    f"The secret {name!r} is in use by {', '.join(users)}; "
                    "change or remove those first.",
                    details={"used_by": users},
                )
            if not tx.delete_secret(namespace, name):
                raise _missing(name)
        self.changed()
        return SecretResponse(secret_name=name, deleted=True)

    def names(self, namespace: str) -> SecretsListResponse:
        with self.store.read() as tx:
            names = tx.list_secret_names(namespace)
        return SecretsListResponse(secrets=names, count=len(names))

    def reveal(self, tx: Transaction, namespace: str, name: str) -> str | None:
        """The plaintext, for server-side use only (password checks, upstream keys)."""
        sealed = tx.get_secret_ciphertext(namespace, name)
        return None if sealed is None else self.box.open(namespace, name, sealed)


def _missing(name: str) -> NotFound:
    return NotFound(f"No secret named {name!r} in this namespace.")
