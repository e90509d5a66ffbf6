"""Random identifiers, owner-key hashes, and the encryption of stored secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

OWNER_KEY_PREFIX = "sk_"
PUBLIC_KEY_PREFIX = "prk_"
PUBLIC_ID_PREFIX = "pub_"
RETRIEVER_ID_PREFIX = "ret_"
CIPHERTEXT_VERSION = "v1"
NONCE_BYTES = 12


def new_id(prefix: str, nbytes: int = 12) -> str:
    return prefix + secrets.token_hex(nbytes)


def new_token(prefix: str, nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def hash_key(key: str) -> str:
    # Owner keys are 256 random bits, so a fast hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time string comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def derive_key(secret_key: str, purpose: bytes) -> bytes:
    """A 256-bit key for one purpose, so that no two uses of SECRET_KEY share key material."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"retriever-pages", info=purpose)
    return hkdf.derive(secret_key.encode())


class SecretBox:
    """AES-256-GCM over secret values. The namespace and name are bound in as associated
    data, so a ciphertext copied to another row does not decrypt."""

    def __init__(self, secret_key: str) -> None:
        self._aead = AESGCM(derive_key(secret_key, b"secrets-v1"))

    @staticmethod
    def _context(namespace: str, name: str) -> bytes:
        return f"{namespace}\x00{name}".encode()

    def seal(self, namespace: str, name: str, value: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode(), self._context(namespace, name))
        return CIPHERTEXT_VERSION + ":" + base64.b64encode(nonce + sealed).decode()

    def open(self, namespace: str, name: str, ciphertext: str) -> str:
        version, _, payload = ciphertext.partition(":")
        if version != CIPHERTEXT_VERSION:
            raise ValueError(f"unknown ciphertext version {version!r}")
        raw = base64.b64decode(payload)
        plain = self._aead.decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], self._context(namespace, name)
        )
        return plain.decode()
