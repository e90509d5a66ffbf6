"""The vault: sealed at rest, values only for the server, a cache its own changes clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.adapters.clock import system_clock
from app.adapters.store import Store
from app.crypto import SecretBox
from app.errors import Conflict, NotFound
from app.services.vault import Vault

pytestmark = pytest.mark.anyio


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    store.migrate()
    return Vault(store, SecretBox("k" * 40), system_clock)


def test_a_value_is_stored_sealed(vault: Vault) -> None:
    vault.create("acme", "upstream", "sk_live_very_secret")
    with vault.store.read() as tx:
        sealed = tx.get_secret_ciphertext("acme", "upstream")
    assert sealed is not None
    assert b"sk_live_very_secret" not in (sealed if isinstance(sealed, bytes) else sealed.encode())


async def test_values_are_per_namespace(vault: Vault) -> None:
    vault.create("acme", "upstream", "acme-key")
    assert await vault.value("acme", "upstream") == "acme-key"
    assert await vault.value("globex", "upstream") is None


async def test_a_change_is_seen_at_once_despite_the_cache(vault: Vault) -> None:
    assert await vault.value("acme", "pw") is None  # cached as missing
    vault.create("acme", "pw", "first")
    assert await vault.value("acme", "pw") == "first"
    vault.replace("acme", "pw", "second")
    assert await vault.value("acme", "pw") == "second"
    vault.delete("acme", "pw")
    assert await vault.value("acme", "pw") is None


def test_names_are_listed_never_values(vault: Vault) -> None:
    vault.create("acme", "b", "value-b")
    vault.create("acme", "a", "value-a")
    listing = vault.names("acme")
    assert listing.secrets == ["a", "b"]
    assert "value" not in listing.model_dump_json().replace('"secrets"', "")


def test_twice_the_same_name_is_a_conflict_and_keeps_the_first(vault: Vault) -> None:
    vault.create("acme", "pw", "first")
    with pytest.raises(Conflict):
        vault.create("acme", "pw", "second")
    with vault.store.read() as tx:
        assert vault.reveal(tx, "acme", "pw") == "first"


def test_replacing_or_deleting_a_missing_secret_is_not_found(vault: Vault) -> None:
    with pytest.raises(NotFound):
        vault.replace("acme", "nothing", "x")
    with pytest.raises(NotFound):
        vault.delete("acme", "nothing")
