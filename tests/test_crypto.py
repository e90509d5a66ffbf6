"""Random ids: unique, and unique across processes forked from one another."""

from __future__ import annotations

import os
import re

from app.crypto import new_id, random_hex, random_urlsafe


def test_ids_are_unique_and_of_their_length() -> None:
    ids = {new_id("exe_") for _ in range(20_000)}  # several refills of the pool
    assert len(ids) == 20_000
    assert all(len(i) == 4 + 24 and int(i[4:], 16) >= 0 for i in ids)
    assert len(random_hex(8)) == 16
    assert len(random_hex(5000)) == 10_000  # more than a pool at once
    nonces = {random_urlsafe(16) for _ in range(1000)}  # a page's CSP nonce
    assert len(nonces) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", n) for n in nonces)


def test_a_forked_child_draws_ids_of_its_own() -> None:
    new_id("exe_")  # the parent's pool is full
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        os.write(write, "".join(new_id("") for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(child, 0)
    drawn = os.read(read, 10_000).decode()
    os.close(read)
    parents = "".join(new_id("") for _ in range(10))
    assert len(drawn) == len(parents) == 240
    assert drawn != parents
