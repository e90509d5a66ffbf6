"""Random identifiers, owner-key hashes, and the encryption of stored secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

OWNER_KEY_PREFIX = "sk_"
PUBLIC_KEY_PREFIX = "prk_"
PUBLIC_ID_PREFIX = "pub_"
RETRIEVER_ID_PREFIX = "ret_"
CIPHERTEXT_VERSION = "v1"
NONCE_BYTES = 12
POOL_BYTES = 4096


class _RandomPool:
    """Bytes from os.urandom, read 4 KiB at a time. Each public search takes two or three
    random values (its request id, its execution id, a page's CSP nonce), and os.urandom lets
    go of the GIL for its system call: on the event loop, each was a moment for another
    thread to take the GIL and hold the loop up (docs/design.md, "The collector and the
    GIL"). The bytes are the kernel's all the same; a forked child starts a pool of its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._bytes = b""
        self._at = 0
        os.register_at_fork(after_in_child=self._forget)

    def take(self, nbytes: int) -> bytes:
        with self._lock:
            if self._at + nbytes > len(self._bytes):
                self._bytes, self._at = os.urandom(max(POOL_BYTES, nbytes)), 0
            start = self._at
            self._at += nbytes
            return self._bytes[start : self._at]

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._bytes, self._at = b"", 0


_pool = _RandomPool()


def random_hex(nbytes: int) -> str:
    """As `secrets.token_hex`: `nbytes` random bytes from the kernel, in hex."""
    return _pool.take(nbytes).hex()


def random_urlsafe(nbytes: int) -> str:
    """As `secrets.token_urlsafe`: `nbytes` random bytes from the kernel, in URL-safe base64."""
    return base64.urlsafe_b64encode(_pool.take(nbytes)).rstrip(b"=").decode("ascii")


def new_id(prefix: str, nbytes: int = 12) -> str:
    return prefix + _pool.take(nbytes).hex()


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
