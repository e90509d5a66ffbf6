"""Organization secrets: encrypted at rest, written and deleted by owners, read only here.

Values are read on the hot path (every protected query, every upstream call), so the vault
keeps them in a short-lived cache that its own changes clear at once and that other
processes' changes reach within twice `CACHE_SECONDS` (`app/adapters/cache.py`).
"""

from __future__ import annotations

from app.adapters.cache import RefreshingCache
from app.adapters.clock import Clock, stamp
from app.adapters.store import Store, Transaction, UniqueViolation
from app.adapters.threads import in_thread
from app.crypto import SecretBox
from app.errors import Conflict, NotFound
from app.metrics import CacheCounter
from app.schemas.secrets import SecretResponse, SecretsListResponse

CACHE_SECONDS = 0.9
MAX_CACHED = 10_000


class Vault:
    def __init__(
        self, store: Store, box: SecretBox, clock: Clock, counter: CacheCounter | None = None
    ) -> None:
        self.store = store
        self.box = box
        self.clock = clock
        self._values: RefreshingCache[tuple[str, str], str | None] = RefreshingCache(
            self._load, CACHE_SECONDS, MAX_CACHED, counter=counter or (lambda hit: None)
        )

    def changed(self) -> None:
        """Drop every cached value: one changed (or a name cached as missing now exists)."""
        self._values.clear()

    async def value(self, namespace: str, name: str) -> str | None:
        """A secret's plaintext, for server-side use only (password checks, upstream keys)."""
        return await self._values.get((namespace, name))

    async def _load(self, key: tuple[str, str]) -> str | None:
        return await in_thread(self._reveal, *key)

    def _reveal(self, namespace: str, name: str) -> str | None:
        with self.store.read() as tx:
            return self.reveal(tx, namespace, name)

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
            self.changed()
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
            users += [f"retriever {r}" for r, _ in tx.retrievers_using_secret(namespace, name)]
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
        """The plaintext, for server-side use only (password checks, upstream keys): the
        namespace's own secret of that name, else the organization's, never another's."""
        scope = tx.secret_scope(namespace, name)
        sealed = None if scope is None else tx.get_secret_ciphertext(scope, name)
        return None if scope is None or sealed is None else self.box.open(scope, name, sealed)


def _missing(name: str) -> NotFound:
    return NotFound(f"No secret named {name!r} in this namespace.")
